// Waiting for the gateways and the mock to go idle before a point. An overloaded gateway keeps
// working through its backlog after the client has gone (LiteLLM at rates it cannot sustain does,
// for tens of seconds, and forwards it to the mock); every target shares the target core and the
// mock shares the generator's, so the next point would otherwise measure that leftover work as its
// own latency. Every process counts, not only the previous point's target: in a grid, LiteLLM's
// backlog outlived the Portkey point after it and landed in the next Leash point.

import { sampleGroup, usageBetween, type GroupSample, type RoleUsage } from "./proc-stats.ts";

export interface QuietOptions {
  /** Below this CPU (percent of one core, all roles together) over one window, the target is idle. */
  thresholdPercent: number;
  windowMs: number;
  /** Give up after this long and carry on (the next point is then noted as possibly disturbed). */
  maxMs: number;
}

export const DEFAULT_QUIET: QuietOptions = { thresholdPercent: 10, windowMs: 250, maxMs: 60_000 };

/** How long waitQuiet waited, whether everything went quiet, and the busiest role in the last window. */
export interface QuietResult {
  waitedMs: number;
  quiet: boolean;
  /** The role that used the most CPU in the last window ("" when none was measured). */
  busiest: string;
}

/** Resolves once the roots' processes together use less than the threshold over one window. */
export async function waitQuiet(roots: Readonly<Record<string, number[]>>, opts: QuietOptions = DEFAULT_QUIET): Promise<QuietResult> {
  const start: number = performance.now();
  if (Object.keys(roots).length === 0) return { waitedMs: 0, quiet: true, busiest: "" };
  for (;;) {
    const before: GroupSample = sampleGroup(roots);
    await new Promise((resolve) => setTimeout(resolve, opts.windowMs));
    const usage: Record<string, RoleUsage> = usageBetween(before, sampleGroup(roots));
    const cpu: number = Object.values(usage).reduce((sum: number, u: RoleUsage) => sum + u.cpuPercent, 0);
    const busiest: string = Object.entries(usage).reduce(
      (best: [string, number], [role, u]: [string, RoleUsage]): [string, number] => (u.cpuPercent > best[1] ? [role, u.cpuPercent] : best),
      ["", -1],
    )[0];
    const waitedMs: number = performance.now() - start;
    if (cpu < opts.thresholdPercent) return { waitedMs, quiet: true, busiest };
    if (waitedMs > opts.maxMs) return { waitedMs, quiet: false, busiest };
  }
}

/** Every target's processes and the mock's as one set of roots, named `<target>/<role>` and `mock`. */
export function everyProcess(targets: ReadonlyArray<{ name: string; processes: Readonly<Record<string, number[]>> }>, mockPid: number): Record<string, number[]> {
  const roots: Record<string, number[]> = { mock: [mockPid] };
  for (const t of targets) for (const [role, pids] of Object.entries(t.processes)) roots[`${t.name}/${role}`] = pids;
  return roots;
}
