// bench/report/summary.ts: which ratios the report computes and how it says why a rate was not
// sustained. Pure functions over summary rows: no target is started.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { SummaryRow } from "../../bench/report/result-types.ts";
import { ratios, sustainedRates } from "../../bench/report/summary.ts";
import type { TargetName } from "../../bench/targets/types.ts";

function row(target: TargetName, rate: number, p50: number, extra: Partial<SummaryRow> = {}): SummaryRow {
  return {
    target, scenario: `1k@${rate}`, size: "1k", rate, stream: false, rounds: 3, validRounds: 3, requests: rate * 30,
    errors: 0, errorKinds: {}, latencyMs: { p50: 1 + p50, p95: 2, p99: 3 }, overheadMs: { p50, p95: p50 * 2, p99: p50 * 4 },
    ttftMs: null, ttftOverheadMs: null, achievedRate: rate, targetCpuPercent: 10, dependencyCpuPercent: 0, cpuMsPer1000: 300,
    generatorCpuPercent: 10, sendLagP99Ms: 1, mockCpuPercent: 5, valid: true, invalidReasons: [], ...extra,
  };
}

describe("bench summary: overhead ratios", () => {
  it("are computed where both gateways kept up", () => {
    const out = ratios([row("leash-full", 50, 0.5), row("portkey", 50, 2.5)]);
    const p50 = out.find((r) => r.target === "leash-full" && r.versus === "portkey" && r.percentile === "p50")!;
    assert.equal(p50.ratio, 0.2);
    assert.equal(p50.note, "");
  });

  it("are not computed against a peer that failed requests: its latency is its queue", () => {
    const litellm = row("litellm", 250, 3221, { errors: 4976, errorKinds: { client_inflight_cap: 4976 } });
    const out = ratios([row("leash-full", 250, 0.76), litellm, row("envoy-bare", 250, 0.39)]);
    const vsLitellm = out.filter((r) => r.target === "leash-full" && r.versus === "litellm");
    assert.equal(vsLitellm.length, 2, "the rows stay, with their overheads, to be read");
    for (const r of vsLitellm) {
      assert.equal(r.ratio, null);
      assert.equal(r.note, "litellm did not sustain this point (4976 errors)");
    }
    const vsBare = out.find((r) => r.target === "leash-full" && r.versus === "envoy-bare" && r.percentile === "p50")!;
    assert.ok(Math.abs(vsBare.ratio! - 0.76 / 0.39) < 1e-9, "a ratio between two gateways that kept up is unaffected");
  });

  it("are not computed for a Leash target that failed requests either", () => {
    const out = ratios([row("leash-full", 2000, 1.81, { errors: 1, errorKinds: { http_503: 1 } }), row("envoy-bare", 2000, 0.44)]);
    assert.ok(out.length > 0);
    for (const r of out) {
      assert.equal(r.ratio, null);
      assert.equal(r.note, "leash-full did not sustain this point (1 errors)");
    }
  });
});

describe("bench summary: highest sustained rate", () => {
  it("names the target's errors beside the reason a rate could not be measured", () => {
    const invalid = row("leash-auth", 5000, 0, {
      valid: false, validRounds: 0, overheadMs: null, errors: 22698, errorKinds: { client_inflight_cap: 754, http_503: 21944 },
      invalidReasons: ["round 1: generator send lag P99 279.0 ms"],
    });
    const [s] = sustainedRates([row("leash-auth", 2000, 0.7), invalid], ["leash-auth"], ["1k"]);
    assert.equal(s!.rate, 2000);
    assert.equal(s!.note, "5000/s not measurable: round 1: generator send lag P99 279.0 ms (and 22698 errors: http_503×21944, client_inflight_cap×754)");
  });

  it("says only why, when an unmeasurable rate had no errors", () => {
    const invalid = row("direct", 5000, 0, { valid: false, validRounds: 0, overheadMs: null, invalidReasons: ["round 1: load core saturated"] });
    const [s] = sustainedRates([row("direct", 2000, 0), invalid], ["direct"], ["1k"]);
    assert.equal(s!.rate, 2000);
    assert.equal(s!.note, "5000/s not measurable: round 1: load core saturated");
  });
});
