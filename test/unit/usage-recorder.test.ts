// The RecordUsage decision (usage.ts) in process, with a ledger that only captures rows: the row
// handed to the ledger and the record handed to quota settlement carry every field of the
// validated report, in the report's order, plus the price and the sealed entry.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { silentLogger } from "../../sidecar-services/src/logger.ts";
import { parsePriceTable } from "../../sidecar-services/src/prices.ts";
import { createUsageRecorder } from "../../sidecar-services/src/usage.ts";
import type { LedgerRow, UsageLedger } from "../../sidecar-services/src/usage-ledger.ts";
import { createUsageMetrics } from "../../sidecar-services/src/usage-metrics.ts";
import { validateUsageReport, type UsageRecord, type UsageReport } from "../../sidecar-services/src/usage-report.ts";

const NOW = Date.UTC(2030, 5, 15, 12);

function report(p: Partial<UsageReport> = {}): UsageReport {
  return {
    request_id: "req-1", tenant_id: "tenant-a", key_id: "key-a", provider: "openai", api: "chat", model: "gpt-4o-mini", status: 200,
    prompt_tokens: "1000", completion_tokens: "500", cached_tokens: "200", streamed: true, estimated: false, duration_ms: "321",
    upstream_first_byte_ms: "45", started_at_ms: String(NOW - 1000), guard_decisions: "redact:redacted", upstream_responded: true,
    reservation_id: `${"a".repeat(32)}.1500`, module_timings: [], traceparent: "", ...p,
  };
}

describe("usage recorder", () => {
  it("hands the ledger the record's fields in order, then cost, price version and audit; settles the record without audit, and its cost", async () => {
    const rows: LedgerRow[] = [];
    const settled: Omit<UsageRecord, "audit">[] = [];
    const settledCosts: Array<number | null> = [];
    const ledger: UsageLedger = {
      record: async (row) => void rows.push(row),
      flush: async () => {},
      close: async () => {},
      stats: () => ({ queued: 0, degraded: false }),
    };
    const prices = parsePriceTable({ version: "v-test", providers: { openai: { "gpt-4o-mini": { input: 1, output: 2, cached_input: 0.5 } } } }, "test");
    const record = createUsageRecorder({
      ledger, prices, metrics: createUsageMetrics(new Registry(), () => ({ queued: 0, degraded: false })), log: silentLogger,
      now: () => NOW, settleQuota: async (r, costUsd) => {
        settled.push(r);
        settledCosts.push(costUsd);
      },
    });
    for (const p of [{}, { request_id: "req-2", model: "unpriced", status: 503, upstream_responded: false, reservation_id: "" }]) {
      assert.deepEqual(await record(report(p)), { accepted: true });
    }
    assert.equal(rows.length, 2);
    for (const [i, p] of [{}, { request_id: "req-2", model: "unpriced", status: 503, upstream_responded: false, reservation_id: "" }].entries()) {
      const v = validateUsageReport(report(p), NOW);
      assert.ok(v.ok);
      const { audit: _a, ...expected } = v.record;
      // (1000 − 200) × 1 + 200 × 0.5 + 500 × 2 = 1900 µ$ per million → 0.0019 USD; unknown model: null.
      const cost = i === 0 ? 0.0019 : null;
      assert.deepStrictEqual(Object.keys(rows[i]!), [...Object.keys(expected), "cost_usd", "price_version", "audit"]);
      assert.deepStrictEqual(rows[i], { ...expected, cost_usd: cost, price_version: "v-test", audit: null });
      assert.deepStrictEqual(Object.keys(settled[i]!), Object.keys(expected));
      assert.deepStrictEqual(settled[i], expected);
      assert.equal(settledCosts[i], cost, "settled with the ledger row's cost, not priced again");
    }
  });
});
