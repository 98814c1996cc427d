// A whole Leash gateway for one e2e test file: the real sidecar bundle (build/sidecar/main.js) on
// its own fresh PostgreSQL database and the shared Redis (or the test's own), the built release
// filters (auth, quota, usage) in a real Envoy, and the mock provider as the only upstream. Every
// port is picked free; every wait polls a readiness probe; stop() removes the processes, the
// database and the temp files.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { stringify } from "yaml";
import { parseConfig } from "../../config/load.ts";
import type { LeashConfig } from "../../config/types.ts";
import { writeEnvoyConfig } from "../../envoy/generate.ts";
import { startMockProvider, type MockProvider } from "../../mock-provider/server.ts";
import { createPostgresDb, type Db } from "../../sidecar-services/src/db.ts";
import { createApiKey, createTenant } from "../../sidecar-services/src/keys.ts";
import { freePorts, waitFor, RunningEnvoy, httpGet } from "../integration/envoy-harness.ts";
import { TEST_REDIS_URL } from "../support/redis-prefix.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WASM_DIR = join(ROOT, "build", "release");
const SIDECAR = join(ROOT, "build", "sidecar", "main.js");
const LEASH = join(ROOT, "bin", "leash");
const ADMIN_DB_URL = process.env.LEASH_TEST_DATABASE_URL || "postgres://leash:leash@127.0.0.1:5432/leash_test";

/** The credential the gateway holds for the mock provider; it must reach the mock, never a client. */
export const PROVIDER_KEY = "sk-provider-e2e-" + randomBytes(6).toString("hex");
const PROVIDER_KEY_ENV = "LEASH_E2E_PROVIDER_KEY";

export interface GatewayOptions {
  failureMode?: "closed" | "open";
  authTimeoutMs?: number;
  /** Upstream timeout of the mock providers (timeout_ms). Default 300000. */
  providerTimeoutMs?: number;
  /** listener.max_request_body_bytes. Default: the config default (4 MiB). */
  maxRequestBodyBytes?: number;
  /** More provider entries, as YAML flow mappings (one per line of the providers list). */
  extraProviders?: string[];
  /** Turns tracing on, exporting to this OTLP/HTTP base URL (every span sampled). */
  otlpEndpoint?: string;
  /** More entries of the modules section, one YAML line each, e.g. "injection: { enabled: true }". */
  extraModules?: string[];
  /** modules.quota settings. Default: enabled, closed, 1000 ms (like auth here: a loaded test machine is slow). */
  quota?: { enabled?: boolean; failureMode?: "closed" | "open"; timeoutMs?: number; leaseTtlMs?: number; leaseMaxRequests?: number };
  /** sidecar.redis_url for every replica. Default: the shared test Redis. */
  redisUrl?: string;
  /** sidecar.auth_cache_ttl_ms. Default: the config default (1000). */
  authCacheTtlMs?: number;
}

export interface Tenant {
  id: string;
  keyId: string;
  key: string;
}

export class Sidecar {
  private child: ChildProcess | null = null;
  output = "";
  constructor(private readonly configPath: string, private readonly env: NodeJS.ProcessEnv, readonly httpPort: number) {}

  async start(): Promise<void> {
    this.output = "";
    const child = spawn(process.execPath, [SIDECAR, "--config", this.configPath], { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout!.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
    await waitFor("sidecar /health", async () => {
      if (child.exitCode !== null) throw new Error(`sidecar exited: ${this.output}`);
      const r = await httpGet(this.httpPort, "/health");
      return r.status === 200 ? true : undefined;
    }, 30_000);
  }

  /** Stops the sidecar: SIGTERM (graceful, the default), or SIGKILL (a crash: nothing flushed). */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  }

  async metrics(): Promise<string> {
    return (await httpGet(this.httpPort, "/metrics")).body;
  }
}

/** One Envoy + sidecar pair. Replicas of one gateway share its database, Redis and secrets. */
export interface Replica {
  /** http://127.0.0.1:<listener port> */
  url: string;
  port: number;
  config: LeashConfig;
  sidecar: Sidecar;
  envoy: RunningEnvoy;
  /** The sidecar's admin API: method, path under /admin/v1, JSON body → status and JSON. */
  admin(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Envoy's /stats/prometheus text. */
  envoyStats(): Promise<string>;
}

export interface Gateway extends Replica {
  mock: MockProvider;
  db: Db;
  /** Secrets every replica of this gateway shares (pepper, master key, admin token, provider key). */
  env: NodeJS.ProcessEnv;
  /** Creates a tenant with one active key, straight in the database. */
  newTenant(name?: string): Promise<Tenant>;
  /**
   * Runs `bin/leash <args> --config <this gateway's config>` as an operator would, with the
   * gateway's admin token in LEASH_ADMIN_TOKEN; output up to 64 MiB (an audit export can be large).
   */
  leash(...args: string[]): { status: number | null; stdout: string; stderr: string };
  /** Starts another Envoy + sidecar on the same database and Redis. */
  addReplica(): Promise<Replica>;
  stop(): Promise<void>;
}

async function createDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_DB_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(ADMIN_DB_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_DB_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

type Cleanups = Array<() => Promise<void>>;

async function launchReplica(n: number, dir: string, databaseUrl: string, mockUrl: string, env: NodeJS.ProcessEnv,
  opts: GatewayOptions, cleanups: Cleanups): Promise<Replica> {
  const [port, adminPort, grpcPort, httpPort, sidecarAdminPort] = await freePorts(5);
  const timeout = opts.providerTimeoutMs ?? 300_000;
  const yaml = `
version: 1
listener: { address: 127.0.0.1, port: ${port}${opts.maxRequestBodyBytes ? `, max_request_body_bytes: ${opts.maxRequestBodyBytes}` : ""} }
admin: { address: 127.0.0.1, port: ${adminPort} }
sidecar:
  host: 127.0.0.1
  grpc_port: ${grpcPort}
  http_port: ${httpPort}
  admin_port: ${sidecarAdminPort}
  database_url: "${databaseUrl}"
  redis_url: "${opts.redisUrl ?? TEST_REDIS_URL}"
  data_dir: "${join(dir, `data-${n}`)}"${opts.authCacheTtlMs === undefined ? "" : `\n  auth_cache_ttl_ms: ${opts.authCacheTtlMs}`}
providers:
  - { name: mock, api: openai, prefix: /mock, base_url: "${mockUrl}", api_key_env: ${PROVIDER_KEY_ENV}, timeout_ms: ${timeout} }
  - { name: mock-anthropic, api: anthropic, prefix: /mock-anthropic, base_url: "${mockUrl}", api_key_env: ${PROVIDER_KEY_ENV}, timeout_ms: ${timeout} }
${(opts.extraProviders ?? []).map((p) => `  - ${p}`).join("\n")}
modules:
  auth: { enabled: true, failure_mode: ${opts.failureMode ?? "closed"}, timeout_ms: ${opts.authTimeoutMs ?? 1000} }
  quota: { enabled: ${opts.quota?.enabled ?? true}, failure_mode: ${opts.quota?.failureMode ?? "closed"}, timeout_ms: ${opts.quota?.timeoutMs ?? 1000}${opts.quota?.leaseTtlMs !== undefined ? `, lease_ttl_ms: ${opts.quota.leaseTtlMs}` : ""}${opts.quota?.leaseMaxRequests !== undefined ? `, lease_max_requests: ${opts.quota.leaseMaxRequests}` : ""} }
${(opts.extraModules ?? []).map((m) => `  ${m}`).join("\n")}
${opts.otlpEndpoint ? `tracing: { enabled: true, otlp_endpoint: "${opts.otlpEndpoint}", service_name: leash-e2e, sample_rate: 1 }` : ""}
`;
  const configPath = join(dir, `leash-${n}.yaml`);
  writeFileSync(configPath, yaml);
  const config = parseConfig(yaml, configPath, {});

  const sidecar = new Sidecar(configPath, env, httpPort);
  cleanups.push(() => sidecar.stop());
  await sidecar.start();

  const envoyDir = join(dir, `envoy-${n}`);
  writeEnvoyConfig(config, { wasmDir: WASM_DIR, outDir: envoyDir });
  const envoy = new RunningEnvoy(join(envoyDir, "bootstrap.yaml"), adminPort);
  cleanups.push(() => envoy.stop());
  await envoy.ready();
  // /ready says the server is live; the listener from LDS may bind a moment later.
  await waitFor("gateway /health", async () => ((await httpGet(port, "/health")).status === 200 ? true : undefined), 15_000);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    config,
    sidecar,
    envoy,
    async admin(method, path, body, token = env.LEASH_ADMIN_TOKEN) {
      const res = await fetch(`http://127.0.0.1:${sidecarAdminPort}/admin/v1${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
    },
    async envoyStats(): Promise<string> {
      return (await httpGet(adminPort, "/stats/prometheus")).body;
    },
  };
}

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), "leash-e2e-"));
  const dbName = `leash_e2e_${randomBytes(5).toString("hex")}`;
  const cleanups: Cleanups = [async () => rmSync(dir, { recursive: true, force: true })];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const mock = await startMockProvider({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => mock.close());
    const databaseUrl = await createDatabase(dbName);
    cleanups.push(() => dropDatabase(dbName));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LEASH_KEY_PEPPER: randomBytes(32).toString("hex"),
      LEASH_MASTER_KEY: randomBytes(32).toString("base64"),
      LEASH_ADMIN_TOKEN: randomBytes(24).toString("hex"),
      LEASH_DEMO_TENANT: "0",
      [PROVIDER_KEY_ENV]: PROVIDER_KEY,
    };
    const first = await launchReplica(1, dir, databaseUrl, mock.url, env, opts, cleanups);
    const db = createPostgresDb({ connectionString: databaseUrl });
    cleanups.push(() => db.close());

    let tenants = 0;
    let replicas = 1;
    return {
      ...first,
      mock,
      db,
      env,
      async newTenant(name?: string): Promise<Tenant> {
        tenants += 1;
        const t = await createTenant(db, name ?? `tenant ${tenants} ${randomBytes(3).toString("hex")}`);
        const k = await createApiKey(db, t.id, env.LEASH_KEY_PEPPER!);
        return { id: t.id, keyId: k.keyId, key: k.key };
      },
      leash(...args: string[]): { status: number | null; stdout: string; stderr: string } {
        const configPath = join(dir, "leash-cli.yaml");
        if (!existsSync(configPath)) writeFileSync(configPath, stringify(first.config));
        return spawnSync(LEASH, [...args, "--config", configPath],
          { env: { ...process.env, LEASH_ADMIN_TOKEN: env.LEASH_ADMIN_TOKEN }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      },
      async addReplica(): Promise<Replica> {
        replicas += 1;
        return launchReplica(replicas, dir, databaseUrl, mock.url, env, opts, cleanups);
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
