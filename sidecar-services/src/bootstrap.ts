// Builds the sidecar's real dependencies from a LeashConfig and starts it: PostgreSQL or embedded
// PGlite, Redis or the in-process store, pepper, master key ring, admin token, migrations, demo tenant. Kept out of main.ts so
// tests can start the exact production wiring without spawning a process.
import { join, resolve } from "node:path";
import { Registry } from "prom-client";
import type { LeashConfig } from "../../config/types.ts";
import { loadAdminToken } from "./admin-token.ts";
import { createPostgresDb, type Db } from "./db.ts";
import { createPgliteDb } from "./db-pglite.ts";
import { ensureDemoTenant, type DemoTenantResult } from "./keys.ts";
import { createRedisStore } from "./kv-redis.ts";
import { createMemoryStore, type KvStore } from "./kv-store.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { loadKeyRing } from "./master-key.ts";
import { migrate } from "./migrate.ts";
import { loadPepper } from "./pepper.ts";
import { loadPriceTable } from "./prices.ts";
import { createMemoryQuotaStore } from "./quota-memory.ts";
import { createRedisQuotaStore } from "./quota-redis.ts";
import type { QuotaStore } from "./quota-store.ts";
import { createSidecar, type BoundPorts } from "./server.ts";

/** Environment variable that, set to "0", skips creating the demo tenant on first start. */
export const DEMO_TENANT_ENV = "LEASH_DEMO_TENANT";

/** Options of {@link startSidecar}. */
export interface StartSidecarOptions {
  config: LeashConfig;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Default: silent. */
  log?: Logger;
  /** Default: a new Registry. */
  registry?: Registry;
  /** Prefix of Redis keys. Default "leash:". */
  storeKeyPrefix?: string;
}

/** A started sidecar with the dependencies it opened. */
export interface RunningSidecar extends BoundPorts {
  /** Outcome of the demo tenant check; `key` is set only on the start that created it. */
  demo: DemoTenantResult;
  /** URL of the admin API (`http://host:port/admin/v1`), null when it is not started. */
  adminUrl: string | null;
  /** File holding the admin token when it came from data_dir (embedded mode); never the token itself. */
  adminTokenFile: string | null;
  db: Db;
  store: KvStore;
  registry: Registry;
  /** Stops the servers, then closes store and database. */
  stop(): Promise<void>;
}

/**
 * Redis command timeout of the quota store: half the Reserve deadline, so a slow Redis is given up
 * on while the filter still waits and the tenant's on_store_failure answer arrives in time.
 */
export function quotaCommandTimeoutMs(reserveTimeoutMs: number): number {
  return Math.max(10, Math.floor(reserveTimeoutMs / 2));
}

/** postgres://user:secret@host/db → postgres://host/db, so connection targets can be logged. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return "(unparseable url)";
  }
}

export async function startSidecar(opts: StartSidecarOptions): Promise<RunningSidecar> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const log = opts.log ?? silentLogger;
  const registry = opts.registry ?? new Registry();
  const dataDir = resolve(config.sidecar.data_dir);
  const embedded = config.sidecar.database_url === "";

  // Before opening anything: a missing pepper is a config error and should fail without side effects.
  const { pepper, source } = loadPepper({ env, dataDir, embedded, warn: (msg) => log.warn(msg) });
  log.info("key pepper loaded", { source });
  const keyRing = loadKeyRing({ env, dataDir, embedded, warn: (msg) => log.warn(msg) });
  if (keyRing) log.info("master key ring loaded", { source: keyRing.source, key_ids: keyRing.ring.ids, current: keyRing.ring.current.id });
  else log.warn("no master key (LEASH_MASTER_KEY, LEASH_MASTER_KEYS or LEASH_MASTER_KEY_FILE): provider credentials cannot be stored");
  const adminToken = loadAdminToken({ env, dataDir, embedded, warn: (msg) => log.warn(msg) });
  if (adminToken?.file) log.info("admin token loaded", { source: adminToken.source, file: adminToken.file });
  else if (adminToken) log.info("admin token loaded", { source: adminToken.source });

  // Also before opening anything: a bad price table names its key path and stops the start.
  const prices = loadPriceTable(config.sidecar.prices_file);
  log.info("price table loaded", { source: prices.source, version: prices.version, providers: [...prices.providers.keys()] });

  const opened: { close(): Promise<void> }[] = [];
  const closeOpened = async () => {
    for (const c of opened.reverse()) await c.close().catch((err: unknown) => log.warn("close failed", { error: err }));
  };
  try {
    let db: Db;
    if (embedded) {
      const dir = join(dataDir, "pglite");
      db = await createPgliteDb(dir);
      log.info("database opened", { kind: "pglite", dir });
    } else {
      db = createPostgresDb({
        connectionString: config.sidecar.database_url,
        onIdleError: (err) => log.warn("idle database connection failed", { error: err }),
      });
      opened.push(db);
      await db.ping();
      log.info("database opened", { kind: "postgres", url: redactUrl(config.sidecar.database_url) });
    }
    if (embedded) opened.push(db);
    const applied = await migrate(db);
    log.info("migrations applied", { versions: applied });

    let store: KvStore;
    if (config.sidecar.redis_url === "") {
      store = createMemoryStore();
      log.info("store opened", { kind: "memory" });
    } else {
      store = await createRedisStore({
        url: config.sidecar.redis_url,
        keyPrefix: opts.storeKeyPrefix,
        onError: (err) => log.warn("redis connection error", { error: err }),
      });
      log.info("store opened", { kind: "redis", url: redactUrl(config.sidecar.redis_url) });
    }
    opened.push(store);

    let quotaStore: QuotaStore;
    if (config.sidecar.redis_url === "") quotaStore = createMemoryQuotaStore();
    else {
      // Its own connection, tuned to fail fast (quota-redis.ts): well inside the Reserve deadline.
      quotaStore = await createRedisQuotaStore({
        url: config.sidecar.redis_url,
        keyPrefix: opts.storeKeyPrefix,
        commandTimeoutMs: quotaCommandTimeoutMs(config.modules.quota.timeout_ms),
        onError: (err) => log.warn("quota redis connection error", { error: err }),
      });
    }
    opened.push(quotaStore);

    const demo: DemoTenantResult = env[DEMO_TENANT_ENV] === "0" ? { created: false } : await ensureDemoTenant(db, pepper);
    if (demo.created) log.info("demo tenant created", { tenant_id: "demo" });

    const sidecar = createSidecar({ db, store, quotaStore, registry, config, log, env, pepper, ring: keyRing?.ring ?? null, adminToken: adminToken?.token, prices });
    const ports = await sidecar.start();
    const adminHost = config.sidecar.admin_address.includes(":") ? `[${config.sidecar.admin_address}]` : config.sidecar.admin_address;
    return {
      ...ports,
      demo,
      adminUrl: ports.adminPort === null ? null : `http://${adminHost}:${ports.adminPort}/admin/v1`,
      adminTokenFile: adminToken?.file ?? null,
      db,
      store,
      registry,
      async stop() {
        await sidecar.stop();
        await closeOpened();
      },
    };
  } catch (err) {
    await closeOpened();
    throw err;
  }
}
