// The usage ledger retention job (sidecar-services/src/ledger-retention.ts) against real
// PostgreSQL, with an injected clock: per-tenant retention (own days, 0 = forever, NULL = the
// gateway default, which also covers unknown tenants), dropping whole monthly partitions only past
// the longest retention in force, the advisory lock that lets one replica run at a time, and the
// timer driven job with its metrics, and the ledger writer meeting a partition the job dropped.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { Registry } from "prom-client";
import type { Db } from "../../sidecar-services/src/db.ts";
import { partitionEndMs, runLedgerRetention, startLedgerRetention } from "../../sidecar-services/src/ledger-retention.ts";
import { silentLogger } from "../../sidecar-services/src/logger.ts";
import { createTenant, updateTenant } from "../../sidecar-services/src/tenants.ts";
import { createUsageLedger, partitionOf, type LedgerRow } from "../../sidecar-services/src/usage-ledger.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";

const RUN = randomBytes(4).toString("hex");
const DAY = 86_400_000;
/** The injected "now" of every run. */
const NOW = Date.UTC(2026, 5, 15, 12);
const ago = (days: number): number => NOW - days * DAY;

async function insertRow(db: Db, requestId: string, tenant: string, at: number): Promise<void> {
  const p = partitionOf(at);
  await db.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF usage_ledger FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
  await db.query(
    `INSERT INTO usage_ledger (request_id, tenant_id, provider, status, prompt_tokens, completion_tokens, cached_tokens,
       price_version, streamed, estimated, duration_ms, upstream_first_byte_ms, started_at)
     VALUES ($1, $2, 'mock', 200, 1, 1, 0, 'test', false, false, 10, 5, $3)`,
    [requestId, tenant, new Date(at).toISOString()],
  );
}

async function remaining(db: Db): Promise<string[]> {
  const res = await db.query<{ request_id: string }>("SELECT request_id FROM usage_ledger ORDER BY request_id");
  return res.rows.map((r) => r.request_id);
}

async function partitionNames(db: Db): Promise<string[]> {
  const res = await db.query<{ name: string }>(
    "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'usage_ledger'::regclass ORDER BY 1",
  );
  return res.rows.map((r) => r.name);
}

describe("ledger retention (PostgreSQL)", () => {
  let schema: TestSchema;
  let db: Db;

  before(async () => {
    schema = await createTestSchema("retention", RUN);
    db = await schema.openMigrated();
    for (const [id, days] of [["keep30", 30], ["keep400", 400], ["forever", 0], ["dflt", null]] as const) {
      await createTenant(db, id, id);
      if (days !== null) await updateTenant(db, id, { retentionDays: days });
    }
    const rows: Array<[string, string, number]> = [
      ["keep30-new", "keep30", ago(10)], ["keep30-old", "keep30", ago(40)],
      ["keep400-mid", "keep400", ago(100)], ["keep400-old", "keep400", ago(500)],
      ["forever-ancient", "forever", ago(700)],
      ["dflt-new", "dflt", ago(50)], ["dflt-old", "dflt", ago(100)],
      // Unknown tenants (deleted, or a refused request): the default applies.
      ["orphan-old", "", ago(100)], ["gone-new", "deleted-tenant", ago(5)],
    ];
    for (const [id, tenant, at] of rows) await insertRow(db, id, tenant, at);
  });

  after(async () => {
    await schema?.drop();
  });

  it("names each monthly partition's end", () => {
    assert.equal(partitionEndMs("usage_ledger_p202612"), Date.UTC(2027, 0, 1));
    assert.equal(partitionEndMs("usage_ledger_p202601"), Date.UTC(2026, 1, 1));
    assert.equal(partitionEndMs("something_else"), null);
  });

  it("deletes each tenant's rows past its own retention, the default elsewhere; a 'forever' tenant keeps partitions", async () => {
    const partitionsBefore = await partitionNames(db);
    const r = await runLedgerRetention({ db, defaultDays: 90, now: NOW, log: silentLogger });
    assert.equal(r.ran, true);
    assert.equal(r.deletedRows, 4);
    assert.deepEqual(await remaining(db), ["dflt-new", "forever-ancient", "gone-new", "keep30-new", "keep400-mid"]);
    assert.deepEqual(r.droppedPartitions, [], "a tenant keeps its rows forever: no partition may go");
    assert.deepEqual(await partitionNames(db), partitionsBefore);
  });

  it("drops whole partitions older than the longest retention once every retention is finite", async () => {
    await updateTenant(db, "forever", { retentionDays: 30 });
    // Longest retention now keep400's 400 days: cutoff 2025-05-11; months ending on or before it go.
    const r = await runLedgerRetention({ db, defaultDays: 90, now: NOW, log: silentLogger });
    assert.equal(r.ran, true);
    assert.equal(r.deletedRows, 1, "forever-ancient is now past 30 days");
    // 2024-07 (forever-ancient's) and 2025-01 (keep400-old's) end before it; 2026-03 and later stay.
    assert.deepEqual([...r.droppedPartitions].sort(), ["usage_ledger_p202407", "usage_ledger_p202501"]);
    assert.deepEqual(await partitionNames(db), ["usage_ledger_p202603", "usage_ledger_p202604", "usage_ledger_p202605", "usage_ledger_p202606"]);
    assert.deepEqual(await remaining(db), ["dflt-new", "gone-new", "keep30-new", "keep400-mid"]);
    // A default of 0 (forever) keeps every partition again.
    const again = await runLedgerRetention({ db, defaultDays: 0, now: NOW + 365 * DAY, log: silentLogger });
    assert.deepEqual(again.droppedPartitions, []);
  });

  it("runs on one replica at a time: while another holds the lock, a run does nothing", async () => {
    await insertRow(db, "keep30-locked", "keep30", ago(45));
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [0x6c726574, schema.name]);
      const skipped = await runLedgerRetention({ db, defaultDays: 90, now: NOW, log: silentLogger });
      assert.deepEqual(skipped, { ran: false, deletedRows: 0, droppedPartitions: [] });
      assert.ok((await remaining(db)).includes("keep30-locked"));
      await other.query("COMMIT");
    } finally {
      await other.end();
    }
    const ran = await runLedgerRetention({ db, defaultDays: 90, now: NOW, log: silentLogger });
    assert.equal(ran.ran, true);
    assert.ok(!(await remaining(db)).includes("keep30-locked"));
  });

  it("a late row for a month already dropped recreates its partition instead of retrying forever", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leash-retention-"));
    const ledger = createUsageLedger({ db, log: silentLogger, spoolDir: join(dir, "spool"), flushIntervalMs: 3_600_000, retryMinMs: 3_600_000 });
    const row = (id: string): LedgerRow => ({
      request_id: id, tenant_id: "keep30", key_id: "", provider: "mock", api: "openai", model: "", status: 200,
      prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0, streamed: false, estimated: false,
      duration_ms: 10, upstream_first_byte_ms: 5, started_at_ms: ago(500), cost_usd: null, price_version: "test",
    });
    try {
      // The writer creates 2025-01 again and remembers it; retention then drops it.
      // record() resolves once its row is durable, which here only flush() makes happen.
      const first = ledger.record(row("late-1"));
      await ledger.flush();
      await first;
      assert.ok((await partitionNames(db)).includes("usage_ledger_p202501"));
      const r = await runLedgerRetention({ db, defaultDays: 90, now: NOW, log: silentLogger });
      assert.ok(r.droppedPartitions.includes("usage_ledger_p202501"));
      // The next row of that month: the insert fails once (no partition), and the spool drain
      // inside the same flush() creates the partition again and writes it.
      const second = ledger.record(row("late-2"));
      await ledger.flush();
      await second;
      assert.ok((await remaining(db)).includes("late-2"), "the row was not written after its partition was dropped");
      assert.equal(ledger.stats().degraded, false);
      await db.query("DELETE FROM usage_ledger WHERE request_id LIKE 'late-%'");
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the timer job runs with the injected clock and counts what it did", async () => {
    await insertRow(db, "keep30-timer", "keep30", ago(31));
    const registry = new Registry();
    const job = startLedgerRetention({ db, defaultDays: 90, intervalS: 0, registry, log: silentLogger, now: () => NOW });
    try {
      const r = await job.runNow();
      assert.equal(r?.deletedRows, 1);
      const text = await registry.metrics();
      assert.match(text, /leash_ledger_retention_runs_total\{result="ran"\} 1\b/);
      assert.match(text, /leash_ledger_retention_rows_deleted_total 1\b/);
    } finally {
      await job.stop();
    }
  });
});
