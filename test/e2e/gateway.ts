// A whole Leash gateway for one e2e test file: the real sidecar bundle (build/sidecar/main.js) on
// its own fresh PostgreSQL database and the shared Redis, the built release auth.wasm in a real
// Envoy, and the mock provider as the only upstream. Every port is picked free; every wait polls a
// readiness probe; stop() removes the processes, the database and the temp files.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { parseConfig } from "../../config/load.ts";
import type { LeashConfig } from "../../config/types.ts";
import { writeEnvoyConfig } from "../../envoy/generate.ts";
import { startMockProvider, type MockProvider } from "../../mock-provider/server.ts";
import { createPostgresDb, type Db } from "../../sidecar-services/src/db.ts";
import { createApiKey, createTenant } from "../../sidecar-services/src/keys.ts";
import { freePort, waitFor, RunningEnvoy, httpGet } from "../integration/envoy-harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WASM_DIR = join(ROOT, "build", "release");
const SIDECAR = join(ROOT, "build", "sidecar", "main.js");
const ADMIN_DB_URL = process.env.LEASH_TEST_DATABASE_URL || "postgres://leash:leash@127.0.0.1:5432/leash_test";
const REDIS_URL = process.env.LEASH_TEST_REDIS_URL || "redis://127.0.0.1:6379/0";

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

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  }

  async metrics(): Promise<string> {
    return (await httpGet(this.httpPort, "/metrics")).body;
  }
}

export interface Gateway {
  /** http://127.0.0.1:<listener port> */
  url: string;
  port: number;
  config: LeashConfig;
  mock: MockProvider;
  sidecar: Sidecar;
  envoy: RunningEnvoy;
  db: Db;
  /** Creates a tenant with one active key. */
  newTenant(name?: string): Promise<Tenant>;
  /** Envoy's /stats/prometheus text. */
  envoyStats(): Promise<string>;
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

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), "leash-e2e-"));
  const dbName = `leash_e2e_${randomBytes(5).toString("hex")}`;
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const mock = await startMockProvider({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => mock.close());
    const databaseUrl = await createDatabase(dbName);
    cleanups.push(() => dropDatabase(dbName));
    const [port, admin, grpcPort, httpPort] = [await freePort(), await freePort(), await freePort(), await freePort()];

    const timeout = opts.providerTimeoutMs ?? 300_000;
    const yaml = `
version: 1
listener: { address: 127.0.0.1, port: ${port}${opts.maxRequestBodyBytes ? `, max_request_body_bytes: ${opts.maxRequestBodyBytes}` : ""} }
admin: { address: 127.0.0.1, port: ${admin} }
sidecar:
  host: 127.0.0.1
  grpc_port: ${grpcPort}
  http_port: ${httpPort}
  database_url: "${databaseUrl}"
  redis_url: "${REDIS_URL}"
  data_dir: "${join(dir, "data")}"
providers:
  - { name: mock, api: openai, prefix: /mock, base_url: "${mock.url}", api_key_env: ${PROVIDER_KEY_ENV}, timeout_ms: ${timeout} }
  - { name: mock-anthropic, api: anthropic, prefix: /mock-anthropic, base_url: "${mock.url}", api_key_env: ${PROVIDER_KEY_ENV}, timeout_ms: ${timeout} }
${(opts.extraProviders ?? []).map((p) => `  - ${p}`).join("\n")}
modules:
  auth: { enabled: true, failure_mode: ${opts.failureMode ?? "closed"}, timeout_ms: ${opts.authTimeoutMs ?? 1000} }
`;
    const configPath = join(dir, "leash.yaml");
    writeFileSync(configPath, yaml);
    const config = parseConfig(yaml, configPath, {});
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LEASH_KEY_PEPPER: randomBytes(32).toString("hex"),
      LEASH_DEMO_TENANT: "0",
      [PROVIDER_KEY_ENV]: PROVIDER_KEY,
    };

    const sidecar = new Sidecar(configPath, env, httpPort);
    cleanups.push(() => sidecar.stop());
    await sidecar.start();

    const db = createPostgresDb({ connectionString: databaseUrl });
    cleanups.push(() => db.close());

    writeEnvoyConfig(config, { wasmDir: WASM_DIR, outDir: join(dir, "envoy") });
    const envoy = new RunningEnvoy(join(dir, "envoy", "bootstrap.yaml"), admin);
    cleanups.push(() => envoy.stop());
    await envoy.ready();
    // /ready says the server is live; the listener from LDS may bind a moment later.
    await waitFor("gateway /health", async () => ((await httpGet(port, "/health")).status === 200 ? true : undefined), 15_000);

    let tenants = 0;
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      config,
      mock,
      sidecar,
      envoy,
      db,
      async newTenant(name?: string): Promise<Tenant> {
        tenants += 1;
        const t = await createTenant(db, name ?? `tenant ${tenants} ${randomBytes(3).toString("hex")}`);
        const k = await createApiKey(db, t.id, env.LEASH_KEY_PEPPER!);
        return { id: t.id, keyId: k.keyId, key: k.key };
      },
      async envoyStats(): Promise<string> {
        return (await httpGet(admin, "/stats/prometheus")).body;
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
