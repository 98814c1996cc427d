// Waiting for a target to go idle after its point. An overloaded gateway keeps working through
// its backlog after the client has gone (LiteLLM at rates it cannot sustain does, for seconds);
// every target shares the target core, so the next point would otherwise measure that leftover
// work as its own latency.

import { sampleGroup, usageBetween, type GroupSample, type RoleUsage } from "./proc-stats.ts";

export interface QuietOptions {
  /** Below this CPU (percent of one core, all roles together) over one window, the target is idle. */
  thresholdPercent: number;
  windowMs: number;
  /** Give up after this long and carry on (the next point is then noted as possibly disturbed). */
  maxMs: number;
}

export const DEFAULT_QUIET: QuietOptions = { thresholdPercent: 10, windowMs: 250, maxMs: 60_000 };

/** Resolves with how long it waited, in ms, and whether the target did go quiet. */
export async function waitQuiet(roots: Readonly<Record<string, number[]>>, opts: QuietOptions = DEFAULT_QUIET): Promise<{ waitedMs: number; quiet: boolean }> {
  const start: number = performance.now();
  if (Object.keys(roots).length === 0) return { waitedMs: 0, quiet: true };
  for (;;) {
    const before: GroupSample = sampleGroup(roots);
    await new Promise((resolve) => setTimeout(resolve, opts.windowMs));
    const usage: Record<string, RoleUsage> = usageBetween(before, sampleGroup(roots));
    const cpu: number = Object.values(usage).reduce((sum: number, u: RoleUsage) => sum + u.cpuPercent, 0);
    const waitedMs: number = performance.now() - start;
    if (cpu < opts.thresholdPercent) return { waitedMs, quiet: true };
    if (waitedMs > opts.maxMs) return { waitedMs, quiet: false };
  }
}
