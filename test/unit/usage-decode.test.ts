// The server decodes usage reports with longs as numbers (proto.ts sidecarServiceDefinition): the
// seven uint64 fields arrive as numbers, and a value a number cannot hold exactly (2^53 and up)
// is still refused by validation, as its digit string was.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadSidecarService, sidecarServiceDefinition } from "../../sidecar-services/src/proto.ts";
import { validateUsageReport } from "../../sidecar-services/src/usage-report.ts";

const NOW = Date.UTC(2026, 10, 27, 12);

function report(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_id: "r-1", tenant_id: "acme", key_id: "k", provider: "mock", api: "openai", model: "m", status: 200,
    prompt_tokens: "12", completion_tokens: "34", cached_tokens: "5", duration_ms: "250", upstream_first_byte_ms: "40",
    started_at_ms: String(NOW - 1000), upstream_responded: true, module_timings: [{ module: "auth", micros: "17" }], ...over,
  };
}

/** Encodes a batch as a client loading the shared options would, decodes it as the server does. */
function roundTrip(reports: Record<string, unknown>[]): { reports: Record<string, unknown>[] } {
  const client = loadSidecarService().service.RecordUsageBatch!;
  const server = sidecarServiceDefinition().RecordUsageBatch!;
  return server.requestDeserialize(client.requestSerialize({ reports })) as { reports: Record<string, unknown>[] };
}

describe("usage reports as the server decodes them", () => {
  it("carries uint64 fields as numbers, strings and the rest as the shared options give them", () => {
    const [r] = roundTrip([report()]).reports;
    assert.deepEqual(
      [r!.prompt_tokens, r!.completion_tokens, r!.cached_tokens, r!.duration_ms, r!.upstream_first_byte_ms, r!.started_at_ms],
      [12, 34, 5, 250, 40, NOW - 1000],
    );
    assert.deepEqual(r!.module_timings, [{ module: "auth", micros: 17 }]);
    assert.equal(r!.request_id, "r-1");
    assert.equal(r!.tenant_id, "acme");
    assert.equal(r!.streamed, false, "defaults still filled in");
    const v = validateUsageReport(r!, NOW);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.record.prompt_tokens, 12);
    const single = sidecarServiceDefinition().RecordUsage!;
    const one = single.requestDeserialize(loadSidecarService().service.RecordUsage!.requestSerialize(report())) as Record<string, unknown>;
    assert.equal(one.started_at_ms, NOW - 1000, "RecordUsage (one report) decodes the same way");
  });

  it("refuses what a number cannot hold exactly, as the digit strings were refused", () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ["tokens", { prompt_tokens: "18446744073709551615" }],
      ["started_at", { started_at_ms: "9007199254740993" }],
      ["started_at", { started_at_ms: "9007199254740992" }],
      ["duration", { duration_ms: "4294967296" }],
    ];
    for (const [reason, over] of cases) {
      const [r] = roundTrip([report(over)]).reports;
      const v = validateUsageReport(r!, NOW);
      assert.equal(v.ok, false, JSON.stringify(over));
      assert.equal(!v.ok && v.reason, reason, JSON.stringify(over));
    }
  });

  it("leaves the other RPCs' decoding as the shared options give it (longs as strings)", () => {
    const shared = loadSidecarService().service;
    const server = sidecarServiceDefinition();
    assert.deepEqual(Object.keys(server).sort(), Object.keys(shared).sort());
    const reserve = server.Reserve!.requestDeserialize(shared.Reserve!.requestSerialize({ request_id: "r", lease_requests_wanted: "7" })) as Record<string, unknown>;
    assert.equal(reserve.lease_requests_wanted, "7");
  });
});
