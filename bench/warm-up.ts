// Warming each target once before round 1. A freshly started Leash target is slow for its first
// ~15 s of load while Node's JIT warms the sidecar and Envoy pays its first-use costs (evidence in
// bench/README.md, "Warming the targets"); the short warm-up before each point does not cover
// that, so without this round 1 measures JIT warm-up and its P99 differs from later rounds'.

import { loadTarget, type LoadSettings } from "./measure.ts";
import type { OpenLoopResult } from "./load/open-loop.ts";
import { sizeLabel } from "./load/payload.ts";
import type { TargetWarmup, WarmupOutcome } from "./report/result-types.ts";
import type { RunningTarget } from "./targets/types.ts";

/** durationMs 0: no warm-up. */
export type WarmupSettings = LoadSettings;

/** "15 s", "0.3 s". */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** The plan's one line about the warm-up, for the report. */
export function describeTargetWarmup(durationMs: number, rate: number, size: string): string {
  if (durationMs === 0) return "targets not warmed before round 1 (--target-warmup 0)";
  return `each target warmed for ${seconds(durationMs)} at ${rate}/s (${size} bodies) before round 1, not measured`;
}

/** Open-loop load on one target for the warm-up's duration. Errors are counted, not raised. */
export async function warmTarget(target: RunningTarget, settings: WarmupSettings): Promise<WarmupOutcome> {
  const run: OpenLoopResult = await loadTarget(target, settings);
  return { target: target.name, scheduled: run.scheduled, ok: run.ok, errors: run.errors };
}

/** One log line per warmed target: how many requests were answered, and the errors it ignored. */
export function warmupLine(o: WarmupOutcome): string {
  const kinds: string[] = Object.entries(o.errors).map(([kind, n]: [string, number]) => `${kind}×${n}`);
  return `${o.target} warmed: ${o.ok}/${o.scheduled} ok${kinds.length > 0 ? `, errors ignored: ${kinds.join(", ")}` : ""}`;
}

/** Warms every target in turn (peers alike) and describes what was done, for the result. */
export async function warmTargets(targets: readonly RunningTarget[], settings: WarmupSettings, log: (line: string) => void): Promise<TargetWarmup> {
  const size: string = sizeLabel(settings.sizeBytes);
  const outcomes: WarmupOutcome[] = [];
  if (settings.durationMs > 0) {
    for (const target of targets) {
      if (settings.signal.aborted) break;
      log(`bench: warming ${target.name} for ${seconds(settings.durationMs)} at ${settings.rate}/s…`);
      const outcome: WarmupOutcome = await warmTarget(target, settings);
      log(`bench: ${warmupLine(outcome)}`);
      outcomes.push(outcome);
    }
  }
  return {
    durationMs: settings.durationMs,
    rate: settings.rate,
    size,
    description: describeTargetWarmup(settings.durationMs, settings.rate, size),
    targets: outcomes,
  };
}
