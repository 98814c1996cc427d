// The bench's module-cost table (bench/report/module-cost.ts): a module's target minus its base,
// with the paired difference of each round beside the difference of medians the status uses.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { moduleCosts } from "../../bench/report/module-cost.ts";
import type { PointResult, SummaryRow } from "../../bench/report/result-types.ts";

const triple = (p50: number, p99: number) => ({ p50, p95: p99, p99 });

type Name = "leash-quota" | "leash-auth" | "leash-auth-control";

function row(target: Name, overheadP50: number, overheadP99: number): SummaryRow {
  return { target, scenario: "1k@1000", size: "1k", rate: 1000, stream: false, valid: true, overheadMs: triple(overheadP50, overheadP99) } as unknown as SummaryRow;
}

function point(target: Name, round: number, p50: number, p99: number, valid = true): PointResult {
  return { target, round, scenario: "1k@1000", stream: false, valid, latencyMs: { p50, p95: p99, p99 } } as unknown as PointResult;
}

describe("bench module cost", () => {
  it("takes the status from the difference of medians and lists each round's paired difference, skipping invalid rounds", () => {
    const rows = [row("leash-quota", 0.4, 1.3), row("leash-auth", 0.3, 0.7)];
    const points = [
      point("leash-auth", 2, 1.2, 2.5), point("leash-quota", 2, 1.3, 2.8),
      point("leash-quota", 1, 1.4, 3.5), point("leash-auth", 1, 1.3, 2.6),
      point("leash-quota", 3, 1.5, 3.0), point("leash-auth", 3, 1.0, 2.0, false),
    ];
    const [cost] = moduleCosts(rows, points);
    assert.equal(cost.status, "missed");
    assert.ok(Math.abs(cost.p99Ms! - 0.6) < 1e-9);
    assert.deepEqual(cost.perRound!.map((r) => r.round), [1, 2]);
    assert.ok(Math.abs(cost.perRound![0].p99Ms - 0.9) < 1e-9 && Math.abs(cost.perRound![1].p99Ms - 0.3) < 1e-9);
    assert.ok(Math.abs(cost.perRound![0].p50Ms - 0.1) < 1e-9);
  });

  it("without points (older runs re-rendered) the rounds list is empty", () => {
    const [cost] = moduleCosts([row("leash-quota", 0.05, 0.2), row("leash-auth", 0, 0)]);
    assert.equal(cost.status, "met");
    assert.deepEqual(cost.perRound, []);
  });

  it("lists the A/A control (two identical gateways) with its per-round differences and no goal", () => {
    const rows = [row("leash-quota", 0.4, 1.3), row("leash-auth", 0.3, 0.7), row("leash-auth-control", 0.35, 1.6)];
    const points = [point("leash-auth", 1, 1.2, 2.5), point("leash-auth-control", 1, 1.1, 3.5), point("leash-quota", 1, 1.3, 2.8)];
    const costs = moduleCosts(rows, points);
    const control = costs.find((c) => c.target === "leash-auth-control")!;
    assert.equal(control.status, "control");
    assert.equal(control.base, "leash-auth");
    assert.ok(Math.abs(control.p99Ms! - 0.9) < 1e-9);
    assert.ok(Math.abs(control.perRound![0].p50Ms + 0.1) < 1e-9 && Math.abs(control.perRound![0].p99Ms - 1.0) < 1e-9);
    // The quota row keeps its own status and carries the control's difference beside it: the A/A
    // P50 difference (0.05) is below the P50 goal (0.10), so that is resolved; the P99 goal (0.5) is
    // within the A/A P99 difference (0.9), so this run cannot tell the P99 met or missed.
    const quota = costs.find((c) => c.target === "leash-quota")!;
    assert.equal(quota.status, "missed");
    assert.deepEqual(quota.control, { p50Ms: control.p50Ms, p99Ms: control.p99Ms });
    assert.deepEqual(quota.unresolved, ["p99"]);
  });

  it("without the control a module row says nothing about resolution", () => {
    const [quota] = moduleCosts([row("leash-quota", 0.4, 1.3), row("leash-auth", 0.3, 0.7)]);
    assert.equal(quota.control, undefined);
    assert.equal(quota.unresolved, undefined);
  });
});
