// docker-compose.yaml and deploy/compose/ checked against the config they deploy. There is no Docker
// engine in the test environment, so this is the only check the compose setup gets: it reads
// docker-compose.yaml, deploy/compose/leash.yaml (through the real loader), deploy/compose/prometheus.yml
// and the generate command in deploy/compose/README.md, generates the Envoy config exactly as
// `bin/leash config generate` would inside the leash-cli container, and asserts that ports, service
// names, scrape targets and mounted paths agree.

import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, posix, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { parse } from "yaml";

import { ROOT as CLI_ROOT, WASM_DIR as CLI_WASM_DIR } from "../../cli/paths.ts";
import { SIDECAR_NODE_FLAGS } from "../../cli/processes.ts";
import { parseBaseUrl } from "../../config/base-url.ts";
import { loadConfig } from "../../config/load.ts";
import type { LeashConfig, ProviderConfig } from "../../config/types.ts";
import { isLoopback } from "../../config/validate.ts";
import { BOOTSTRAP_FILE, CDS_FILE, LDS_FILE } from "../../envoy/bootstrap.ts";
import { generateEnvoyConfig, type PluginConfig } from "../../envoy/generate.ts";
import { SIDECAR_CLUSTER } from "../../envoy/names.ts";

const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));
const COMPOSE_FILE: string = join(ROOT, "docker-compose.yaml");
const COMPOSE_CONFIG: string = join(ROOT, "deploy/compose/leash.yaml");
const PROMETHEUS_FILE: string = join(ROOT, "deploy/compose/prometheus.yml");
const README_FILE: string = join(ROOT, "deploy/compose/README.md");
/** Where the image reads its config unless told otherwise. */
const PROMETHEUS_DEFAULT_CONFIG: string = "/etc/prometheus/prometheus.yml";

// ---- the files, parsed ------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  working_dir?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  network_mode?: string;
  healthcheck?: { test?: string[] };
  profiles?: string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** A short-syntax bind mount, its host side resolved against the project directory (the root). */
interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** A short-syntax port: "[ip:]host:container". */
interface PublishedPort {
  ip: string;
  host: number;
  container: number;
}

interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  static_configs: { targets: string[] }[];
}

const compose: ComposeFile = parse(readFileSync(COMPOSE_FILE, "utf8")) as ComposeFile;

function service(name: string): ComposeService {
  const s: ComposeService | undefined = compose.services[name];
  assert.ok(s, `docker-compose.yaml has no service ${JSON.stringify(name)}`);
  return s;
}

/** Bind mounts only: named volumes (no "." or "/" source) have no host path to check. */
function mounts(s: ComposeService): Mount[] {
  return (s.volumes ?? [])
    .map((spec: string): string[] => spec.split(":"))
    .filter(([source]: string[]): boolean => source.startsWith(".") || source.startsWith("/"))
    .map(([source, target, mode]: string[]): Mount => ({
      source: resolve(ROOT, source),
      target,
      readOnly: mode === "ro",
    }));
}

/** The host path behind `containerPath` in `s`, through its deepest covering mount. */
function hostPath(s: ComposeService, containerPath: string): string | undefined {
  const covering: Mount[] = mounts(s)
    .filter((m: Mount): boolean => containerPath === m.target || containerPath.startsWith(m.target + "/"))
    .sort((a: Mount, b: Mount): number => b.target.length - a.target.length);
  if (covering.length === 0) return undefined;
  return join(covering[0].source, posix.relative(covering[0].target, containerPath));
}

function ports(s: ComposeService): PublishedPort[] {
  return (s.ports ?? []).map((spec: string): PublishedPort => {
    const parts: string[] = spec.split(":");
    const [ip, host, container] = parts.length === 3 ? parts : ["0.0.0.0", ...parts];
    return { ip, host: Number(host), container: Number(container) };
  });
}

/** Value following `flag` in an argv-style command. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  const i: number = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The repository inside the Node containers: the mount whose source is the project directory. */
function repoMount(s: ComposeService): Mount {
  const m: Mount | undefined = mounts(s).find((x: Mount): boolean => relative(ROOT, x.source) === "");
  assert.ok(m, "expected the repository (.) to be mounted");
  return m;
}

// The Envoy files are generated by the leash-cli service (see the README). bin/leash resolves its
// checkout from its own location, so inside that container the CLI's ROOT is the repository mount.
const cli: ComposeService = service("leash-cli");
const repoInContainer: string = repoMount(cli).target;

const readme: string = readFileSync(README_FILE, "utf8");
const generateCommand: RegExpMatchArray | null = readme.match(/config generate --config (\S+) --out (\S+)/);
assert.ok(generateCommand, "deploy/compose/README.md must show `config generate --config FILE --out DIR`");
const [, readmeConfigArg, readmeOutArg] = generateCommand;

// The sidecar's environment as the loader sees it; interpolated values (${...}) are not known here.
const sidecarEnv: Record<string, string> = Object.fromEntries(
  Object.entries(service("sidecar").environment ?? {}).filter(([, v]: [string, string]): boolean => !v.includes("${")),
);
const cfg: LeashConfig = loadConfig(COMPOSE_CONFIG, sidecarEnv);

const outDirInContainer: string = posix.resolve(repoInContainer, readmeOutArg);
const wasmDirInContainer: string = posix.join(repoInContainer, relative(CLI_ROOT, CLI_WASM_DIR));
const generated: Record<string, string> = generateEnvoyConfig(cfg, {
  wasmDir: wasmDirInContainer,
  outDir: outDirInContainer,
});
type Any = any;
const bootstrap: Any = parse(generated[BOOTSTRAP_FILE]);
const lds: Any = parse(generated[LDS_FILE]);
const cds: Any = parse(generated[CDS_FILE]);

const prometheus: { scrape_configs: ScrapeJob[] } = parse(readFileSync(PROMETHEUS_FILE, "utf8"));

/** Every value of key `key` anywhere in `node`. */
function collect(node: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const item of node) collect(item, key, out);
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
  return out;
}

/** The address Envoy's admin actually binds (the generator maps "localhost" to 127.0.0.1). */
function adminBindAddress(): string {
  return bootstrap.admin.address.socket_address.address;
}

// ---- the checks ---------------------------------------------------------------------------------

describe("docker-compose.yaml against deploy/compose/leash.yaml", () => {
  test("the README's generate command uses the compose config and runs where the repo is mounted", () => {
    assert.equal(resolve(ROOT, readmeConfigArg), COMPOSE_CONFIG);
    assert.equal(cli.working_dir, repoInContainer, "leash-cli must run in the mounted checkout");
    assert.equal(cli.entrypoint?.[0], posix.join(repoInContainer, "bin/leash"));
    assert.equal(repoMount(cli).readOnly, false, "leash-cli writes the Envoy files, so the repo mount must be writable");
  });

  test("the Envoy image is the Envoy version the test suite installs", () => {
    const script: string = readFileSync(join(ROOT, "scripts/envoy-install.sh"), "utf8");
    const version: RegExpMatchArray | null = script.match(/LEASH_ENVOY_VERSION:-(\d+)\.(\d+)\./);
    assert.ok(version, "scripts/envoy-install.sh: default LEASH_ENVOY_VERSION not found");
    assert.equal(service("envoy").image, `envoyproxy/envoy:v${version[1]}.${version[2]}-latest`);
  });

  test("the public listener is published on its configured port", () => {
    assert.ok(!isLoopback(cfg.listener.address), "a loopback listener cannot be reached through a published port");
    assert.equal(lds.resources[0].address.socket_address.port_value, cfg.listener.port);
    const published: PublishedPort[] = ports(service("envoy")).filter(
      (p: PublishedPort): boolean => p.container === cfg.listener.port,
    );
    assert.equal(published.length, 1, `envoy must publish container port ${cfg.listener.port}`);
  });

  test("the admin API stays on loopback and nothing else is published beyond 127.0.0.1", () => {
    assert.ok(isLoopback(adminBindAddress()), "admin must bind a loopback address");
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of ports(s)) {
        assert.notEqual(p.container, cfg.admin.port, `${name} publishes the admin port`);
        if (name === "envoy" && p.container === cfg.listener.port) continue;
        assert.equal(p.ip, "127.0.0.1", `${name} publishes ${p.container} beyond the host's loopback`);
      }
    }
  });

  test("Envoy reaches the sidecar through its compose service name", () => {
    assert.ok(cfg.sidecar.host in compose.services, `sidecar.host ${cfg.sidecar.host} is not a compose service`);
    const sidecar: Any = cds.resources.find((c: Any): boolean => c.name === SIDECAR_CLUSTER);
    assert.ok(sidecar, `cds.yaml has no ${SIDECAR_CLUSTER} cluster`);
    assert.equal(sidecar.type, "STRICT_DNS", "a service name must be resolved through DNS");
    const address: Any = sidecar.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    assert.deepEqual(address, { address: cfg.sidecar.host, port_value: cfg.sidecar.grpc_port });
    // A chain filter's configuration is one plugin JSON per line (envoy/wasm-filters.ts).
    const plugins: PluginConfig[] = collect(lds, "configuration").flatMap(
      (c: Any): PluginConfig[] => (c.value as string).split("\n").map((line: string): PluginConfig => JSON.parse(line) as PluginConfig),
    );
    assert.ok(plugins.length > 0, "no wasm plugin in lds.yaml");
    for (const plugin of plugins) assert.equal(plugin.sidecar_cluster, SIDECAR_CLUSTER);
  });

  test("the sidecar service runs the bundle with the compose config and leash start's node flags, and its health check probes it", () => {
    const s: ComposeService = service(cfg.sidecar.host);
    const command: string[] = s.command ?? [];
    assert.deepEqual(command.slice(0, SIDECAR_NODE_FLAGS.length + 2), ["node", ...SIDECAR_NODE_FLAGS, "build/sidecar/main.js"]);
    assert.equal(s.working_dir, repoMount(s).target, "the bundle path is relative to the mounted checkout");
    const configArg: string | undefined = flagValue(command, "--config");
    assert.ok(configArg, "sidecar command has no --config");
    assert.equal(hostPath(s, configArg), COMPOSE_CONFIG);
    const url: string | undefined = (s.healthcheck?.test ?? []).join(" ").match(/https?:\/\/[^'"\s)]+/)?.[0];
    assert.ok(url, "sidecar health check has no URL");
    const health: URL = new URL(url);
    // The sidecar binds sidecar.host, not loopback, so the probe must use that name too.
    assert.equal(health.hostname, cfg.sidecar.host);
    assert.equal(Number(health.port), cfg.sidecar.http_port);
    assert.equal(health.pathname, "/health");
  });

  test("the sidecar's database, Redis, secrets and provider credentials come from the compose file; leash-cli shares the admin token", () => {
    const env: Record<string, string> = service(cfg.sidecar.host).environment ?? {};
    const db: URL = new URL(cfg.sidecar.database_url);
    assert.equal(cfg.sidecar.database_url, env.DATABASE_URL, "the config must take database_url from DATABASE_URL");
    const postgres: ComposeService = service(db.hostname);
    assert.equal(db.port || "5432", "5432");
    assert.equal(db.username, postgres.environment?.POSTGRES_USER);
    assert.equal(db.password, postgres.environment?.POSTGRES_PASSWORD);
    assert.equal(db.pathname, `/${postgres.environment?.POSTGRES_DB}`);
    const redis: URL = new URL(cfg.sidecar.redis_url);
    assert.equal(cfg.sidecar.redis_url, env.REDIS_URL, "the config must take redis_url from REDIS_URL");
    assert.match(service(redis.hostname).image ?? "", /^redis:/);
    // With a PostgreSQL server the sidecar refuses to start without it (sidecar-services/src/pepper.ts).
    assert.ok(env.LEASH_KEY_PEPPER, "LEASH_KEY_PEPPER must be passed to the sidecar");
    // Stored provider credentials need a master key; the admin API needs a token with a server DB.
    assert.ok(env.LEASH_MASTER_KEY, "LEASH_MASTER_KEY must be passed to the sidecar");
    assert.ok(env.LEASH_ADMIN_TOKEN, "LEASH_ADMIN_TOKEN must be passed to the sidecar");
    // `leash keys create` etc. call the sidecar's admin API with the same token, on the compose network.
    const cliEnv: Record<string, string> = cli.environment ?? {};
    assert.equal(cliEnv.LEASH_ADMIN_TOKEN, env.LEASH_ADMIN_TOKEN, "leash-cli and the sidecar must share LEASH_ADMIN_TOKEN");
    assert.equal(cfg.sidecar.admin_address, cfg.sidecar.host, "the admin API must listen on the compose network, under the sidecar's name");
    for (const p of cfg.providers) {
      if (p.api_key_env !== "") assert.ok(p.api_key_env in env, `${p.api_key_env} (provider ${p.name}) is not passed to the sidecar`);
    }
  });

  test("Prometheus scrapes the sidecar and the Envoy admin API", () => {
    const s: ComposeService = service("prometheus");
    // The admin API binds Envoy's loopback: only a process in Envoy's network namespace reaches it.
    assert.equal(s.network_mode, "service:envoy");
    assert.equal(hostPath(s, PROMETHEUS_DEFAULT_CONFIG), PROMETHEUS_FILE);
    const targets = (metricsPath: string): string[] =>
      prometheus.scrape_configs
        .filter((j: ScrapeJob): boolean => (j.metrics_path ?? "/metrics") === metricsPath)
        .flatMap((j: ScrapeJob): string[] => j.static_configs.flatMap((c) => c.targets));
    assert.deepEqual(targets("/metrics"), [`${cfg.sidecar.host}:${cfg.sidecar.http_port}`]);
    assert.deepEqual(targets("/stats/prometheus"), [`${adminBindAddress()}:${cfg.admin.port}`]);
    assert.ok(
      ports(service("envoy")).some((p: PublishedPort): boolean => p.container === 9090),
      "the Prometheus UI (9090) must be published from the envoy service, whose namespace it shares",
    );
  });

  test("every path the generated Envoy config names is mounted into the envoy container", () => {
    const envoy: ComposeService = service("envoy");
    const bootstrapPath: string = posix.join(outDirInContainer, BOOTSTRAP_FILE);
    assert.equal(flagValue(envoy.command ?? [], "-c"), bootstrapPath);
    const hostOutDir: string = resolve(ROOT, readmeOutArg);
    for (const path of collect(bootstrap, "path") as string[]) {
      assert.ok(path.startsWith(outDirInContainer), `bootstrap names ${path}, outside ${outDirInContainer}`);
      assert.equal(hostPath(envoy, path), join(hostOutDir, posix.relative(outDirInContainer, path)), `${path} is not mounted from ${hostOutDir}`);
    }
    // Envoy watches the directory for renames: it must be mounted as a directory, not file by file.
    const watched: string = bootstrap.dynamic_resources.lds_config.path_config_source.watched_directory.path;
    assert.ok(
      mounts(envoy).some((m: Mount): boolean => m.target === watched && m.source === hostOutDir),
      `${watched} must be a directory mount of ${hostOutDir}`,
    );
    const wasmFiles: string[] = collect(lds, "filename") as string[];
    assert.ok(wasmFiles.length > 0, "no wasm module in lds.yaml");
    for (const file of wasmFiles) {
      const onHost: string | undefined = hostPath(envoy, file);
      assert.ok(onHost, `${file} is not mounted into the envoy container`);
      assert.ok(isAbsolute(onHost));
      assert.ok(existsSync(onHost) && statSync(onHost).isFile(), `${onHost} does not exist (run npm run build)`);
    }
  });

  test("providers are the default config's, and plain-HTTP upstreams are compose services", () => {
    const shape = (p: ProviderConfig): string => `${p.name} ${p.api} ${p.prefix} ${p.api_key_env}`;
    assert.deepEqual(cfg.providers.map(shape), loadConfig(undefined, {}).providers.map(shape));
    for (const p of cfg.providers) {
      const url = parseBaseUrl(p.base_url);
      assert.ok(!("error" in url));
      // Loopback inside the Envoy container is Envoy itself.
      assert.ok(!isLoopback(url.host), `provider ${p.name}: ${p.base_url} points at the Envoy container`);
      if (url.tls || url.isIp) continue;
      const upstream: ComposeService = service(url.host);
      const command: string[] = upstream.command ?? [];
      assert.equal(Number(flagValue(command, "--port")), url.port, `provider ${p.name}: ${url.host} listens elsewhere`);
      assert.ok(!isLoopback(flagValue(command, "--host") ?? "127.0.0.1"), `provider ${p.name}: ${url.host} binds loopback only`);
    }
  });
});
