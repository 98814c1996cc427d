// The open-loop, constant-rate load generator. Request i is *scheduled* at t0 + i/rate whatever
// happened to earlier requests (it never waits for a response before sending the next), and its
// latency is counted from that scheduled time, not from when it actually left. A target that
// stalls therefore shows its stall in every request scheduled during it (no coordinated omission),
// and a generator that falls behind is caught by its send lag and achieved rate.
//
// Node timers have 1 ms resolution: the scheduler wakes on a timer and sends everything that is
// due, so a request leaves up to about 1 ms after its scheduled time. That lateness is in every
// latency (for every target alike, so it cancels out of the overhead) and is reported as send lag.

import type { Agent } from "node:http";

import { call, requestHeaders, type CallResult, type RequestSpec } from "./http-call.ts";

export interface OpenLoopOptions {
  spec: RequestSpec;
  /** Requests per second. */
  ratePerSec: number;
  /** How long requests are scheduled for. */
  durationMs: number;
  /** Per-request bound on the whole exchange. */
  timeoutMs: number;
  /**
   * Most requests in flight at once. A request due while this many are outstanding is not sent
   * and counts as the error "client_inflight_cap": the bound keeps a stalled target from making
   * the generator open connections without end.
   */
  maxInFlight: number;
  /** Keep-alive pool shared by the point's requests. */
  agent: Agent;
  /** Aborting stops scheduling; requests in flight still finish (or time out). */
  signal?: AbortSignal;
  /**
   * Called once for every request the generator got to, with its index in the schedule: its
   * latency from the scheduled start, or its error kind (latency NaN). For tools that need to know
   * *when* a request was slow (bench/timeline.ts); the result above is the same with or without it.
   */
  onRequest?: (index: number, latencyMs: number, error: string | null) => void;
}

export interface OpenLoopResult {
  /** Requests the schedule held (rate × duration), whether sent or not. */
  scheduled: number;
  sent: number;
  /** Requests that ended in success. */
  ok: number;
  /** Failures by kind ("http_503", "timeout", "ECONNREFUSED", "client_inflight_cap", …). */
  errors: Record<string, number>;
  /** Scheduled start → response end, in ms, for the first `ok` entries. */
  latencyMs: Float64Array;
  /** Scheduled start → first response byte, in ms (streams only; empty otherwise). */
  ttftMs: Float64Array;
  /**
   * How late the generator got to each request after its scheduled time, in ms: sent, or turned
   * away by the in-flight bound (that is the target's fault, but the generator was on time).
   */
  sendLagMs: Float64Array;
  /**
   * Requests the generator got to per second (sent or turned away by the in-flight bound),
   * measured from t0 to the last one plus one interval: below the rate, the generator fell behind.
   */
  achievedRate: number;
  /** Wall time from t0 until the last response, in ms. */
  elapsedMs: number;
  /** CPU time this process spent over elapsedMs, as a percentage of one core. */
  generatorCpuPercent: number;
}

/** How many requests a run of `durationMs` at `ratePerSec` schedules (indexes 0 … n − 1). */
export function scheduledCount(ratePerSec: number, durationMs: number): number {
  return Math.max(1, Math.round((ratePerSec * durationMs) / 1000));
}

export function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const total: number = scheduledCount(opts.ratePerSec, opts.durationMs);
  const intervalMs: number = 1000 / opts.ratePerSec;
  const headers: Record<string, string> = requestHeaders(opts.spec);
  const latencyMs: Float64Array = new Float64Array(total);
  const ttftMs: Float64Array = new Float64Array(opts.spec.stream ? total : 0);
  const sendLagMs: Float64Array = new Float64Array(total);
  let attempted: number = 0;
  let lastAttemptAt: number = 0;
  const errors: Record<string, number> = {};
  const fail = (kind: string): void => {
    errors[kind] = (errors[kind] ?? 0) + 1;
  };

  let next: number = 0;
  let sent: number = 0;
  let ok: number = 0;
  let ttftCount: number = 0;
  let inFlight: number = 0;
  let lastSendAt: number = 0;
  let lastEndAt: number = 0;
  let schedulingDone: boolean = false;

  return new Promise<OpenLoopResult>((resolve) => {
    const cpuStart: NodeJS.CpuUsage = process.cpuUsage();
    // A little lead so the first request is not already late when the first tick runs.
    const t0: number = performance.now() + 2;

    const maybeFinish = (): void => {
      if (!schedulingDone || inFlight > 0) return;
      const end: number = Math.max(lastEndAt, lastSendAt, t0);
      const cpu: NodeJS.CpuUsage = process.cpuUsage(cpuStart);
      const elapsedMs: number = Math.max(end - t0, 1);
      const attemptSpanMs: number = lastAttemptAt - t0 + intervalMs;
      resolve({
        scheduled: total,
        sent,
        ok,
        errors,
        latencyMs: latencyMs.subarray(0, ok),
        ttftMs: ttftMs.subarray(0, ttftCount),
        sendLagMs: sendLagMs.subarray(0, attempted),
        achievedRate: attempted > 0 ? (attempted * 1000) / attemptSpanMs : 0,
        elapsedMs,
        generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
      });
    };

    const fire = (index: number, scheduledAt: number): void => {
      const sentAt: number = performance.now();
      sendLagMs[attempted] = sentAt - scheduledAt;
      attempted += 1;
      lastAttemptAt = sentAt;
      if (inFlight >= opts.maxInFlight) {
        fail("client_inflight_cap");
        opts.onRequest?.(index, Number.NaN, "client_inflight_cap");
        return;
      }
      sent += 1;
      lastSendAt = sentAt;
      inFlight += 1;
      call(opts.agent, opts.spec, headers, opts.timeoutMs, (result: CallResult): void => {
        inFlight -= 1;
        lastEndAt = Math.max(lastEndAt, result.endAt);
        opts.onRequest?.(index, result.error === null ? result.endAt - scheduledAt : Number.NaN, result.error);
        if (result.error !== null) {
          fail(result.error);
        } else {
          latencyMs[ok] = result.endAt - scheduledAt;
          ok += 1;
          if (opts.spec.stream && !Number.isNaN(result.firstByteAt)) {
            ttftMs[ttftCount] = result.firstByteAt - scheduledAt;
            ttftCount += 1;
          }
        }
        maybeFinish();
      });
    };

    const tick = (): void => {
      if (opts.signal?.aborted) {
        schedulingDone = true;
        maybeFinish();
        return;
      }
      const now: number = performance.now();
      while (next < total && t0 + next * intervalMs <= now) {
        fire(next, t0 + next * intervalMs);
        next += 1;
      }
      if (next >= total) {
        schedulingDone = true;
        maybeFinish();
        return;
      }
      // Wake just before the next request is due; floor() errs early, and an early wake simply
      // finds nothing due and sleeps again (setTimeout(0) is 1 ms in Node).
      const waitMs: number = t0 + next * intervalMs - performance.now();
      setTimeout(tick, Math.max(0, Math.floor(waitMs)));
    };
    setTimeout(tick, 1);
  });
}
