// The run's schedule: which load points exist and in what order they run. Targets are interleaved
// within every scenario of every round, and their order rotates from round to round, so slow
// drift of a noisy machine (other jobs, thermal, the database's autovacuum) spreads over all
// targets instead of landing on whichever ran last.

import type { BenchOptions } from "./cli/options.ts";
import { sizeLabel } from "./load/payload.ts";
import type { TargetName } from "./targets/types.ts";

export interface Scenario {
  /** "1k@1000" or "1k@250 sse". */
  id: string;
  sizeBytes: number;
  size: string;
  rate: number;
  stream: boolean;
}

export interface PlannedPoint {
  round: number;
  scenario: Scenario;
  target: TargetName;
}

export function scenarioId(size: string, rate: number, stream: boolean): string {
  return `${size}@${rate}${stream ? " sse" : ""}`;
}

export function scenarios(opts: BenchOptions): Scenario[] {
  const list: Scenario[] = [];
  for (const sizeBytes of opts.sizes) {
    for (const rate of opts.rates) {
      const size: string = sizeLabel(sizeBytes);
      list.push({ id: scenarioId(size, rate, false), sizeBytes, size, rate, stream: false });
    }
  }
  const smallest: number = opts.sizes[0];
  for (const rate of opts.streamRates) {
    const size: string = sizeLabel(smallest);
    list.push({ id: scenarioId(size, rate, true), sizeBytes: smallest, size, rate, stream: true });
  }
  // Low rates first within a round: an overloaded point never runs just before a light one.
  return list.sort((a: Scenario, b: Scenario) => a.rate - b.rate || Number(a.stream) - Number(b.stream) || a.sizeBytes - b.sizeBytes);
}

export function plan(opts: BenchOptions, targets: readonly TargetName[]): PlannedPoint[] {
  const points: PlannedPoint[] = [];
  const list: Scenario[] = scenarios(opts);
  for (let round = 1; round <= opts.rounds; round++) {
    for (const scenario of list) {
      const shift: number = (round - 1) % targets.length;
      const order: TargetName[] = [...targets.slice(shift), ...targets.slice(0, shift)];
      for (const target of order) points.push({ round, scenario, target });
    }
  }
  return points;
}

/**
 * Rough wall time of a plan, for the start-up message: each target's warm-up before round 1, then
 * every point's warm-up, measurement and drain.
 */
export function estimateSeconds(opts: BenchOptions, pointCount: number, targetCount: number): number {
  return Math.ceil((targetCount * opts.targetWarmupMs + pointCount * (opts.warmupMs + opts.durationMs + 300)) / 1000);
}
