// A throwaway PostgreSQL schema per test run, so test files running in parallel against one shared
// database never see each other's rows. Created empty; openMigrated() applies the migrations (as the
// sidecar does at start), open() does not. drop() removes the schema with everything in it.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
import pg from "pg";
import { createPostgresDb, type Db } from "../../sidecar-services/src/db.ts";
import { migrate } from "../../sidecar-services/src/migrate.ts";

/** The database tests use: LEASH_TEST_DATABASE_URL, else the one scripts/services.sh starts. */
export const TEST_DATABASE_URL: string = process.env.LEASH_TEST_DATABASE_URL || "postgres://leash:leash@127.0.0.1:5432/leash_test";

/** Same rule as createPostgresDb's: the name ends up in SQL text and a startup option, so it must be inert. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

export interface TestSchema {
  /** `leash_test_<label>_<run>`. */
  readonly name: string;
  /** Opens a connection pool whose search_path is the schema; drop() closes it. */
  open(): Db;
  /** open(), then migrate() on it: the schema at the current version. */
  openMigrated(): Promise<Db>;
  /** Closes every pool from open(), then drops the schema (CASCADE) over a connection of its own. */
  drop(): Promise<void>;
}

/**
 * Creates the empty schema `leash_test_<label>_<run>` in {@link TEST_DATABASE_URL}.
 * @param label names the test file in the schema name ([a-z0-9_]).
 * @param run random per-run id (lower-case hex), unique across parallel and repeated runs.
 */
export async function createTestSchema(label: string, run: string): Promise<TestSchema> {
  const name = `leash_test_${label}_${run}`;
  if (!SCHEMA_NAME.test(name)) throw new Error(`invalid test schema name ${JSON.stringify(name)}`);
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
  } catch (err) {
    await admin.end();
    throw err;
  }
  const opened: Db[] = [];
  const open = (): Db => {
    const db = createPostgresDb({ connectionString: TEST_DATABASE_URL, schema: name });
    opened.push(db);
    return db;
  };
  return {
    name,
    open,
    async openMigrated() {
      const db = open();
      await migrate(db);
      return db;
    },
    async drop() {
      try {
        for (const db of opened.splice(0)) await db.close();
        await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
