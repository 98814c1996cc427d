// What one module adds on its own: a target with the module minus the same gateway without it, at
// the same scenario (both already relative to direct of their own round, so the baseline cancels).
// A difference of percentiles, not the percentile of a per-request difference: the two targets
// never serve the same requests. Issue 4 states the quota check's budget this way. The status uses
// the difference of the two rows' medians over rounds; the same difference within each round
// (paired: both ran in that round, minutes apart) is listed beside it, to show the spread.
//
// The A/A control (leash-auth-control − leash-auth, two identical gateways) is listed the same way
// when the run has it: the difference the machine's noise alone makes, which a module's difference
// is read against. It has no budget; its status is "control".

import type { ModuleCostRow, PointResult, SummaryRow } from "./result-types.ts";
import type { TargetName } from "../targets/types.ts";

interface ModuleCost {
  module: string;
  /** The gateway with the module, and the same gateway without it. */
  target: TargetName;
  base: TargetName;
  /** The budget and the rate it is stated at. */
  goalP50Ms: number;
  goalP99Ms: number;
  goalRate: number;
  /** An A/A control: no module, no goal; its differences are noise. */
  control?: boolean;
}

export const MODULE_COSTS: readonly ModuleCost[] = [
  // Issue 4: "the quota check adds ≤ 100 µs P50 and ≤ 500 µs P99 to a request at 1000 RPS".
  { module: "quota", target: "leash-quota", base: "leash-auth", goalP50Ms: 0.1, goalP99Ms: 0.5, goalRate: 1000 },
  { module: "none (A/A control)", target: "leash-auth-control", base: "leash-auth", goalP50Ms: 0, goalP99Ms: 0, goalRate: 0, control: true },
];

/** target − base P50 and P99 in each round where both have a valid point of `scenario`, in round order. */
function perRound(points: readonly PointResult[], target: TargetName, base: TargetName, scenario: string): ModuleCostRow["perRound"] {
  const out: NonNullable<ModuleCostRow["perRound"]> = [];
  for (const t of points) {
    if (t.target !== target || t.scenario !== scenario || t.stream || !t.valid) continue;
    const b: PointResult | undefined = points.find((p: PointResult) => p.target === base && p.round === t.round && p.scenario === scenario && !p.stream && p.valid);
    if (b === undefined) continue;
    out.push({ round: t.round, p50Ms: t.latencyMs.p50 - b.latencyMs.p50, p99Ms: t.latencyMs.p99 - b.latencyMs.p99 });
  }
  return out.sort((x, y) => x.round - y.round);
}

/** Every non-streaming scenario where both targets of a module have a valid row. */
export function moduleCosts(rows: readonly SummaryRow[], points: readonly PointResult[] = []): ModuleCostRow[] {
  const out: ModuleCostRow[] = [];
  for (const c of MODULE_COSTS) {
    for (const row of rows) {
      if (row.target !== c.target || row.stream) continue;
      const base: SummaryRow | undefined = rows.find((r: SummaryRow) => r.target === c.base && r.scenario === row.scenario && !r.stream);
      if (base === undefined) continue;
      const usable: boolean = row.valid && base.valid && row.overheadMs !== null && base.overheadMs !== null;
      const p50: number | null = usable ? row.overheadMs!.p50 - base.overheadMs!.p50 : null;
      const p99: number | null = usable ? row.overheadMs!.p99 - base.overheadMs!.p99 : null;
      const atGoalRate: boolean = row.rate === c.goalRate;
      let status: ModuleCostRow["status"] = c.control === true ? "control" : "";
      if (atGoalRate && c.control !== true) status = p50 === null || p99 === null ? "not measured" : p50 <= c.goalP50Ms && p99 <= c.goalP99Ms ? "met" : "missed";
      out.push({
        module: c.module, target: c.target, base: c.base, scenario: row.scenario, rate: row.rate,
        p50Ms: p50, p99Ms: p99, goalP50Ms: c.goalP50Ms, goalP99Ms: c.goalP99Ms, status,
        perRound: perRound(points, c.target, c.base, row.scenario),
      });
    }
  }
  return withResolution(out);
}

/**
 * Gives each module's row the A/A control's difference in the same scenario, when the run had it,
 * and the percentiles whose goal is within it: a goal no larger than the difference two identical
 * gateways showed cannot be told met or missed by this run.
 */
function withResolution(rows: ModuleCostRow[]): ModuleCostRow[] {
  for (const r of rows) {
    if (r.status === "control") continue;
    const control: ModuleCostRow | undefined = rows.find((c: ModuleCostRow) => c.status === "control" && c.scenario === r.scenario);
    if (control === undefined || control.p50Ms === null || control.p99Ms === null) continue;
    r.control = { p50Ms: control.p50Ms, p99Ms: control.p99Ms };
    r.unresolved = [];
    if (Math.abs(control.p50Ms) >= r.goalP50Ms) r.unresolved.push("p50");
    if (Math.abs(control.p99Ms) >= r.goalP99Ms) r.unresolved.push("p99");
  }
  return rows;
}
