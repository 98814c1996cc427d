// Embedded PostgreSQL (PGlite, Postgres compiled to WASM) for single-node and demo setups that
// have no database server. Loaded with a dynamic import so a sidecar on a real server never pays
// for the WASM module, and so the bundle can keep PGlite (which ships .wasm/.data assets) external.
import { mkdirSync } from "node:fs";
import type { Db, Queryable } from "./db.ts";

/** Minimal shape of the PGlite query/transaction API we use (kept local so the import stays lazy). */
interface PgliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount?: number; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

function over(engine: PgliteLike): Queryable {
  return {
    async query<R>(sql: string, params?: readonly unknown[]) {
      const res = await engine.query<R>(sql, params as unknown[] | undefined);
      return { rows: res.rows, rowCount: res.rowCount ?? res.affectedRows ?? res.rows.length };
    },
    async exec(sql: string) {
      await engine.exec(sql);
    },
  };
}

/**
 * Opens (creating on first use) an embedded database in `dataDir`. PGlite is single-connection and
 * single-process: only one sidecar may use a given directory at a time.
 */
export async function createPgliteDb(dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { PGlite } = await import("@electric-sql/pglite");
  const engine = await PGlite.create({ dataDir });
  return {
    kind: "pglite",
    ...over(engine),
    transaction: (fn) => engine.transaction((tx) => fn(over(tx))),
    async ping() {
      await engine.query("SELECT 1");
    },
    close: () => engine.close(),
  };
}
