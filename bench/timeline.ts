// Where a target's tail latency comes from: `node --import tsx bench/timeline.ts --target leash-quota
// --rate 1000 --duration 20s --warmup-rate 250 --warmup 15s` (flags: cli/timeline-options.ts).
// Starts the mock and one target as bench/run.ts does, optionally warms it, then records every
// request of one open-loop run by its scheduled index and prints the percentiles, the slow requests
// per second and the episodes (runs) of slow requests: a cold start shows as slow first seconds, a
// periodic stall (a timer, a GC, a cache expiring) as evenly spaced episodes. Writes
// bench/results/timeline-<timestamp>.json. A diagnosis tool: it asserts nothing.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

import { parseTimelineOptions, TIMELINE_USAGE, type TimelineOptions } from "./cli/timeline-options.ts";
import { loadTarget, type LoadSettings } from "./measure.ts";
import { scheduledCount, type OpenLoopResult } from "./load/open-loop.ts";
import { sizeLabel } from "./load/payload.ts";
import { percentiles, type Percentiles } from "./load/percentiles.ts";
import { episodes, perSecond, type Episode, type SecondRow, type Timeline } from "./load/timeline-stats.ts";
import { interrupted, onCleanup, runEntry } from "./procs/cleanup.ts";
import { planPinning, pinSelf, type PinPlan } from "./procs/pinning.ts";
import type { WarmupOutcome } from "./report/result-types.ts";
import { startMock, type RunningMock } from "./targets/mock.ts";
import { startTarget } from "./targets/start.ts";
import type { RunningTarget } from "./targets/types.ts";
import { warmTarget, warmupLine } from "./warm-up.ts";

/** Episodes printed; all of them are in the JSON. */
const PRINTED_EPISODES: number = 60;

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : "–");

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Records one open-loop run of `target` request by request. */
async function record(target: RunningTarget, opts: TimelineOptions): Promise<{ run: OpenLoopResult; timeline: Timeline }> {
  const total: number = scheduledCount(opts.rate, opts.durationMs);
  const timeline: Timeline = { rate: opts.rate, latencyMs: new Float64Array(total).fill(Number.NaN), failed: new Uint8Array(total) };
  const settings: LoadSettings = { rate: opts.rate, sizeBytes: opts.sizeBytes, durationMs: opts.durationMs, timeoutMs: opts.timeoutMs, signal: interrupted };
  const run: OpenLoopResult = await loadTarget(target, settings, (index: number, latencyMs: number, error: string | null): void => {
    timeline.latencyMs[index] = latencyMs;
    timeline.failed[index] = error === null ? 0 : 1;
  });
  return { run, timeline };
}

function report(opts: TimelineOptions, warmup: WarmupOutcome | null, run: OpenLoopResult, latency: Percentiles, seconds: SecondRow[], found: Episode[]): string {
  const errors: string = Object.entries(run.errors).map(([k, n]: [string, number]) => `${k}×${n}`).join(", ") || "none";
  const lines: string[] = [
    `${opts.target} at ${opts.rate}/s for ${opts.durationMs / 1000} s, ${sizeLabel(opts.sizeBytes)} bodies, ` +
      (warmup === null ? "cold (no warm-up)" : `after ${opts.warmupMs / 1000} s at ${opts.warmupRate}/s (${warmupLine(warmup)})`),
    `latency ms: P50 ${ms(latency.p50)}  P95 ${ms(latency.p95)}  P99 ${ms(latency.p99)}  P99.9 ${ms(latency.p999)}  max ${ms(latency.max)}  (${run.ok} ok; errors: ${errors})`,
    `generator: sent ${run.achievedRate.toFixed(0)}/s, CPU ${run.generatorCpuPercent.toFixed(0)} % (a late generator shows up as slow requests too)`,
    `per second: requests slower than ${opts.slowMs} ms, errors, slowest ms`,
    ...seconds.map((r: SecondRow) => `  ${String(r.second).padStart(4)} s  slow ${String(r.slow).padStart(5)}  errors ${String(r.errors).padStart(4)}  max ${ms(r.maxMs)}`),
    `episodes (slow requests less than ${opts.episodeGapMs} ms apart): ${found.length}`,
    ...found
      .slice(0, PRINTED_EPISODES)
      .map(
        (e: Episode) =>
          `  at ${(e.startMs / 1000).toFixed(3)} s  span ${e.spanMs.toFixed(0)} ms  ${e.requests} slow  max ${ms(e.maxMs)}` +
          (e.sincePreviousMs === null ? "" : `  (${e.sincePreviousMs.toFixed(0)} ms after the previous)`),
      ),
  ];
  if (found.length > PRINTED_EPISODES) lines.push(`  … ${found.length - PRINTED_EPISODES} more in the JSON`);
  return `${lines.join("\n")}\n`;
}

async function main(opts: TimelineOptions): Promise<void> {
  const startedAt: string = new Date().toISOString();
  const pin: PinPlan = planPinning(opts.pin);
  pinSelf(pin);
  const workDir: string = mkdtempSync(join(tmpdir(), "leash-timeline-"));
  onCleanup(`work dir ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  const mock: RunningMock = await startMock({ pin, workDir, latencyMs: opts.mockLatencyMs, chunkDelayMs: 2 });
  log(`timeline: starting ${opts.target}…`);
  const target: RunningTarget = await startTarget(opts.target, { mockUrl: mock.url, pin, workDir, installPeers: opts.install });

  let warmup: WarmupOutcome | null = null;
  if (opts.warmupMs > 0) {
    log(`timeline: warming ${opts.target} for ${opts.warmupMs / 1000} s at ${opts.warmupRate}/s…`);
    const settings: LoadSettings = { rate: opts.warmupRate, sizeBytes: opts.sizeBytes, durationMs: opts.warmupMs, timeoutMs: opts.timeoutMs, signal: interrupted };
    warmup = await warmTarget(target, settings);
  }
  if (interrupted.aborted) return;
  log(`timeline: recording ${opts.durationMs / 1000} s at ${opts.rate}/s…`);
  const { run, timeline } = await record(target, opts);
  const answered: Float64Array = timeline.latencyMs.filter((v: number) => !Number.isNaN(v));
  const latency: Percentiles = percentiles(answered);
  const seconds: SecondRow[] = perSecond(timeline, opts.slowMs);
  const found: Episode[] = episodes(timeline, opts.slowMs, opts.episodeGapMs);
  process.stdout.write(report(opts, warmup, run, latency, seconds, found));

  mkdirSync(opts.outDir, { recursive: true });
  const file: string = join(opts.outDir, `timeline-${startedAt.replace(/[:.]/g, "-")}.json`);
  const { outDir: _outDir, ...settings } = opts;
  const json = { startedAt, settings, target: { description: target.description, version: target.version }, pinning: pin.description, warmup, latencyMs: latency, errors: run.errors, achievedRate: run.achievedRate, generatorCpuPercent: run.generatorCpuPercent, perSecond: seconds, episodes: found };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  log(`timeline: wrote ${relative(process.cwd(), file) || file}`);
}

await runEntry("timeline", TIMELINE_USAGE, () => parseTimelineOptions(process.argv.slice(2)), main);
