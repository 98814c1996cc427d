// Turns a parsed YAML value into a LeashConfig: applies every default named in types.ts and checks
// every rule, collecting all problems. Kept free of file I/O so tests can feed values directly.

import { isIP } from "node:net";

import { parseBaseUrl } from "./base-url.ts";
import type { ConfigProblem } from "./errors.ts";
import { readTracing } from "./validate-tracing.ts";
import {
  childKey,
  describe,
  itemKey,
  type Mapping,
  Problems,
  readBoolean,
  readChoice,
  readInteger,
  readMapping,
  readString,
} from "./fields.ts";
import type {
  AdminConfig,
  LeashConfig,
  ListenerConfig,
  MockProviderConfig,
  ModuleConfig,
  ModulesConfig,
  WasmConfig,
  ProviderApi,
  ProviderConfig,
  QuotaModuleConfig,
  SidecarConfig,
  FailureMode,
  TracingConfig,
} from "./types.ts";
import { readInjectionModule, readRedactModule } from "./guard-modules.ts";

/** Environment the defaults read from (DATABASE_URL, REDIS_URL). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export const PROVIDER_APIS: readonly ProviderApi[] = ["openai", "anthropic"];
export const FAILURE_MODES: readonly FailureMode[] = ["closed", "open"];

const NAME_PATTERN: RegExp = /^[a-z0-9][a-z0-9-]*$/;
// Path segments of unreserved characters only: a prefix becomes an Envoy prefix match and part of
// the 404 message, so query strings, "//" or percent-escapes would only create confusing routes.
const PREFIX_PATTERN: RegExp = /^(\/[A-Za-z0-9._~-]+)+$/;
const ENV_NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/;
const POSTGRES_SCHEMES: readonly string[] = ["postgres:", "postgresql:"];
const REDIS_SCHEMES: readonly string[] = ["redis:", "rediss:"];
/** Answered by Envoy itself (see envoy/routes.ts). */
const RESERVED_PREFIXES: readonly string[] = ["/health"];

const MAX_PORT: number = 65535;
/** An hour: longer requests are a misconfiguration; unbounded streams use 0. */
const MAX_PROVIDER_TIMEOUT_MS: number = 3_600_000;
const MAX_CONNECT_TIMEOUT_MS: number = 60_000;
/** A module call sits on every request's path; a minute is already far beyond useful. */
const MAX_MODULE_TIMEOUT_MS: number = 60_000;
/** Largest output estimate a request may reserve by default: about the largest context windows. */
const MAX_DEFAULT_OUTPUT_TOKENS: number = 1_048_576;
/** Revocation must reach every replica within 2 s, and a filter may reuse an answer this long. */
const MAX_AUTH_CACHE_TTL_MS: number = 2_000;
/** Ten years: longer is "forever", which is 0. */
export const MAX_RETENTION_DAYS: number = 3650;

/** Validates a parsed document; `config` is set only when there are no problems. */
export function validateConfig(
  raw: unknown,
  env: ConfigEnv,
): { config: LeashConfig; problems: [] } | { config: undefined; problems: ConfigProblem[] } {
  const problems: Problems = new Problems();
  if (raw === null || raw === undefined) {
    problems.add("", "the file is empty; expected a mapping starting with `version: 1`");
    return { config: undefined, problems: problems.list };
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    // Every field check would fail too; one line says more than a dozen.
    problems.add("", `must be a mapping starting with \`version: 1\`, got ${describe(raw)}`);
    return { config: undefined, problems: problems.list };
  }
  const top: Mapping = readMapping(
    raw,
    "",
    ["version", "listener", "admin", "sidecar", "providers", "modules", "mock_provider", "tracing", "wasm"],
    problems,
  );
  if (top.version === undefined || top.version === null) problems.add("version", "is required and must be 1");
  else if (top.version !== 1) problems.add("version", `must be 1, got ${describe(top.version)}`);

  const listener: ListenerConfig = readListener(top.listener, problems);
  const admin: AdminConfig = readAdmin(top.admin, problems);
  const sidecar: SidecarConfig = readSidecar(top.sidecar, env, problems);
  const providers: ProviderConfig[] = readProviders(top.providers, problems);
  const modules: ModulesConfig = readModules(top.modules, problems);
  const mockProvider: MockProviderConfig = readMockProvider(top.mock_provider, problems);
  const tracing: TracingConfig = readTracing(top.tracing, problems);
  const wasm: WasmConfig = readWasm(top.wasm, problems);
  checkPortClashes(listener, admin, sidecar, mockProvider, problems);

  if (!problems.empty) return { config: undefined, problems: problems.list };
  return { config: { version: 1, listener, admin, sidecar, providers, modules, mock_provider: mockProvider, tracing, wasm }, problems: [] };
}

function readListener(value: unknown, problems: Problems): ListenerConfig {
  const key: string = "listener";
  const m: Mapping = readMapping(value, key, ["address", "port", "max_request_body_bytes"], problems);
  const address: string = readString(m, key, "address", "0.0.0.0", problems);
  // Envoy binds socket addresses only to IP literals, never to names.
  if (typeof m.address === "string" && isIP(address) === 0) {
    problems.add(childKey(key, "address"), `must be an IP address, got ${describe(address)}`);
  }
  return {
    address,
    port: readInteger(m, key, "port", 8080, 1, MAX_PORT, problems),
    max_request_body_bytes: readInteger(m, key, "max_request_body_bytes", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024, problems),
  };
}

function readMockProvider(value: unknown, problems: Problems): MockProviderConfig {
  const key: string = "mock_provider";
  const m: Mapping = readMapping(value, key, ["enabled", "port"], problems);
  return {
    enabled: readBoolean(m, key, "enabled", false, problems),
    port: readInteger(m, key, "port", 8082, 1, MAX_PORT, problems),
  };
}

function readAdmin(value: unknown, problems: Problems): AdminConfig {
  const key: string = "admin";
  const m: Mapping = readMapping(value, key, ["address", "port"], problems);
  const address: string = readString(m, key, "address", "127.0.0.1", problems);
  // The admin API can stop Envoy and dump its config (with secrets); it must never face a network.
  if (typeof m.address === "string" && !isLoopback(address)) {
    problems.add(
      childKey(key, "address"),
      `must be a loopback address (127.0.0.0/8, ::1 or localhost), got ${describe(address)}`,
    );
  }
  return { address, port: readInteger(m, key, "port", 9901, 1, MAX_PORT, problems) };
}

/** 127.0.0.0/8, ::1 or "localhost". */
export function isLoopback(address: string): boolean {
  if (address === "localhost") return true;
  if (isIP(address) === 4) return address.split(".")[0] === "127";
  return isIP(address) === 6 && address.toLowerCase() === "::1";
}

function readSidecar(value: unknown, env: ConfigEnv, problems: Problems): SidecarConfig {
  const key: string = "sidecar";
  const m: Mapping = readMapping(
    value,
    key,
    ["host", "grpc_port", "http_port", "database_url", "redis_url", "data_dir", "admin_address", "admin_port", "auth_cache_ttl_ms", "prices_file",
      "ledger_retention_days", "retention_interval_s"],
    problems,
  );
  const host: string = readString(m, key, "host", "127.0.0.1", problems);
  if (!isHostName(host)) {
    problems.add(childKey(key, "host"), `must be a host name or IP address, got ${describe(host)}`);
  }
  const adminAddress: string = readString(m, key, "admin_address", "127.0.0.1", problems);
  if (typeof m.admin_address === "string" && !isHostName(adminAddress)) {
    problems.add(childKey(key, "admin_address"), `must be a host name or IP address, got ${describe(adminAddress)}`);
  }
  const databaseUrl: string = readUrlWithEnv(m, key, "database_url", env, "DATABASE_URL", POSTGRES_SCHEMES, problems);
  const redisUrl: string = readUrlWithEnv(m, key, "redis_url", env, "REDIS_URL", REDIS_SCHEMES, problems);
  const dataDir: string = readString(m, key, "data_dir", ".leash/data", problems);
  if (dataDir.trim() === "") problems.add(childKey(key, "data_dir"), "must not be empty");
  return {
    host,
    grpc_port: readInteger(m, key, "grpc_port", 50051, 1, MAX_PORT, problems),
    http_port: readInteger(m, key, "http_port", 8081, 1, MAX_PORT, problems),
    database_url: databaseUrl,
    redis_url: redisUrl,
    data_dir: dataDir,
    admin_address: adminAddress,
    admin_port: readInteger(m, key, "admin_port", 8083, 1, MAX_PORT, problems),
    auth_cache_ttl_ms: readInteger(m, key, "auth_cache_ttl_ms", 1000, 0, MAX_AUTH_CACHE_TTL_MS, problems),
    // The file itself is read and checked by the sidecar at start (sidecar-services/src/prices.ts),
    // where a bad price names its key path; here only the type.
    prices_file: readString(m, key, "prices_file", "", problems),
    ledger_retention_days: readInteger(m, key, "ledger_retention_days", 0, 0, MAX_RETENTION_DAYS, problems),
    retention_interval_s: readInteger(m, key, "retention_interval_s", 3600, 0, 7 * 86400, problems),
  };
}

/** Something a server can bind and a client can dial: not blank, no whitespace or "/". */
function isHostName(host: string): boolean {
  return host.trim() !== "" && !/[\s/]/.test(host);
}

/** A connection URL that defaults to an environment variable; "" means "use the embedded store". */
function readUrlWithEnv(
  m: Mapping,
  parent: string,
  field: string,
  env: ConfigEnv,
  envName: string,
  schemes: readonly string[],
  problems: Problems,
): string {
  const fromFile: boolean = m[field] !== undefined && m[field] !== null;
  const value: string = readString(m, parent, field, env[envName] ?? "", problems);
  if (value === "") return value;
  let scheme: string = "";
  try {
    scheme = new URL(value).protocol;
  } catch {
    // Reported below with the same message as a wrong scheme.
  }
  if (!schemes.includes(scheme)) {
    const origin: string = fromFile ? "" : ` (from env ${envName})`;
    // Never echo the value: connection URLs usually carry a password.
    problems.add(childKey(parent, field), `must be a ${schemes.map((s) => `${s}//`).join(" or ")} URL${origin}`);
  }
  return value;
}

function readProviders(value: unknown, problems: Problems): ProviderConfig[] {
  const key: string = "providers";
  if (value === undefined || value === null) {
    problems.add(key, "is required: list at least one provider");
    return [];
  }
  if (!Array.isArray(value)) {
    problems.add(key, `must be a list, got ${describe(value)}`);
    return [];
  }
  if (value.length === 0) problems.add(key, "must list at least one provider");
  const providers: ProviderConfig[] = value.map((item: unknown, i: number): ProviderConfig =>
    readProvider(item, itemKey(key, i), problems),
  );
  checkProviderSet(value, providers, problems);
  return providers;
}

function readProvider(value: unknown, key: string, problems: Problems): ProviderConfig {
  if (value === null || value === undefined) {
    problems.add(key, "must be a mapping with at least name and base_url");
    return readProvider({ name: "", base_url: "" }, key, new Problems());
  }
  const m: Mapping = readMapping(
    value,
    key,
    ["name", "api", "prefix", "base_url", "api_key_env", "timeout_ms", "connect_timeout_ms", "tls_verify", "tls_ca_file"],
    problems,
  );

  const name: string = readString(m, key, "name", undefined, problems);
  if (typeof m.name === "string" && !NAME_PATTERN.test(name)) {
    problems.add(childKey(key, "name"), `must match [a-z0-9][a-z0-9-]*, got ${describe(name)}`);
  }
  const prefix: string = readString(m, key, "prefix", `/${name}`, problems);
  checkPrefix(prefix, childKey(key, "prefix"), problems);

  const baseUrl: string = readString(m, key, "base_url", undefined, problems);
  if (typeof m.base_url === "string") {
    const parsed = parseBaseUrl(baseUrl);
    if ("error" in parsed) problems.add(childKey(key, "base_url"), parsed.error);
  }
  const apiKeyEnv: string = readString(m, key, "api_key_env", "", problems);
  if (apiKeyEnv !== "" && !ENV_NAME_PATTERN.test(apiKeyEnv)) {
    problems.add(childKey(key, "api_key_env"), `must be an environment variable name, got ${describe(apiKeyEnv)}`);
  }
  const caFile: string = readString(m, key, "tls_ca_file", "", problems);
  if (caFile !== "" && !caFile.startsWith("/")) {
    problems.add(childKey(key, "tls_ca_file"), `must be an absolute path, got ${describe(caFile)}`);
  }
  return {
    name,
    api: readChoice(m, key, "api", PROVIDER_APIS, "openai", problems),
    prefix,
    base_url: baseUrl,
    api_key_env: apiKeyEnv,
    timeout_ms: readInteger(m, key, "timeout_ms", 300_000, 0, MAX_PROVIDER_TIMEOUT_MS, problems),
    connect_timeout_ms: readInteger(m, key, "connect_timeout_ms", 5_000, 1, MAX_CONNECT_TIMEOUT_MS, problems),
    tls_verify: readBoolean(m, key, "tls_verify", true, problems),
    tls_ca_file: caFile,
  };
}

function checkPrefix(prefix: string, key: string, problems: Problems): void {
  if (prefix === "/") {
    problems.add(key, `must not be "/" (a provider cannot own every path)`);
  } else if (!prefix.startsWith("/")) {
    problems.add(key, `must start with "/", got ${describe(prefix)}`);
  } else if (prefix.endsWith("/")) {
    problems.add(key, `must not end with "/", got ${describe(prefix)}`);
  } else if (!PREFIX_PATTERN.test(prefix)) {
    problems.add(key, `must be path segments of letters, digits and . _ ~ -, got ${describe(prefix)}`);
  } else if (RESERVED_PREFIXES.includes(prefix)) {
    problems.add(key, `${describe(prefix)} is reserved by the gateway`);
  }
}

/** Rules across providers: unique names, unique prefixes, no prefix inside another. */
function checkProviderSet(raw: unknown[], providers: ProviderConfig[], problems: Problems): void {
  const nameOwner: Map<string, number> = new Map();
  const prefixes: { prefix: string; index: number }[] = [];
  providers.forEach((p: ProviderConfig, i: number): void => {
    const item: Mapping = (typeof raw[i] === "object" && raw[i] !== null ? raw[i] : {}) as Mapping;
    if (typeof item.name === "string" && p.name !== "") {
      const first: number | undefined = nameOwner.get(p.name);
      if (first !== undefined) {
        problems.add(`${itemKey("providers", i)}.name`, `duplicates providers[${first}].name ${describe(p.name)}`);
      } else {
        nameOwner.set(p.name, i);
      }
    }
    const here: string = itemKey("providers", i) + ".prefix";
    // An invalid prefix is already reported; comparing it would add noise about its neighbours.
    if (p.name === "" || problems.hasKey(here)) return;
    for (const other of prefixes) {
      const there: string = `providers[${other.index}].prefix`;
      if (other.prefix === p.prefix) {
        problems.add(here, `${describe(p.prefix)} duplicates ${there}`);
      } else if (p.prefix.startsWith(other.prefix + "/")) {
        problems.add(here, `${describe(p.prefix)} is nested in ${there} ${describe(other.prefix)}`);
      } else if (other.prefix.startsWith(p.prefix + "/")) {
        problems.add(here, `${describe(p.prefix)} contains ${there} ${describe(other.prefix)}`);
      }
    }
    prefixes.push({ prefix: p.prefix, index: i });
  });
}

function readModules(value: unknown, problems: Problems): ModulesConfig {
  const m: Mapping = readMapping(value, "modules", ["auth", "quota", "usage", "redact", "injection"], problems);
  return {
    auth: readModule(m.auth, "modules.auth", 250, problems),
    quota: readQuotaModule(m.quota, problems),
    // Reports are sent after the response, off the request's path: a longer deadline costs nothing.
    usage: readModule(m.usage, "modules.usage", 1000, problems),
    redact: readRedactModule(m.redact, "modules.redact", problems),
    injection: readInjectionModule(m.injection, "modules.injection", problems),
  };
}

const MODULE_FIELDS: readonly string[] = ["enabled", "failure_mode", "timeout_ms"];

function readModule(
  value: unknown,
  key: string,
  defaultTimeoutMs: number,
  problems: Problems,
  extraFields: readonly string[] = [],
): ModuleConfig {
  const m: Mapping = readMapping(value, key, [...MODULE_FIELDS, ...extraFields], problems);
  return {
    enabled: readBoolean(m, key, "enabled", true, problems),
    failure_mode: readChoice(m, key, "failure_mode", FAILURE_MODES, "closed", problems),
    timeout_ms: readInteger(m, key, "timeout_ms", defaultTimeoutMs, 1, MAX_MODULE_TIMEOUT_MS, problems),
  };
}

function readQuotaModule(value: unknown, problems: Problems): QuotaModuleConfig {
  const key: string = "modules.quota";
  // The Reserve call sits on every request's path, like auth's Authorize: the same deadline.
  const base: ModuleConfig = readModule(value, key, 250, problems, ["default_output_tokens", "lease_ttl_ms", "lease_max_requests", "lease_max_tokens"]);
  // readModule already reported a non-mapping; reading it again would only repeat that.
  const m: Mapping = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Mapping) : {};
  return {
    ...base,
    default_output_tokens: readInteger(m, key, "default_output_tokens", 1024, 1, MAX_DEFAULT_OUTPUT_TOKENS, problems),
    // Longer leases hold more of a limit in VMs and delay the rolling minute's accounting more.
    lease_ttl_ms: readInteger(m, key, "lease_ttl_ms", 1000, 0, 1000, problems),
    lease_max_requests: readInteger(m, key, "lease_max_requests", 1000, 1, 10000, problems),
    lease_max_tokens: readInteger(m, key, "lease_max_tokens", 2000000, 1, 100000000, problems),
  };
}

/**
 * Envoy's listener and admin always share a host, and so do the sidecar's three servers (gRPC, HTTP,
 * admin API); the sidecar shares Envoy's host only when it is reached over loopback.
 */
function checkPortClashes(
  listener: ListenerConfig,
  admin: AdminConfig,
  sidecar: SidecarConfig,
  mock: MockProviderConfig,
  problems: Problems,
): void {
  type Port = { key: string; port: number };
  // The mock provider (when enabled) binds 127.0.0.1 on the same machine as Envoy.
  const envoyPorts: Port[] = [
    { key: "listener.port", port: listener.port },
    { key: "admin.port", port: admin.port },
    ...(mock.enabled ? [{ key: "mock_provider.port", port: mock.port }] : []),
  ];
  // The admin API runs in the sidecar process, so it shares the sidecar's machine whatever its address.
  const sidecarPorts: Port[] = [
    { key: "sidecar.grpc_port", port: sidecar.grpc_port },
    { key: "sidecar.http_port", port: sidecar.http_port },
    { key: "sidecar.admin_port", port: sidecar.admin_port },
  ];
  const hosts: Port[][] = isLoopback(sidecar.host) ? [[...envoyPorts, ...sidecarPorts]] : [envoyPorts, sidecarPorts];
  for (const host of hosts) {
    // A port that already failed its own check holds its default; comparing it would invent clashes.
    const checked: Port[] = host.filter((p: Port): boolean => !problems.hasKey(p.key));
    checked.forEach((p: Port, i: number): void => {
      const clash: Port | undefined = checked.slice(0, i).find((earlier: Port): boolean => earlier.port === p.port);
      if (clash !== undefined) problems.add(p.key, `must differ from ${clash.key} (${clash.port})`);
    });
  }
}

function readWasm(value: unknown, problems: Problems): WasmConfig {
  const m: Mapping = readMapping(value, "wasm", ["shared_vm", "chain"], problems);
  const sharedVm: boolean = readBoolean(m, "wasm", "shared_vm", true, problems);
  const chain: boolean = readBoolean(m, "wasm", "chain", sharedVm, problems);
  if (chain && !sharedVm) problems.add("wasm.chain", "needs wasm.shared_vm: true (the modules of one filter run in one VM)");
  return { shared_vm: sharedVm, chain };
}
