// The Leash targets, all from the real config path (YAML → config/load.ts → envoy/generate.ts):
//   envoy-bare  the generated Envoy with every module off — no wasm, no sidecar; what Envoy
//               itself costs (routing, access log, request ids).
//   leash-auth  the auth module alone: Envoy + the release auth.wasm + the sidecar bundle on a
//               fresh PostgreSQL database and Redis, a tenant key as the client credential.
//   leash-auth-control  a second leash-auth, identical: an A/A control. Its difference from
//               leash-auth in the same run is what noise alone makes of a difference between two
//               targets (bench/report/module-cost.ts lists it beside the modules' costs).
//   leash-quota auth + quota, with a tenant whose limits are set (high enough never to refuse), so
//               every request makes the Reserve round trip; minus leash-auth = what quota adds.
//               LEASH_BENCH_QUOTA_LEASE_TTL_MS=<ms> sets modules.quota.lease_ttl_ms (unset: the
//               gateway's default, 1000 ms leases; 0: one Reserve per limited request).
//   leash-usage the usage module alone (metering every response into the ledger), no auth.
//   leash-redact    the redact module alone (PII/secret scan and rewrite of every prompt string,
//                   replies too), no sidecar: what the guard costs on the request path.
//   leash-injection the injection module alone (prompt-injection scoring), no sidecar.
//   leash-full  every module, in the shipped order (auth, redact, injection, quota, usage): the
//               gateway as shipped, with a tenant whose limits exist (so quota enforces them) but
//               are never reached.
//   leash-full-filters   leash-full with wasm.chain: false (one VM, but each module its own filter).
//   leash-full-separate  leash-full with wasm.shared_vm: false (each module in its own VM and filter).
//   leash-full-no-redact, leash-full-no-injection, leash-full-no-quota, leash-full-no-usage
//                        leash-full with that one module off (the others in the same chain filter):
//                        leash-full minus one of them, in the same rounds, is what that module costs
//                        inside the chain (auth has no such target: quota needs its tenant).
//   leash-full-baseline  leash-full on the build in LEASH_BENCH_BASELINE_BUILD (another checkout's
//                        build/): a change measured against the build before it, in the same rounds.
// Envoy's access log goes to a file in the run's work dir, as it would to a log collector.

import { sidecarCommand } from "../../cli/processes.ts";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { parseConfig } from "../../config/load.ts";
import type { LeashConfig } from "../../config/types.ts";
import { findEnvoy } from "../../envoy/find-envoy.ts";
import { writeEnvoyConfig } from "../../envoy/generate.ts";
import { wasmFilesFor } from "../../envoy/wasm-filters.ts";
import { createPostgresDb, type Db } from "../../sidecar-services/src/db.ts";
import { createApiKey, createTenant } from "../../sidecar-services/src/keys.ts";
import { patchTenantQuota } from "../../sidecar-services/src/quota-admin.ts";
import { freePort, httpGet, waitFor } from "../../test/integration/envoy-harness.ts";
import { integer } from "../cli/options.ts";
import type { RequestSpec } from "../load/http-call.ts";
import { ManagedProcess } from "../procs/child.ts";
import { pidsByName } from "../procs/proc-stats.ts";
import { MOCK_CLIENT_KEY } from "./direct.ts";
import { BASELINE_BUILD, BASELINE_BUILD_MISSING, SIDECAR_BUNDLE, WASM_DIR } from "./paths.ts";
import { createBenchDatabase, REDIS_URL } from "./postgres.ts";
import type { RunningTarget, TargetContext } from "./types.ts";

const PROVIDER_KEY_ENV: string = "LEASH_BENCH_PROVIDER_KEY";
/** rpm and tpm of the leash-quota tenant: the schema's maximum, far beyond any run. */
const LIMIT_NEVER_REACHED: number = 1e12;
/** Route prefix of the mock provider in the generated config. */
const PREFIX: string = "/mock";
/**
 * modules.quota.lease_ttl_ms of the Leash targets (ADR 0004) when LEASH_BENCH_QUOTA_LEASE_TTL_MS
 * is set (0 = no leases: one Reserve per limited request); unset = the shipped default.
 */
const QUOTA_LEASE_TTL_MS: number | null =
  process.env.LEASH_BENCH_QUOTA_LEASE_TTL_MS === undefined ? null : Number(process.env.LEASH_BENCH_QUOTA_LEASE_TTL_MS) || 0;
/** modules.quota.lease_max_requests when LEASH_BENCH_QUOTA_LEASE_MAX_REQUESTS is set; unset = the shipped default. */
const QUOTA_LEASE_MAX_REQUESTS: number | null =
  process.env.LEASH_BENCH_QUOTA_LEASE_MAX_REQUESTS === undefined ? null : Number(process.env.LEASH_BENCH_QUOTA_LEASE_MAX_REQUESTS) || 1;

/**
 * Envoy's worker threads in every bench target: 1 (one worker for the one core a target gets when
 * pinned), or LEASH_BENCH_ENVOY_CONCURRENCY, for runs that give the gateway more cores (`--pin off`).
 */
export function envoyConcurrency(env: NodeJS.ProcessEnv): number {
  const text: string | undefined = env.LEASH_BENCH_ENVOY_CONCURRENCY;
  return text === undefined || text === "" ? 1 : integer("LEASH_BENCH_ENVOY_CONCURRENCY", text, 1, 64);
}
const ENVOY_CONCURRENCY: number = envoyConcurrency(process.env);

let envoyCount: number = 0;

/**
 * Envoy names its shared memory after --base-id; two Envoys on one id refuse to start, so each
 * one here gets its own, derived from this process's pid like the test harness does.
 */
function nextBaseId(): number {
  envoyCount += 1;
  return (process.pid % 100_000) * 100 + 50 + envoyCount;
}

/** "1.40.0" from `envoy --version`, or "unknown". */
export function envoyVersion(): string {
  const run = spawnSync(findEnvoy(), ["--version"], { encoding: "utf8" });
  const match: RegExpMatchArray | null = `${run.stdout}`.match(/\/(\d+\.\d+\.\d+)\//);
  return match === null ? "unknown" : match[1];
}

interface Ports {
  listener: number;
  admin: number;
  grpc: number;
  http: number;
  /** The sidecar's admin API port, for config versions that have one (null: this one has none). */
  sidecarAdmin: number | null;
}

/**
 * Whether this checkout's config knows sidecar.admin_port (the admin API of issue 3). Unknown
 * keys are refused, and a fixed default port could clash with another gateway on the machine,
 * so the port is set, free, exactly when the schema has it.
 */
function hasSidecarAdminPort(): boolean {
  const probe: LeashConfig = parseConfig("version: 1\nproviders: [{ name: p, base_url: 'http://127.0.0.1:1' }]\n", "probe", {});
  return "admin_port" in probe.sidecar;
}

const DESCRIPTIONS: Record<string, string> = {
  "envoy-bare": "the same generated Envoy config with every module off (no wasm, no sidecar)",
  "leash-auth": `Envoy --concurrency ${ENVOY_CONCURRENCY} + auth.wasm (V8) + sidecar (Node) on a fresh PostgreSQL database and Redis; tenant key auth`,
  "leash-auth-control": "a second leash-auth, identical (own Envoy, sidecar and database): an A/A control, what the machine's noise alone makes of a difference between two targets",
  "leash-quota": QUOTA_LEASE_TTL_MS === 0
    ? `Envoy --concurrency ${ENVOY_CONCURRENCY} + auth.wasm + quota.wasm + sidecar (Node) on PostgreSQL and Redis; a tenant with rpm/tpm limits it never reaches; leases off: one Reserve per request`
    : `Envoy --concurrency ${ENVOY_CONCURRENCY} + auth.wasm + quota.wasm + sidecar (Node) on PostgreSQL and Redis; a tenant with rpm/tpm limits it never reaches; leases of ${QUOTA_LEASE_TTL_MS ?? "1000 (the default)"} ms, renewed in the background: most requests make no Reserve`,
  "leash-usage": `Envoy --concurrency ${ENVOY_CONCURRENCY} + usage.wasm (V8) + sidecar (Node): every response metered into the usage ledger; no auth`,
  "leash-redact": `Envoy --concurrency ${ENVOY_CONCURRENCY} + redact.wasm (V8): every prompt string scanned for PII and secrets, replies too; no sidecar`,
  "leash-injection": `Envoy --concurrency ${ENVOY_CONCURRENCY} + injection.wasm (V8): every prompt scored for injection; no sidecar`,
  "leash-full": `Envoy --concurrency ${ENVOY_CONCURRENCY} + auth, redact, injection, quota and usage wasm + sidecar (Node) on PostgreSQL and Redis: the gateway as shipped, a tenant with limits it never reaches`,
  "leash-full-filters": "leash-full with wasm.chain: false: one VM, each module its own filter (the default from 2026-11-26 late evening until the chain)",
  "leash-full-separate": "leash-full with wasm.shared_vm: false: each module in its own VM from its own binary (before 2026-11-26 late evening, the default)",
  "leash-full-no-redact": "leash-full without the redact module: leash-full minus this is what redact costs inside the chain",
  "leash-full-no-injection": "leash-full without the injection module: leash-full minus this is what injection costs inside the chain",
  "leash-full-no-quota": "leash-full without the quota module: leash-full minus this is what quota costs inside the chain",
  "leash-full-no-usage": "leash-full without the usage module (no usage reports to the sidecar): leash-full minus this is what usage costs inside the chain",
  "leash-full-baseline": `leash-full on another build (LEASH_BENCH_BASELINE_BUILD=${BASELINE_BUILD ?? "unset"}: its filter modules and sidecar), in the same rounds: a change against the build before it`,
};

export type LeashTargetName = "envoy-bare" | "leash-auth" | "leash-auth-control" | "leash-quota" | "leash-usage" | "leash-redact" | "leash-injection" | "leash-full" | "leash-full-filters" | "leash-full-separate" | "leash-full-no-redact" | "leash-full-no-injection" | "leash-full-no-quota" | "leash-full-no-usage" | "leash-full-baseline";

/** Which modules each Leash target runs; every target names every module (quota is on by default). */
export type Modules = { auth: boolean; redact: boolean; injection: boolean; quota: boolean; usage: boolean };
const NONE: Modules = { auth: false, redact: false, injection: false, quota: false, usage: false };
const MODULES: Record<LeashTargetName, Modules> = {
  "envoy-bare": NONE,
  "leash-auth": { ...NONE, auth: true },
  "leash-auth-control": { ...NONE, auth: true },
  "leash-quota": { ...NONE, auth: true, quota: true },
  "leash-usage": { ...NONE, usage: true },
  "leash-redact": { ...NONE, redact: true },
  "leash-injection": { ...NONE, injection: true },
  "leash-full": { auth: true, redact: true, injection: true, quota: true, usage: true },
  "leash-full-filters": { auth: true, redact: true, injection: true, quota: true, usage: true },
  "leash-full-separate": { auth: true, redact: true, injection: true, quota: true, usage: true },
  "leash-full-no-redact": { auth: true, redact: false, injection: true, quota: true, usage: true },
  "leash-full-no-injection": { auth: true, redact: true, injection: false, quota: true, usage: true },
  "leash-full-no-quota": { auth: true, redact: true, injection: true, quota: false, usage: true },
  "leash-full-no-usage": { auth: true, redact: true, injection: true, quota: true, usage: false },
  "leash-full-baseline": { auth: true, redact: true, injection: true, quota: true, usage: true },
};

/** Which modules `name` turns on (a copy). */
export function targetModules(name: LeashTargetName): Modules {
  return { ...MODULES[name] };
}

/** How a target's modules run (docs/configuration.md `wasm`): as shipped unless listed here. */
type WasmLayout = { shared_vm: boolean; chain: boolean };
const SHIPPED_LAYOUT: WasmLayout = { shared_vm: true, chain: true };
const LAYOUTS: Partial<Record<LeashTargetName, WasmLayout>> = {
  "leash-full-filters": { shared_vm: true, chain: false },
  "leash-full-separate": { shared_vm: false, chain: false },
};

function configYaml(ports: Ports, mockUrl: string, modules: Modules, layout: WasmLayout, databaseUrl: string, dataDir: string): string {
  // Defaults everywhere else (auth timeout 250 ms, fail closed), as a user would run it.
  return `
version: 1
listener: { address: 127.0.0.1, port: ${ports.listener} }
admin: { address: 127.0.0.1, port: ${ports.admin} }
sidecar:
  host: 127.0.0.1
  grpc_port: ${ports.grpc}
  http_port: ${ports.http}${ports.sidecarAdmin === null ? "" : `\n  admin_port: ${ports.sidecarAdmin}`}
  database_url: "${databaseUrl}"
  redis_url: "${REDIS_URL}"
  data_dir: "${dataDir}"
providers:
  - { name: mock, api: openai, prefix: ${PREFIX}, base_url: "${mockUrl}", api_key_env: ${PROVIDER_KEY_ENV} }
modules:
  auth: { enabled: ${modules.auth} }
  redact: { enabled: ${modules.redact} }
  injection: { enabled: ${modules.injection} }
  quota: { enabled: ${modules.quota}${QUOTA_LEASE_TTL_MS !== null ? `, lease_ttl_ms: ${QUOTA_LEASE_TTL_MS}` : ""}${QUOTA_LEASE_MAX_REQUESTS !== null ? `, lease_max_requests: ${QUOTA_LEASE_MAX_REQUESTS}` : ""} }
  usage: { enabled: ${modules.usage} }
wasm: { shared_vm: ${layout.shared_vm}, chain: ${layout.chain} }
`;
}

function requireBuilt(modules: Modules, config: LeashConfig, wasmDir: string, sidecarBundle: string): void {
  const missing: string[] = wasmFilesFor(config, wasmDir).filter((f: string) => !existsSync(f));
  if ((modules.auth || modules.quota || modules.usage) && !existsSync(sidecarBundle)) missing.push(sidecarBundle);
  if (missing.length > 0) throw new Error(`missing build output (run \`npm run build\`): ${missing.join(", ")}`);
}

async function startEnvoy(name: string, bootstrap: string, ports: Ports, ctx: TargetContext): Promise<ManagedProcess> {
  // --concurrency 1 unless set otherwise: one worker thread, matching the one core the target gets.
  const envoy: ManagedProcess = new ManagedProcess({
    name,
    command: findEnvoy(),
    args: ["-c", bootstrap, "--concurrency", String(ENVOY_CONCURRENCY), "--base-id", String(nextBaseId()), "--log-level", "warn"],
    logFile: join(ctx.workDir, `${name}.envoy.log`),
    pin: ctx.pin,
    cores: ctx.pin.targetCores,
  });
  await waitFor(
    `${name} Envoy /ready`,
    async () => {
      if (envoy.exited) throw new Error(`Envoy ${envoy.describeExit()}: ${envoy.logTail()}`);
      return (await httpGet(ports.admin, "/ready")).status === 200 ? true : undefined;
    },
    30_000,
  );
  // /ready means the server is live; the listener from LDS may bind a moment later.
  await waitFor(`${name} listener`, async () => ((await httpGet(ports.listener, "/health")).status === 200 ? true : undefined), 15_000);
  return envoy;
}

/** The filter modules and sidecar a target runs: the baseline's build for leash-full-baseline. */
function buildOf(name: LeashTargetName, ctx: TargetContext): { wasmDir: string; sidecar: string } {
  if (name !== "leash-full-baseline") return { wasmDir: ctx.wasmDir ?? WASM_DIR, sidecar: SIDECAR_BUNDLE };
  if (BASELINE_BUILD === null) throw new Error(BASELINE_BUILD_MISSING);
  return { wasmDir: join(BASELINE_BUILD, "release"), sidecar: join(BASELINE_BUILD, "sidecar", "main.js") };
}

/** Starts one of the Leash targets (see the top of this file). */
export async function startLeash(ctx: TargetContext, name: LeashTargetName): Promise<RunningTarget> {
  const modules = MODULES[name];
  const auth: boolean = modules.auth;
  // Any module calls the sidecar (auth and quota to decide, usage to report).
  const withSidecar: boolean = modules.auth || modules.quota || modules.usage;
  const build = buildOf(name, ctx);
  const wasmDir: string = build.wasmDir;
  const dir: string = join(ctx.workDir, name);
  mkdirSync(dir, { recursive: true });
  const ports: Ports = {
    listener: await freePort(),
    admin: await freePort(),
    grpc: await freePort(),
    http: await freePort(),
    sidecarAdmin: hasSidecarAdminPort() ? await freePort() : null,
  };
  // envoy-bare never starts the sidecar, so it needs no database; the config still names one.
  const databaseUrl: string = withSidecar ? await createBenchDatabase() : "";
  const yaml: string = configYaml(ports, ctx.mockUrl, modules, LAYOUTS[name] ?? SHIPPED_LAYOUT, databaseUrl, join(dir, "data"));
  const configPath: string = join(dir, "leash.yaml");
  writeFileSync(configPath, yaml);
  const config: LeashConfig = parseConfig(yaml, configPath, {});
  requireBuilt(modules, config, wasmDir, build.sidecar);

  const processes: Record<string, number[]> = {};
  let clientKey: string = MOCK_CLIENT_KEY;
  if (withSidecar) {
    const pepper: string = randomBytes(32).toString("hex");
    // As `leash start` runs it (cli/processes.ts: SIDECAR_NODE_FLAGS, SIDECAR_NICE, LEASH_SIDECAR_NICE).
    // LEASH_BENCH_SIDECAR_NODE_ARGS: extra node flags for the sidecar (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it).
    const [command, args] = sidecarCommand(process.env, build.sidecar, ["--config", configPath],
      (process.env.LEASH_BENCH_SIDECAR_NODE_ARGS ?? "").split(" ").filter((a: string) => a !== ""));
    const sidecar: ManagedProcess = new ManagedProcess({
      name: `${name}-sidecar`,
      command,
      args,
      // The master key and admin token are for sidecars that have them (issue 3); older ones ignore them.
      env: {
        ...process.env,
        LEASH_KEY_PEPPER: pepper,
        LEASH_MASTER_KEY: randomBytes(32).toString("base64"),
        LEASH_ADMIN_TOKEN: randomBytes(24).toString("hex"),
        LEASH_DEMO_TENANT: "0",
        [PROVIDER_KEY_ENV]: "sk-provider-bench",
      },
      logFile: join(dir, "sidecar.log"),
      pin: ctx.pin,
      cores: ctx.pin.targetCores,
    });
    await waitFor(
      "sidecar /health",
      async () => {
        if (sidecar.exited) throw new Error(`sidecar ${sidecar.describeExit()}: ${sidecar.logTail()}`);
        return (await httpGet(ports.http, "/health")).status === 200 ? true : undefined;
      },
      30_000,
    );
    processes.sidecar = [sidecar.pid];
    if (auth) {
      // A tenant and key created the way an operator would (`leash keys create`), through the same code.
      const db: Db = createPostgresDb({ connectionString: databaseUrl });
      try {
        const tenant = await createTenant(db, "bench");
        clientKey = (await createApiKey(db, tenant.id, pepper)).key;
        // Targets with quota: limits that exist (so quota reserves, in Redis, on every request) but
        // that no run reaches; set through the same code as `leash limits set`.
        if (modules.quota) await patchTenantQuota(db, tenant.id, { rpm: LIMIT_NEVER_REACHED, tpm: LIMIT_NEVER_REACHED });
      } finally {
        await db.close();
      }
    }
  }

  writeEnvoyConfig(config, { wasmDir, outDir: join(dir, "envoy") });
  const envoy: ManagedProcess = await startEnvoy(name, join(dir, "envoy", "bootstrap.yaml"), ports, ctx);
  processes.envoy = [envoy.pid];

  return {
    name,
    description: DESCRIPTIONS[name],
    version: `envoy ${envoyVersion()}`,
    request(body: Buffer, stream: boolean): RequestSpec {
      return {
        host: "127.0.0.1",
        port: ports.listener,
        path: `${PREFIX}/v1/chat/completions`,
        headers: { authorization: `Bearer ${clientKey}` },
        body,
        stream,
      };
    },
    processes,
    // Whole servers (every process named so on the machine): only leash-auth talks to them here,
    // but other users of the machine may too.
    dependencies: withSidecar ? { postgres: pidsByName("postgres"), redis: pidsByName("redis-server") } : {},
  };
}
