// `leash keys create|revoke`: tenant API keys, written straight to the configured database.
// With the embedded database (PGlite, one process at a time) the gateway must be stopped first;
// with PostgreSQL (DATABASE_URL) it can run meanwhile.
import { join, resolve } from "node:path";
import type { LeashConfig } from "../config/types.ts";
import { probeHost } from "./processes.ts";
import { createPostgresDb, type Db } from "../sidecar-services/src/db.ts";
import { createPgliteDb } from "../sidecar-services/src/db-pglite.ts";
import { migrate } from "../sidecar-services/src/migrate.ts";
import { loadPepper } from "../sidecar-services/src/pepper.ts";
import { createApiKey, createTenant, revokeApiKey, tenantIdFromName } from "../sidecar-services/src/keys.ts";

async function sidecarRunning(cfg: LeashConfig): Promise<boolean> {
  try {
    const res = await fetch(`http://${probeHost(cfg.sidecar.host)}:${cfg.sidecar.http_port}/health`, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function openDb(cfg: LeashConfig): Promise<{ db: Db; pepper: string }> {
  const embedded = cfg.sidecar.database_url === "";
  const dataDir = resolve(cfg.sidecar.data_dir);
  if (embedded && await sidecarRunning(cfg)) {
    throw new Error("the gateway is running on the embedded database, which one process at a time may open: " +
      "stop it (Ctrl-C on leash start) and run this again, or run Leash with DATABASE_URL set");
  }
  const { pepper } = loadPepper({ env: process.env, dataDir, embedded });
  const db = embedded ? await createPgliteDb(join(dataDir, "pglite")) : createPostgresDb({ connectionString: cfg.sidecar.database_url });
  await migrate(db);
  return { db, pepper };
}

export async function keysCommand(cfg: LeashConfig, sub: string | undefined, args: string[], opts: { tenant?: string }): Promise<number> {
  if (sub === "create") {
    if (!opts.tenant) throw new Error("keys create needs --tenant NAME");
    const { db, pepper } = await openDb(cfg);
    try {
      const id = tenantIdFromName(opts.tenant);
      const exists = await db.query("SELECT 1 FROM tenants WHERE id = $1", [id]);
      if (exists.rows.length === 0) await createTenant(db, opts.tenant, id);
      const k = await createApiKey(db, id, pepper);
      console.log(`tenant: ${id}\nkey id: ${k.keyId}\nAPI key (shown once, store it now): ${k.key}`);
      return 0;
    } finally {
      await db.close();
    }
  }
  if (sub === "revoke") {
    const keyId = args[0];
    if (!keyId) throw new Error("keys revoke needs a KEY_ID");
    const { db } = await openDb(cfg);
    try {
      const done = await revokeApiKey(db, keyId);
      console.log(done ? `revoked ${keyId} (sidecars drop their cached copy within 5 s)` : `no active key ${keyId}`);
      return done ? 0 : 1;
    } finally {
      await db.close();
    }
  }
  throw new Error("usage: leash keys create --tenant NAME | leash keys revoke KEY_ID");
}
