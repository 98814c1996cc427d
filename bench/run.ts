// Entry of the benchmark: `node --import tsx bench/run.ts [--smoke] [flags]` (flags: cli/options.ts).
// Starts the mock and every target once, runs the interleaved rounds, writes
// bench/results/<timestamp>.json/.md/.svg, prints the markdown to stdout, and stops everything it
// started — on success, on error and on Ctrl-C.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";

import { parseOptions, USAGE, type BenchOptions } from "./cli/options.ts";
import { sizeLabel } from "./load/payload.ts";
import { measurePoint, overloaded, VALIDITY_RULES } from "./measure.ts";
import { estimateSeconds, plan, type PlannedPoint } from "./plan.ts";
import { interrupted, onCleanup, runEntry } from "./procs/cleanup.ts";
import { planPinning, pinSelf, type PinPlan } from "./procs/pinning.ts";
import { everyProcess, waitQuiet, type QuietResult } from "./procs/quiet.ts";
import { sampleGroup, type GroupSample, type ProcSample } from "./procs/proc-stats.ts";
import { renderMarkdown } from "./report/markdown.ts";
import type { BenchResult, PointResult, SkippedPoint, TargetReport, TargetWarmup } from "./report/result-types.ts";
import { moduleCosts } from "./report/module-cost.ts";
import { goalChecks, ratios, summarize, sustainedRates } from "./report/summary.ts";
import { writeResults, type WrittenFiles } from "./report/write.ts";
import { warmTargets } from "./warm-up.ts";
import { envoyVersion } from "./targets/leash.ts";
import { startMock, type RunningMock } from "./targets/mock.ts";
import { REPO_ROOT } from "./targets/paths.ts";
import { reportedFailure, startTarget } from "./targets/start.ts";
import type { RunningTarget, TargetContext, TargetName, TargetUnavailable } from "./targets/types.ts";

const GENERATOR: string =
  "Node open-loop constant-rate generator (bench/load/open-loop.ts): requests scheduled at fixed intervals and never held back " +
  "by earlier responses; latency from each request's scheduled start; keep-alive pool per point (LIFO, at most rate in flight); " +
  "Node timers wake it at most ~1 ms late, counted in latency for every target alike. k6 was not used: the project's package " +
  "notes mark it not-to-use (AGPL).";

/** The checkout's commit and whether its tracked files differ from it ("unknown" outside git). */
function sourceVersion(): { commit: string; dirty: boolean } {
  const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" });
  const status = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: REPO_ROOT, encoding: "utf8" });
  return { commit: head.status === 0 ? head.stdout.trim() : "unknown", dirty: status.status === 0 && status.stdout.trim() !== "" };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function progressLine(index: number, total: number, p: PointResult): string {
  const l = p.latencyMs;
  const ttft: string = p.ttftMs !== null ? ` ttft50 ${p.ttftMs.p50.toFixed(2)}` : "";
  const flag: string = p.valid ? "" : ` INVALID (${p.invalidReasons.join("; ")})`;
  return (
    `[${index}/${total}] r${p.round} ${p.scenario.padEnd(12)} ${p.target.padEnd(10)} ` +
    `p50 ${l.p50.toFixed(2)} p95 ${l.p95.toFixed(2)} p99 ${l.p99.toFixed(2)} ms${ttft} | ok ${p.ok}/${p.sent} err ${p.errorCount} | ` +
    `sent ${p.achievedRate.toFixed(0)}/s lag99 ${p.sendLagMs.p99.toFixed(2)} | cpu target ${p.targetCpuPercent.toFixed(0)}% gen ${p.generatorCpuPercent.toFixed(0)}% mock ${p.mockCpuPercent.toFixed(0)}%${flag}`
  );
}

/** Peak RSS per role: each process's VmHWM, read once at the end of the run while it still runs. */
function peakRss(target: RunningTarget): Record<string, number> {
  const sample: GroupSample = sampleGroup(target.processes);
  const out: Record<string, number> = {};
  for (const [role, samples] of Object.entries(sample.roles)) {
    out[role] = samples.reduce((sum: number, s: ProcSample) => sum + s.peakRssBytes, 0);
  }
  return out;
}

async function main(opts: BenchOptions, command: string): Promise<void> {
  const startedAt: string = new Date().toISOString();
  const pin: PinPlan = planPinning(opts.pin);
  pinSelf(pin);
  log(`bench: ${pin.description}`);

  const workDir: string = mkdtempSync(join(tmpdir(), "leash-bench-"));
  if (opts.keepLogs) log(`bench: keeping configs and logs in ${workDir}`);
  else onCleanup(`work dir ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));

  const mock: RunningMock = await startMock({ pin, workDir, latencyMs: opts.mockLatencyMs, chunkDelayMs: opts.chunkDelayMs });
  log(`bench: mock provider at ${mock.url} (pid ${mock.pid})`);
  const ctx: TargetContext = { mockUrl: mock.url, pin, workDir, installPeers: opts.install };

  const running: RunningTarget[] = [];
  const unavailable: TargetUnavailable[] = [];
  for (const name of opts.targets) {
    if (interrupted.aborted) return;
    log(`bench: starting ${name}…`);
    try {
      running.push(await startTarget(name, ctx));
    } catch (error: unknown) {
      const failure: TargetUnavailable | null = reportedFailure(name, error);
      if (failure === null) throw error;
      log(`bench: ${name} ${failure.kind}: ${failure.message}`);
      unavailable.push(failure);
    }
  }

  const names: TargetName[] = running.map((t: RunningTarget) => t.name);
  const points: PlannedPoint[] = plan(opts, names);
  log(`bench: ${points.length} points (${names.join(", ")}), about ${Math.ceil(estimateSeconds(opts, points.length, names.length) / 60)} min`);

  // Every target alike, at the plan's lowest non-streaming rate and smallest size (both sorted).
  const targetWarmup: TargetWarmup = await warmTargets(
    running,
    { rate: opts.rates[0], sizeBytes: opts.sizes[0], durationMs: opts.targetWarmupMs, timeoutMs: opts.timeoutMs, signal: interrupted },
    log,
  );

  const results: PointResult[] = [];
  const skipped: SkippedPoint[] = [];
  /** round/target/size/stream → the rate at which that series failed. */
  const failedAt: Map<string, number> = new Map<string, number>();
  for (const [i, point] of points.entries()) {
    if (interrupted.aborted) return;
    const s = point.scenario;
    const series: string = `${point.round}/${point.target}/${s.size}/${s.stream}`;
    const failedRate: number | undefined = failedAt.get(series);
    if (failedRate !== undefined) {
      const reason: string = `failed at ${failedRate}/s`;
      skipped.push({ round: point.round, target: point.target, scenario: s.id, size: s.size, rate: s.rate, stream: s.stream, reason });
      log(`[${i + 1}/${points.length}] r${point.round} ${s.id.padEnd(12)} ${point.target.padEnd(10)} skipped: ${reason}`);
      continue;
    }
    const target: RunningTarget = running.find((t: RunningTarget) => t.name === point.target)!;
    // A target measured earlier (not only the previous one) may still be working off a backlog on
    // the shared target core, and the mock answering it on the generator's.
    const quiet: QuietResult = await waitQuiet(everyProcess(running, mock.pid));
    if (quiet.waitedMs > 1000) log(`bench: waited ${(quiet.waitedMs / 1000).toFixed(1)} s for the targets and the mock to go idle (busiest: ${quiet.busiest})${quiet.quiet ? "" : " (they did not)"}`);
    const result: PointResult = await measurePoint(target, point.scenario, point.round, {
      durationMs: opts.durationMs,
      warmupMs: opts.warmupMs,
      timeoutMs: opts.timeoutMs,
      mockPid: mock.pid,
      loadSharesOneCore: pin.enabled && !pin.loadCores.includes(",") && !pin.loadCores.includes("-"),
      signal: interrupted,
    });
    if (!quiet.quiet) {
      result.valid = false;
      result.invalidReasons.push(`${quiet.busiest} was still busy when the point started`);
    }
    results.push(result);
    // An invalid point's failure may be the load side's doing, unless it is overwhelming.
    const clearFailure: boolean = result.valid || result.errorCount > result.scheduled * 0.1;
    if (point.target !== "direct" && overloaded(result) && clearFailure) failedAt.set(series, s.rate);
    log(progressLine(i + 1, points.length, result));
  }

  const targets: TargetReport[] = [
    ...running.map((t: RunningTarget): TargetReport => {
      const rss: Record<string, number> = peakRss(t);
      return {
        name: t.name,
        status: "ok",
        reason: "",
        description: t.description,
        version: t.version,
        peakRssBytes: rss,
        totalPeakRssBytes: Object.values(rss).reduce((a: number, b: number) => a + b, 0),
      };
    }),
    ...unavailable.map(
      (u: TargetUnavailable): TargetReport => ({
        name: u.target,
        status: u.kind,
        reason: u.message,
        description: "",
        version: "",
        peakRssBytes: {},
        totalPeakRssBytes: 0,
      }),
    ),
  ];
  const summary = summarize(results);
  const sustained = sustainedRates(summary, names, opts.sizes.map(sizeLabel));
  const result: BenchResult = {
    schema: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    command,
    smoke: opts.smoke,
    options: {
      targets: opts.targets,
      rates: opts.rates,
      sizes: opts.sizes.map(sizeLabel),
      streamRates: opts.streamRates,
      durationMs: opts.durationMs,
      warmupMs: opts.warmupMs,
      targetWarmupMs: opts.targetWarmupMs,
      rounds: opts.rounds,
      mockLatencyMs: opts.mockLatencyMs,
      chunkDelayMs: opts.chunkDelayMs,
      timeoutMs: opts.timeoutMs,
    },
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      kernel: release(),
      node: process.version,
      envoy: envoyVersion(),
    },
    source: sourceVersion(),
    pinning: pin.description,
    targetWarmup,
    generator: GENERATOR,
    validity: [...VALIDITY_RULES],
    targets,
    points: results,
    skipped,
    summary,
    sustained,
    ratios: ratios(summary),
    moduleCosts: moduleCosts(summary, results),
    goals: goalChecks(summary, sustained, targets, results),
  };
  const files: WrittenFiles = writeResults(result, opts.outDir);
  process.stdout.write(renderMarkdown(result));
  log(`bench: wrote ${[files.json, files.markdown, files.chart].map((f: string) => relative(process.cwd(), f) || f).join(", ")}`);
}

const command: string = `node --import tsx ${relative(REPO_ROOT, process.argv[1]) || "bench/run.ts"} ${process.argv.slice(2).join(" ")}`.trim();
await runEntry("bench", USAGE, () => parseOptions(process.argv.slice(2)), (options: BenchOptions) => main(options, command));
