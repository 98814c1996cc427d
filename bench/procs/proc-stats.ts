// CPU time and memory of a target's processes, read from /proc so every target (Envoy, the Node
// sidecar, a Python or Node peer) is measured the same way, by the kernel's own accounting.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat (almost always 100). */
const CLOCK_TICKS_PER_SECOND: number = readClockTicks();

function readClockTicks(): number {
  try {
    const value: number = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** One process at one instant. */
export interface ProcSample {
  pid: number;
  /** Executable name from /proc/<pid>/stat (at most 15 characters). */
  comm: string;
  /** User + system CPU time of all its threads since it started, in milliseconds. */
  cpuMs: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /** Highest resident set size since it started (VmHWM), in bytes. */
  peakRssBytes: number;
}

interface StatFields {
  comm: string;
  ppid: number;
  cpuMs: number;
}

/**
 * Parses /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces or
 * parentheses, so fields are counted from the last ")" rather than split from the start.
 */
function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const open: number = text.indexOf("(");
  const close: number = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  // After ")": field 3 (state) is index 0, so field N is index N - 3 (ppid 4, utime 14, stime 15).
  const rest: string[] = text.slice(close + 2).split(" ");
  const ticks: number = Number(rest[11]) + Number(rest[12]);
  return { comm: text.slice(open + 1, close), ppid: Number(rest[1]), cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND };
}

/** VmRSS and VmHWM from /proc/<pid>/status, in bytes (kernel threads have neither: 0). */
function readMemory(pid: number): { rss: number; hwm: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return { rss: 0, hwm: 0 };
  }
  const kib = (name: string): number => {
    const match: RegExpMatchArray | null = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    return match === null ? 0 : Number(match[1]) * 1024;
  };
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
}

/** A sample of one process, or null once it has exited. */
export function sampleProcess(pid: number): ProcSample | null {
  const stat: StatFields | null = readStat(pid);
  if (stat === null) return null;
  const memory = readMemory(pid);
  return { pid, comm: stat.comm, cpuMs: stat.cpuMs, rssBytes: memory.rss, peakRssBytes: memory.hwm };
}

/**
 * The pids of `roots` and of all their descendants alive now. Peers may fork workers (LiteLLM
 * under uvicorn/gunicorn), and a worker's CPU is the peer's CPU.
 */
export function processTree(roots: readonly number[]): number[] {
  const children: Map<number, number[]> = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [...roots];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid: number = Number(entry);
    const stat: StatFields | null = readStat(pid);
    if (stat === null) continue;
    const siblings: number[] | undefined = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [pid]);
    else siblings.push(pid);
  }
  const seen: Set<number> = new Set<number>();
  const queue: number[] = [...roots];
  while (queue.length > 0) {
    const pid: number = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    for (const child of children.get(pid) ?? []) queue.push(child);
  }
  return [...seen];
}

/** Every process whose executable name (comm) is `comm`, e.g. all of a PostgreSQL server's processes. */
export function pidsByName(comm: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat: StatFields | null = readStat(Number(entry));
    if (stat !== null && stat.comm === comm) pids.push(Number(entry));
  }
  return pids;
}

/** CPU and memory of a named group of processes (e.g. "envoy": [pid], "sidecar": [pid]). */
export interface GroupSample {
  /** Role name → samples of the role's processes (the root and its descendants). */
  roles: Record<string, ProcSample[]>;
  /** When the sample was taken (performance.now() milliseconds). */
  at: number;
}

export function sampleGroup(rootsByRole: Readonly<Record<string, number[]>>): GroupSample {
  const roles: Record<string, ProcSample[]> = {};
  for (const [role, roots] of Object.entries(rootsByRole)) {
    roles[role] = processTree(roots)
      .map((pid: number) => sampleProcess(pid))
      .filter((s: ProcSample | null): s is ProcSample => s !== null);
  }
  return { roles, at: performance.now() };
}

/** Per-role usage between two samples of the same group. */
export interface RoleUsage {
  /** CPU time used in the interval, in ms. */
  cpuMs: number;
  /** CPU time used in the interval as a percentage of one core (100 = one core busy). */
  cpuPercent: number;
  /** Resident memory at the end of the interval, summed over the role's processes, in bytes. */
  rssBytes: number;
  /** Sum of each process's own peak RSS since it started, in bytes (an upper bound of the role's peak). */
  peakRssBytes: number;
  /** Processes the role had at the end. */
  processes: number;
}

/**
 * CPU used between `before` and `after`. A process that appeared in between (a forked worker)
 * counts from zero; one that exited in between is lost, which only under-reports.
 */
export function usageBetween(before: GroupSample, after: GroupSample): Record<string, RoleUsage> {
  const wallMs: number = Math.max(after.at - before.at, 1);
  const usage: Record<string, RoleUsage> = {};
  for (const [role, samples] of Object.entries(after.roles)) {
    const earlier: Map<number, number> = new Map<number, number>(
      (before.roles[role] ?? []).map((s: ProcSample): [number, number] => [s.pid, s.cpuMs]),
    );
    let cpuMs: number = 0;
    let rss: number = 0;
    let peak: number = 0;
    for (const s of samples) {
      cpuMs += s.cpuMs - (earlier.get(s.pid) ?? 0);
      rss += s.rssBytes;
      peak += s.peakRssBytes;
    }
    usage[role] = { cpuMs, cpuPercent: (cpuMs / wallMs) * 100, rssBytes: rss, peakRssBytes: peak, processes: samples.length };
  }
  return usage;
}
