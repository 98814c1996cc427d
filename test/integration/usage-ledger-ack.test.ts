// The usage ledger acknowledges a row only once it is durable: record() stays pending while the row
// waits in memory and resolves when its INSERT has committed. A sidecar killed at any moment has
// therefore acknowledged nothing it could still lose (the filter resends what was not acknowledged).
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Db } from "../../sidecar-services/src/db.ts";
import { silentLogger } from "../../sidecar-services/src/logger.ts";
import { createUsageLedger, type LedgerRow } from "../../sidecar-services/src/usage-ledger.ts";
import { createTestSchema, type TestSchema } from "../support/pg-schema.ts";

const RUN = randomBytes(4).toString("hex");

function row(id: string): LedgerRow {
  return {
    request_id: id, tenant_id: "acme", key_id: "", provider: "mock", api: "openai", model: "m", status: 200,
    prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0, streamed: false, estimated: false,
    duration_ms: 10, upstream_first_byte_ms: 5, started_at_ms: Date.now(), cost_usd: null, price_version: "test",
  };
}

describe("usage ledger acknowledgement", () => {
  let schema: TestSchema;
  let db: Db;
  let dir: string;
  before(async () => {
    schema = await createTestSchema("ledgerack", RUN);
    db = await schema.openMigrated();
    dir = mkdtempSync(join(tmpdir(), "leash-ledger-ack-"));
  });
  after(async () => {
    await schema?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("record() resolves only after the row's INSERT, never while it sits in memory", async () => {
    // A flush timer that never fires in this test: only flush() writes.
    const ledger = createUsageLedger({ db, log: silentLogger, spoolDir: join(dir, "spool"), flushIntervalMs: 3_600_000 });
    try {
      let acknowledged = false;
      const ack = ledger.record(row("ack-1")).then(() => { acknowledged = true; });
      // Give every already-resolved promise a chance to run: a premature acknowledgement shows here.
      await new Promise<void>((r) => setImmediate(r));
      assert.equal(acknowledged, false, "acknowledged while the row was only in memory");
      assert.equal((await db.query("SELECT 1 FROM usage_ledger WHERE request_id = 'ack-1'")).rows.length, 0);
      await ledger.flush();
      await ack;
      assert.equal((await db.query("SELECT 1 FROM usage_ledger WHERE request_id = 'ack-1'")).rows.length, 1);
    } finally {
      await ledger.close();
    }
  });

  it("a batch across month boundaries: every row in its month's partition, every column as given", async () => {
    // A row whose partition was not created costs a failed INSERT and a trip through the spool
    // (which heals it): count both, there must be none.
    let detours = 0;
    const ledger = createUsageLedger({
      db, log: silentLogger, spoolDir: join(dir, "spool-months"), flushIntervalMs: 3_600_000,
      onWriteError: () => detours++, onSpooled: () => detours++,
    });
    const at = [Date.UTC(2031, 0, 31, 23, 59, 59, 999), Date.UTC(2031, 1, 1), Date.UTC(2031, 0, 15, 12), Date.UTC(2031, 2, 1, 0, 0, 0, 1)];
    const rows: LedgerRow[] = at.map((ms, i) => ({
      ...row(`months-${i}`), started_at_ms: ms, tenant_id: `t${i}`, key_id: `k${i}`, provider: `p${i}`, api: `a${i}`, model: `m${i}`,
      status: 200 + i, prompt_tokens: 10 + i, completion_tokens: 20 + i, cached_tokens: i, cost_usd: i === 1 ? null : 0.000123456 * (i + 1),
      price_version: `v${i}`, streamed: i % 2 === 0, estimated: i % 2 === 1, duration_ms: 100 + i, upstream_first_byte_ms: 50 + i,
      guard_decisions: i === 3 ? "redact:redacted" : undefined,
    }));
    try {
      // Mid-January first, alone: the later batch must still create February's partition for a
      // row at its first millisecond, right after the last one of January.
      const first = ledger.record(rows[2]!);
      await ledger.flush();
      await first;
      const acks = [0, 1, 3].map((i) => ledger.record(rows[i]!));
      await ledger.flush();
      await Promise.all(acks);
      const got = await db.query<Record<string, unknown>>(
        `SELECT tableoid::regclass::text AS part, request_id, tenant_id, key_id, provider, api, model, status, prompt_tokens::text AS p,
           completion_tokens::text AS c, cached_tokens::text AS ca, cost_usd::text AS cost, price_version, streamed, estimated, duration_ms,
           upstream_first_byte_ms, (extract(epoch from started_at) * 1000)::bigint::text AS at, guard_decisions
         FROM usage_ledger WHERE request_id LIKE 'months-%' ORDER BY request_id`,
      );
      assert.deepEqual(got.rows.map((r) => [r.part, r.at]), [
        ["usage_ledger_p203101", String(at[0])],
        ["usage_ledger_p203102", String(at[1])],
        ["usage_ledger_p203101", String(at[2])],
        ["usage_ledger_p203103", String(at[3])],
      ]);
      assert.deepEqual(got.rows.map(({ part: _p, at: _a, ...r }) => r), rows.map((r, i) => ({
        request_id: r.request_id, tenant_id: r.tenant_id, key_id: r.key_id, provider: r.provider, api: r.api, model: r.model, status: r.status,
        p: String(r.prompt_tokens), c: String(r.completion_tokens), ca: String(r.cached_tokens),
        cost: r.cost_usd === null ? null : r.cost_usd.toFixed(9), price_version: r.price_version, streamed: r.streamed, estimated: r.estimated,
        duration_ms: r.duration_ms, upstream_first_byte_ms: r.upstream_first_byte_ms, guard_decisions: i === 3 ? "redact:redacted" : "",
      })));
      assert.equal(detours, 0, "every partition was created before its INSERT");
    } finally {
      await ledger.close();
    }
  });

  it("text columns come back exactly as given, whatever they hold (the array literals are ours, not pg's)", async () => {
    const ledger = createUsageLedger({ db, log: silentLogger, spoolDir: join(dir, "spool-text"), flushIntervalMs: 3_600_000 });
    const hostile = ["", "NULL", "null", "a b", "a,b", "{x}", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", " lead", "trail ", "naïve 東京", "\\\""];
    const rows: LedgerRow[] = hostile.map((v, i) => ({
      ...row(`text-${i}`), tenant_id: v, key_id: v, provider: `p${v}`, api: v, model: v, price_version: v, guard_decisions: v,
    }));
    try {
      const acks = rows.map((r) => ledger.record(r));
      await ledger.flush();
      await Promise.all(acks);
      const got = await db.query<Record<string, unknown>>(
        `SELECT request_id, tenant_id, key_id, provider, api, model, price_version, guard_decisions FROM usage_ledger
         WHERE request_id LIKE 'text-%' ORDER BY length(request_id), request_id`,
      );
      assert.deepEqual(got.rows, rows.map((r) => ({
        request_id: r.request_id, tenant_id: r.tenant_id, key_id: r.key_id, provider: r.provider, api: r.api, model: r.model,
        price_version: r.price_version, guard_decisions: r.guard_decisions,
      })));
    } finally {
      await ledger.close();
    }
  });
});
