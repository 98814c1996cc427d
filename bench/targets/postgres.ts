// A fresh PostgreSQL database for the leash-auth target's sidecar, dropped at the end of the run
// (also on Ctrl-C, through the cleanup list), so runs never see each other's tenants or logs.

import { randomBytes } from "node:crypto";

import pg from "pg";

import { onCleanup } from "../procs/cleanup.ts";

/** The server to create the database on; the role needs CREATEDB (scripts/services.sh grants it). */
export const ADMIN_DATABASE_URL: string =
  process.env.LEASH_BENCH_DATABASE_URL || process.env.LEASH_TEST_DATABASE_URL || "postgres://leash:leash@127.0.0.1:5432/leash_test";
export const REDIS_URL: string = process.env.LEASH_BENCH_REDIS_URL || process.env.LEASH_TEST_REDIS_URL || "redis://127.0.0.1:6379/0";

async function adminQuery(sql: string): Promise<void> {
  const client: pg.Client = new pg.Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates `leash_bench_<random>` and returns its URL. */
export async function createBenchDatabase(): Promise<string> {
  // Only hex digits after a fixed prefix: safe to put in the statement as an identifier.
  const name: string = `leash_bench_${randomBytes(5).toString("hex")}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  onCleanup(`database ${name}`, () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url: URL = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
