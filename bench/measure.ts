// One load point: warm the target up at the point's rate, then measure it — latencies from the
// open-loop generator, CPU and memory of the target's processes and of the mock from /proc — and
// decide whether the measurement is valid, i.e. whether the load side kept up.

import { runOpenLoop, type OpenLoopOptions, type OpenLoopResult } from "./load/open-loop.ts";
import type { RequestSpec } from "./load/http-call.ts";
import { chatBody } from "./load/payload.ts";
import { percentiles } from "./load/percentiles.ts";
import { loadPool, type LoadPool } from "./load/pool.ts";
import type { Scenario } from "./plan.ts";
import { sampleGroup, usageBetween, type GroupSample, type RoleUsage } from "./procs/proc-stats.ts";
import type { PointResult } from "./report/result-types.ts";
import type { RunningTarget } from "./targets/types.ts";

export interface MeasureSettings {
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
  mockPid: number;
  /** True when the generator and the mock share one core (pinned), so their sum is what saturates. */
  loadSharesOneCore: boolean;
  signal: AbortSignal;
}

/**
 * When a point says more about the load side than about the target. The rules are in the report
 * too; a point that breaks one is kept in the JSON but shown as invalid, never as a figure.
 */
export const VALIDITY_RULES: readonly string[] = [
  "achieved send rate ≥ 95 % of the scheduled rate",
  "generator send lag P99 ≤ 10 ms (it sent on time; Node timers alone add up to ~1 ms)",
  "generator CPU ≤ 90 % of a core, mock provider CPU ≤ 90 % of a core, and their sum ≤ 90 % when they share one pinned core",
  "every target and the mock had gone idle (< 10 % CPU together over 250 ms, waited for up to 60 s) before the point started",
];

/**
 * A target that fails a rate this clearly (over 1 % errors, or P95 over a second) fails every
 * higher rate too; its higher rates in the same round are skipped rather than measured, which
 * would only pile a backlog onto the shared target core and cost minutes per point.
 */
export function overloaded(p: PointResult): boolean {
  return p.errorCount > p.scheduled * 0.01 || !(p.latencyMs.p95 <= 1000);
}
const MIN_ACHIEVED_FRACTION: number = 0.95;
const MAX_SEND_LAG_P99_MS: number = 10;
const MAX_CPU_PERCENT: number = 90;

/** Bodies are built once per size and kind and shared by all targets (same bytes for everyone). */
const bodies: Map<string, Buffer> = new Map<string, Buffer>();
export function bodyFor(sizeBytes: number, stream: boolean): Buffer {
  const key: string = `${sizeBytes}/${stream}`;
  let body: Buffer | undefined = bodies.get(key);
  if (body === undefined) {
    body = chatBody(sizeBytes, stream);
    bodies.set(key, body);
  }
  return body;
}

/** One open-loop run of non-streaming requests, outside the rounds (bench/warm-up.ts, bench/timeline.ts). */
export interface LoadSettings {
  /** Requests per second. */
  rate: number;
  sizeBytes: number;
  durationMs: number;
  timeoutMs: number;
  signal: AbortSignal;
}

/** Sends `settings`' load to `target` through a pool of its own; `onRequest` as in OpenLoopOptions. */
export async function loadTarget(target: RunningTarget, settings: LoadSettings, onRequest?: OpenLoopOptions["onRequest"]): Promise<OpenLoopResult> {
  const { agent, maxInFlight }: LoadPool = loadPool(settings.rate);
  try {
    return await runOpenLoop({
      spec: target.request(bodyFor(settings.sizeBytes, false), false),
      ratePerSec: settings.rate,
      durationMs: settings.durationMs,
      timeoutMs: settings.timeoutMs,
      maxInFlight,
      agent,
      signal: settings.signal,
      onRequest,
    });
  } finally {
    agent.destroy();
  }
}

export async function measurePoint(target: RunningTarget, scenario: Scenario, round: number, settings: MeasureSettings): Promise<PointResult> {
  const spec: RequestSpec = target.request(bodyFor(scenario.sizeBytes, scenario.stream), scenario.stream);
  const { agent, maxInFlight }: LoadPool = loadPool(scenario.rate);
  const load = (durationMs: number): Promise<OpenLoopResult> =>
    runOpenLoop({ spec, ratePerSec: scenario.rate, durationMs, timeoutMs: settings.timeoutMs, maxInFlight, agent, signal: settings.signal });
  try {
    if (settings.warmupMs > 0) await load(settings.warmupMs);
    const roles: Record<string, number[]> = { ...target.processes, mock: [settings.mockPid] };
    const startedAt: string = new Date().toISOString();
    const depsBefore: GroupSample = sampleGroup(target.dependencies);
    const before: GroupSample = sampleGroup(roles);
    const run: OpenLoopResult = await load(settings.durationMs);
    const after: GroupSample = sampleGroup(roles);
    const dependencyCpuPercent: Record<string, number> = {};
    for (const [role, u] of Object.entries(usageBetween(depsBefore, sampleGroup(target.dependencies)))) {
      dependencyCpuPercent[role] = u.cpuPercent;
    }
    const usage: Record<string, RoleUsage> = usageBetween(before, after);
    const mockCpu: number = usage.mock?.cpuPercent ?? Number.NaN;
    delete usage.mock;
    const targetCpu: number = Object.values(usage).reduce((sum: number, u: RoleUsage) => sum + u.cpuPercent, 0);

    const sendLag = percentiles(run.sendLagMs);
    const invalidReasons: string[] = [];
    if (run.achievedRate < scenario.rate * MIN_ACHIEVED_FRACTION) {
      invalidReasons.push(`generator sent ${run.achievedRate.toFixed(0)}/s of ${scenario.rate}/s scheduled`);
    }
    if (sendLag.p99 > MAX_SEND_LAG_P99_MS) invalidReasons.push(`generator send lag P99 ${sendLag.p99.toFixed(1)} ms`);
    if (run.generatorCpuPercent > MAX_CPU_PERCENT) invalidReasons.push(`generator CPU ${run.generatorCpuPercent.toFixed(0)} %`);
    if (mockCpu > MAX_CPU_PERCENT) invalidReasons.push(`mock provider CPU ${mockCpu.toFixed(0)} %`);
    if (settings.loadSharesOneCore && run.generatorCpuPercent + mockCpu > MAX_CPU_PERCENT) {
      invalidReasons.push(`load core saturated: generator + mock CPU ${(run.generatorCpuPercent + mockCpu).toFixed(0)} %`);
    }
    if (settings.signal.aborted) invalidReasons.push("interrupted");

    const errorCount: number = Object.values(run.errors).reduce((a: number, b: number) => a + b, 0);
    return {
      round,
      target: target.name,
      scenario: scenario.id,
      size: scenario.size,
      sizeBytes: scenario.sizeBytes,
      rate: scenario.rate,
      stream: scenario.stream,
      startedAt,
      scheduled: run.scheduled,
      sent: run.sent,
      ok: run.ok,
      errorCount,
      errors: run.errors,
      achievedRate: run.achievedRate,
      latencyMs: percentiles(run.latencyMs),
      ttftMs: scenario.stream ? percentiles(run.ttftMs) : null,
      sendLagMs: sendLag,
      generatorCpuPercent: run.generatorCpuPercent,
      mockCpuPercent: mockCpu,
      targetCpuPercent: targetCpu,
      targetUsage: usage,
      dependencyCpuPercent,
      valid: invalidReasons.length === 0,
      invalidReasons,
    };
  } finally {
    agent.destroy();
  }
}
