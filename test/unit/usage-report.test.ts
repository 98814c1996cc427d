// RecordUsage input validation and metric label folding, without a database.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Registry } from "prom-client";
import { createUsageMetrics, LabelFolder, statusLabel } from "../../sidecar-services/src/usage-metrics.ts";
import { validateUsageReport } from "../../sidecar-services/src/usage-report.ts";
import { partitionOf } from "../../sidecar-services/src/usage-ledger.ts";
import { usageReport } from "../support/usage-client.ts";

const NOW = Date.UTC(2026, 10, 26, 12);

describe("validateUsageReport", () => {
  test("accepts a well-formed report and turns uint64 strings into numbers", () => {
    const r = validateUsageReport(usageReport({ started_at_ms: String(NOW - 1000), prompt_tokens: "9876543210" }), NOW);
    assert.ok(r.ok);
    assert.equal(r.record.prompt_tokens, 9876543210);
    assert.equal(r.record.started_at_ms, NOW - 1000);
  });

  test("accepts status 0 (no response) and empty tenant/model (refused before auth)", () => {
    assert.ok(validateUsageReport(usageReport({ status: 0, tenant_id: "", key_id: "", model: "", started_at_ms: String(NOW) }), NOW).ok);
  });

  const cases: [string, Record<string, unknown>][] = [
    ["request_id", { request_id: "" }],
    ["request_id", { request_id: "a".repeat(201) }],
    ["request_id", { request_id: "a\u0000b" }],
    ["tenant_id", { tenant_id: "x".repeat(129) }],
    ["provider", { provider: "" }],
    ["model", { model: "gpt\r\n" }],
    ["status", { status: 99 }],
    ["tokens", { completion_tokens: "-1" }],
    ["tokens", { cached_tokens: "10000000001" }],
    ["duration", { upstream_first_byte_ms: "2147483648" }],
    ["started_at", { started_at_ms: "0" }],
    ["started_at", { started_at_ms: String(NOW + 25 * 3600 * 1000) }],
  ];
  for (const [reason, overrides] of cases) {
    test(`refuses ${JSON.stringify(overrides).slice(0, 60)} as ${reason}`, () => {
      const r = validateUsageReport({ ...usageReport({ started_at_ms: String(NOW) }), ...overrides }, NOW);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.reason, reason);
    });
  }
});

describe("module timings and traceparent", () => {
  const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  test("keeps well-formed timings and a W3C traceparent", () => {
    const r = validateUsageReport({ ...usageReport({ started_at_ms: String(NOW) }), module_timings: [{ module: "auth", micros: "41" }, { module: "usage", micros: 7 }], traceparent: TP }, NOW);
    assert.ok(r.ok);
    assert.deepEqual(r.telemetry, { module_timings: [{ module: "auth", micros: 41 }, { module: "usage", micros: 7 }], traceparent: TP });
  });

  test("drops bad entries (never the report): bad names, duplicates, huge values, a malformed traceparent", () => {
    const r = validateUsageReport({
      ...usageReport({ started_at_ms: String(NOW) }),
      module_timings: [{ module: "Auth!", micros: 1 }, { module: "auth", micros: "5" }, { module: "auth", micros: 6 }, { module: "x", micros: "99999999999" }, { module: "y".repeat(33), micros: 1 }],
      traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    }, NOW);
    assert.ok(r.ok);
    assert.deepEqual(r.telemetry, { module_timings: [{ module: "auth", micros: 5 }], traceparent: "" });
  });

  test("looks at the first 16 timings only", () => {
    const timings = Array.from({ length: 20 }, (_, i) => ({ module: `m${i}`, micros: i }));
    const r = validateUsageReport({ ...usageReport({ started_at_ms: String(NOW) }), module_timings: timings }, NOW);
    assert.ok(r.ok);
    assert.deepEqual(r.telemetry.module_timings.map((t) => t.module), timings.slice(0, 16).map((t) => t.module));
  });

  test("leash_module_processing_duration_seconds observes each module per tenant, in seconds", async () => {
    const registry = new Registry();
    const metrics = createUsageMetrics(registry, () => ({ queued: 0, degraded: false }));
    metrics.observe({ tenant: "t1", provider: "mock", model: "m", status: 200, durationMs: 10, upstreamFirstByteMs: 5, promptTokens: 1, completionTokens: 1, cachedTokens: 0, costUsd: 0, estimated: false,
      moduleTimings: [{ module: "auth", micros: 40 }, { module: "usage", micros: 3000 }] });
    const text = await registry.metrics();
    assert.match(text, /leash_module_processing_duration_seconds_sum\{module="auth",tenant="t1"\} 0\.00004\b/);
    assert.match(text, /leash_module_processing_duration_seconds_bucket\{le="0\.00005",module="auth",tenant="t1"\} 1\b/);
    assert.match(text, /leash_module_processing_duration_seconds_bucket\{le="0\.0025",module="usage",tenant="t1"\} 0\b/);
    assert.match(text, /leash_module_processing_duration_seconds_count\{module="usage",tenant="t1"\} 1\b/);
  });
});

describe("metric labels", () => {
  test("status is folded to its class, 429 kept exact", () => {
    assert.deepEqual([200, 204, 301, 400, 429, 499, 500, 503, 0].map(statusLabel), ["2xx", "2xx", "3xx", "4xx", "429", "4xx", "5xx", "5xx", "none"]);
    assert.deepEqual([100, 199, 599, 600, 99].map(statusLabel), ["1xx", "1xx", "5xx", "none", "none"]);
  });

  test("a label keeps its first N values, later newcomers become 'other'", () => {
    const f = new LabelFolder(2, "none");
    assert.deepEqual(["a", "b", "c", "a", "", "b"].map((v) => f.fold(v)), ["a", "b", "other", "a", "other", "b"]);
  });

  test("tenants and models past their bound fold into 'other' in the exposition", async () => {
    const registry = new Registry();
    const metrics = createUsageMetrics(registry, () => ({ queued: 0, degraded: false }), { tenant: 2, provider: 50, model: 1 });
    for (const tenant of ["t1", "t2", "t3", "t4"]) {
      for (const model of ["m1", "m2"]) {
        metrics.observe({ tenant, provider: "mock", model, status: 200, durationMs: 10, upstreamFirstByteMs: 5, promptTokens: 1, completionTokens: 1, cachedTokens: 0, costUsd: 0.5, estimated: false, moduleTimings: [] });
      }
    }
    const text = await registry.metrics();
    const tenants = new Set([...text.matchAll(/leash_gateway_requests_total\{tenant="([^"]+)"/g)].map((m) => m[1]));
    assert.deepEqual([...tenants].sort(), ["other", "t1", "t2"]);
    assert.match(text, /leash_gateway_requests_total\{tenant="other",provider="mock",status="2xx"\} 4/);
    const models = new Set([...text.matchAll(/leash_cost_usd_total\{[^}]*model="([^"]+)"/g)].map((m) => m[1]));
    assert.deepEqual([...models].sort(), ["m1", "other"]);
    assert.match(text, /leash_cost_usd_total\{tenant="other",provider="mock",model="other"\} 1\b/);
  });
});

describe("request metrics and a reset", () => {
  test("after the registry resets its metrics, each report counts again from zero", async () => {
    const registry = new Registry();
    const metrics = createUsageMetrics(registry, () => ({ queued: 0, degraded: false }));
    const report = { tenant: "t1", provider: "mock", model: "m", status: 200, durationMs: 10, upstreamFirstByteMs: 5, promptTokens: 3, completionTokens: 2, cachedTokens: 0, costUsd: 0.25, estimated: false,
      moduleTimings: [{ module: "auth", micros: 40 }] };
    metrics.observe(report);
    metrics.observe(report);
    assert.match(await registry.metrics(), /leash_gateway_requests_total\{tenant="t1",provider="mock",status="2xx"\} 2\b/);
    registry.resetMetrics();
    metrics.observe(report);
    const text = await registry.metrics();
    assert.match(text, /leash_gateway_requests_total\{tenant="t1",provider="mock",status="2xx"\} 1\b/);
    assert.match(text, /leash_tokens_total\{tenant="t1",provider="mock",model="m",type="prompt"\} 3\b/);
    assert.match(text, /leash_cost_usd_total\{tenant="t1",provider="mock",model="m"\} 0\.25\b/);
    assert.match(text, /leash_gateway_request_duration_seconds_count\{tenant="t1",provider="mock"\} 1\b/);
    assert.match(text, /leash_module_processing_duration_seconds_count\{module="auth",tenant="t1"\} 1\b/);
    assert.match(text, /leash_provider_latency_seconds_count\{provider="mock"\} 1\b/);
  });
});

describe("module names in metrics", () => {
  test("past 16 distinct module names, later ones count as 'other'", async () => {
    const registry = new Registry();
    const metrics = createUsageMetrics(registry, () => ({ queued: 0, degraded: false }));
    for (let i = 0; i < 20; i++) {
      metrics.observe({ tenant: "t1", provider: "mock", model: "m", status: 200, durationMs: 10, upstreamFirstByteMs: 5, promptTokens: 1, completionTokens: 1, cachedTokens: 0, costUsd: 0, estimated: false,
        moduleTimings: [{ module: `m${i}`, micros: 40 }] });
    }
    const text = await registry.metrics();
    const counts = [...text.matchAll(/leash_module_processing_duration_seconds_count\{module="([^"]+)",tenant="t1"\} (\d+)/g)].map((m) => [m[1], Number(m[2])]);
    assert.deepEqual(counts, [...Array.from({ length: 16 }, (_, i) => [`m${i}`, 1]), ["other", 4]]);
  });
});

describe("ledger partitions", () => {
  test("one partition per UTC month", () => {
    assert.deepEqual(partitionOf(Date.UTC(2026, 11, 31, 23, 59, 59)), {
      name: "usage_ledger_p202612",
      table: "usage_ledger",
      from: "2026-12-01T00:00:00.000Z",
      to: "2027-01-01T00:00:00.000Z",
    });
    assert.equal(partitionOf(Date.UTC(2027, 0, 1), "audit_log").name, "audit_log_p202701");
  });
});
