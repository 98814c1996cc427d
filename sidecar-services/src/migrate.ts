// Versioned schema migrations: sidecar-services/migrations/NNNN_name.sql, applied in version order
// and recorded in schema_migrations. Applied files are never edited; a change is a new file.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assetPath } from "./assets.ts";
import type { Db } from "./db.ts";

/** One migration file. */
export interface Migration {
  /** Number from the file name prefix (0001 → 1); unique, defines the order. */
  version: number;
  /** Rest of the file name without extension, recorded for humans. */
  name: string;
  /** The SQL script (may hold several statements). */
  sql: string;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/**
 * Arbitrary but fixed advisory lock id ("leash" + "mig" in ASCII). All sidecars sharing a database
 * take it, so only one of them migrates at a time; the others wait and then find nothing to do.
 */
const MIGRATION_LOCK_ID = 0x6c6561736d6967n;

/** Reads and orders the migration files; rejects stray names and duplicate versions. */
export function loadMigrations(dir: string = assetPath("migrations")): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".sql")) continue;
    const m = FILE_NAME.exec(file);
    if (!m) throw new Error(`migration ${file}: name must look like 0001_description.sql`);
    migrations.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), "utf8") });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`duplicate migration version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

/**
 * Applies pending migrations in one transaction and returns the versions applied. The transaction
 * makes a failed migration leave no trace; the transaction-scoped advisory lock (taken before even
 * creating schema_migrations, whose concurrent CREATE could otherwise collide) is released by
 * COMMIT/ROLLBACK, so a crashed sidecar cannot leave it held.
 */
export async function migrate(db: Db, migrations: Migration[] = loadMigrations()): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_ID.toString()]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(done.rows.map((r) => Number(r.version)));
    const now: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      now.push(m.version);
    }
    return now;
  });
}
