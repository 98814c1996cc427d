// The JSON a run writes to bench/results/<timestamp>.json. Times are milliseconds, memory bytes,
// CPU a percentage of one core. The markdown table, the chart and the smoke test read this shape.

import type { Percentiles } from "../load/percentiles.ts";
import type { RoleUsage } from "../procs/proc-stats.ts";
import type { TargetName } from "../targets/types.ts";

/** One target at one scenario in one round. */
export interface PointResult {
  round: number;
  target: TargetName;
  scenario: string;
  size: string;
  sizeBytes: number;
  rate: number;
  stream: boolean;
  startedAt: string;
  scheduled: number;
  sent: number;
  ok: number;
  errorCount: number;
  errors: Record<string, number>;
  /** Requests sent per second; compare with `rate`. */
  achievedRate: number;
  /** Scheduled start → response end, successful requests only. */
  latencyMs: Percentiles;
  /** Scheduled start → first response byte (streaming points), else null. */
  ttftMs: Percentiles | null;
  /** How late the generator sent each request after its scheduled time. */
  sendLagMs: Percentiles;
  generatorCpuPercent: number;
  mockCpuPercent: number;
  /** Sum over the target's roles. */
  targetCpuPercent: number;
  /** Per role ("envoy", "sidecar", "litellm", …). */
  targetUsage: Record<string, RoleUsage>;
  /** CPU of the servers the target depends on (leash-auth: "postgres", "redis"), whole servers. */
  dependencyCpuPercent: Record<string, number>;
  /** false: the generator or the mock could not keep up, so the figures say nothing about the target. */
  valid: boolean;
  invalidReasons: string[];
}

/** A point not measured because the target already failed a lower rate of the same size in that round. */
export interface SkippedPoint {
  round: number;
  target: TargetName;
  scenario: string;
  size: string;
  rate: number;
  stream: boolean;
  reason: string;
}

export interface TargetReport {
  name: TargetName;
  status: "ok" | "not-installed" | "failed-to-start";
  /** Why it did not run (empty when ok). */
  reason: string;
  description: string;
  version: string;
  /** Role → highest RSS (VmHWM) of its processes seen over the run, in bytes. */
  peakRssBytes: Record<string, number>;
  /** Sum over roles. */
  totalPeakRssBytes: number;
}

export interface Triple {
  p50: number;
  p95: number;
  p99: number;
}

/** One target at one scenario, over all rounds (medians of the per-round figures). */
export interface SummaryRow {
  target: TargetName;
  scenario: string;
  size: string;
  rate: number;
  stream: boolean;
  /** Rounds measured. */
  rounds: number;
  /** Rounds whose point and direct baseline were both valid; the figures are medians over these. */
  validRounds: number;
  requests: number;
  /** Failed requests in the valid rounds (in every round when the row is invalid). */
  errors: number;
  errorKinds: Record<string, number>;
  latencyMs: Triple;
  /** target pN − direct pN of the same round, median over rounds; null for direct or without a valid baseline. */
  overheadMs: Triple | null;
  ttftMs: Triple | null;
  /** Added time to first token: target TTFT pN − direct TTFT pN, median over rounds. */
  ttftOverheadMs: Triple | null;
  achievedRate: number;
  targetCpuPercent: number;
  /** Sum over the target's dependencies (whole PostgreSQL and Redis servers), median over rounds. */
  dependencyCpuPercent: number;
  /** CPU time the target's processes spent per 1000 requests, in ms: comparable across rates. */
  cpuMsPer1000: number;
  generatorCpuPercent: number;
  /** The generator's send lag P99, median over rounds. */
  sendLagP99Ms: number;
  mockCpuPercent: number;
  /** true when at least half the rounds (and at least one) were valid. */
  valid: boolean;
  /** Why rounds were left out (the row may still be valid from the others). */
  invalidReasons: string[];
}

export interface SustainedRate {
  target: TargetName;
  size: string;
  /** Highest rate with zero errors, P95 overhead under the bound and a valid measurement; null: none. */
  rate: number | null;
  note: string;
}

export interface RatioRow {
  scenario: string;
  percentile: "p50" | "p99";
  target: TargetName;
  versus: TargetName;
  targetOverheadMs: number;
  versusOverheadMs: number;
  /** targetOverhead ÷ versusOverhead; null when either is too close to zero to mean anything (see note). */
  ratio: number | null;
  /** Why there is no ratio ("" when there is one). */
  note: string;
}

/** One module's added latency: its target's overhead minus its base's (module-cost.ts). */
export interface ModuleCostRow {
  module: string;
  target: TargetName;
  base: TargetName;
  scenario: string;
  rate: number;
  /** target − base overhead, ms; null when either row is invalid. */
  p50Ms: number | null;
  p99Ms: number | null;
  goalP50Ms: number;
  goalP99Ms: number;
  /** Against the goal at the goal's rate; "" at other rates; "control" for the A/A control (no goal). */
  status: "met" | "missed" | "not measured" | "control" | "";
  /** target − base latency in each round where both points are valid (paired), ms; absent in older runs. */
  perRound?: Array<{ round: number; p50Ms: number; p99Ms: number }>;
  /** The A/A control's difference (leash-auth-control − leash-auth) in the same scenario, when the run had it. */
  control?: { p50Ms: number; p99Ms: number };
  /** Percentiles whose goal is no larger than the A/A difference: this run cannot tell them met or missed. */
  unresolved?: Array<"p50" | "p99">;
}

export interface GoalCheck {
  goal: string;
  measured: string;
  status: "met" | "missed" | "not measured";
  /** How far off a missed goal is, in words ("by 1.3 ms (3.6×)"). */
  by: string;
}

/** One target's warm-up before round 1 (bench/warm-up.ts): not measured; errors ignored but counted. */
export interface WarmupOutcome {
  target: TargetName;
  scheduled: number;
  ok: number;
  errors: Record<string, number>;
}

/** The warm-up every target got once before round 1. */
export interface TargetWarmup {
  /** 0: off (--target-warmup 0). */
  durationMs: number;
  /** The plan's lowest non-streaming rate. */
  rate: number;
  /** The plan's smallest body size ("1k"). */
  size: string;
  /** "each target warmed for 15 s at 250/s (1k bodies) before round 1, not measured", or that it was off. */
  description: string;
  targets: WarmupOutcome[];
}

export interface BenchResult {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  smoke: boolean;
  options: {
    targets: TargetName[];
    rates: number[];
    sizes: string[];
    streamRates: number[];
    durationMs: number;
    warmupMs: number;
    /** Absent in runs written before it existed. */
    targetWarmupMs?: number;
    rounds: number;
    mockLatencyMs: number;
    chunkDelayMs: number;
    timeoutMs: number;
  };
  machine: { cores: number; cpuModel: string; memoryGiB: number; kernel: string; node: string; envoy: string };
  /** The Leash code measured: the checkout's commit, and whether it had uncommitted changes. */
  source: { commit: string; dirty: boolean };
  pinning: string;
  /** Absent in runs written before it existed (their targets were not warmed before round 1). */
  targetWarmup?: TargetWarmup;
  generator: string;
  /** The validity rules applied to every point. */
  validity: string[];
  targets: TargetReport[];
  points: PointResult[];
  skipped: SkippedPoint[];
  summary: SummaryRow[];
  sustained: SustainedRate[];
  ratios: RatioRow[];
  /** Absent in runs written before it existed (rerender fills it). */
  moduleCosts?: ModuleCostRow[];
  goals: GoalCheck[];
}
