// Child processes of `leash start`: spawned with prefixed output, awaited on a readiness probe (never
// a fixed sleep), and stopped in reverse order on Ctrl-C.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** The last lines of output, for error reports. */
  tail: string[];
}

export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv,
  onLine: (line: string) => void = (l) => console.log(`[${name}] ${l}`)): Child {
  const proc = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const take = (line: string): void => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    onLine(line);
  };
  createInterface({ input: proc.stdout! }).on("line", take);
  createInterface({ input: proc.stderr! }).on("line", take);
  const exited = new Promise<number | string>((resolve) => {
    proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    proc.on("error", (err) => { take(`failed to start: ${err.message}`); resolve("spawn-error"); });
  });
  return { name, proc, exited, tail };
}

/**
 * How much lower the sidecar's CPU priority is than Envoy's (nice), when both run on one machine.
 * The sidecar is off the request path in steady state (cached keys, quota leases, batched usage
 * reports), but its bursts (a batch of reports, a ledger flush, its garbage collector) take the
 * core from Envoy's worker when they share one, and the requests queued behind make the tail: in
 * the benchmark at 1000 req/s on one shared core, P99 overhead +2.92 ms with the sidecar at nice 10
 * against +6.71 ms at 0, P50 unchanged (bench/README.md). A request that does wait for the sidecar
 * (a cold key, a Reserve near a limit) still gets it: nice shares the core, it does not starve.
 * LEASH_SIDECAR_NICE overrides it (0: same priority as Envoy).
 */
export const SIDECAR_NICE: number = 10;

/**
 * `command args` run at `nice` (via the `nice` utility, which execs the command: same process, and
 * every thread it starts inherits the priority); unchanged for 0 or where there is no `nice`.
 */
export function atNice(nice: number, command: string, args: string[]): [string, string[]] {
  if (nice === 0 || !existsSync(NICE_BIN)) return [command, args];
  return [NICE_BIN, ["-n", String(nice), command, ...args]];
}

/** The sidecar's nice: LEASH_SIDECAR_NICE (an integer 0..19) or SIDECAR_NICE. */
export function sidecarNice(env: NodeJS.ProcessEnv): number {
  const v = env.LEASH_SIDECAR_NICE;
  if (v === undefined || v === "") return SIDECAR_NICE;
  if (!/^\d{1,2}$/.test(v) || Number(v) > 19) throw new Error(`LEASH_SIDECAR_NICE must be an integer from 0 to 19, not "${v}"`);
  return Number(v);
}

const NICE_BIN: string = "/usr/bin/nice";

/**
 * Node flags the sidecar runs with. `--single-threaded-gc`: V8 collects garbage on the sidecar's
 * main thread only, without parallel scavenges or concurrent marking and sweeping on helper threads.
 * Where the sidecar shares cores with Envoy's workers, those helpers are extra runnable threads
 * taking the core from a worker in the middle of its requests: in the benchmark a helper ran 5 ms
 * straight on Envoy's core while the worker waited 6 ms (perf sched). Three paired runs of the full
 * chain at 1000 req/s: P99.9 6.5 / 6.1 / 5.1 ms against 7.6 / 8.8 / 9.0 (bench/README.md). The
 * sidecar's own pauses get longer; only a cold key or a Reserve waits for it.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ["--single-threaded-gc"];

/**
 * The sidecar's command line: node with {@link SIDECAR_NODE_FLAGS} and then `extraNodeArgs`, the
 * bundle and its arguments, at the sidecar's nice ({@link sidecarNice}).
 */
export function sidecarCommand(env: NodeJS.ProcessEnv, bundle: string, args: string[], extraNodeArgs: string[] = []): [string, string[]] {
  return atNice(sidecarNice(env), process.execPath, [...SIDECAR_NODE_FLAGS, ...extraNodeArgs, bundle, ...args]);
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | null = null;
  void child.exited.then((c) => { exited = c; });
  let delay = 25;
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`${child.name} exited (${exited}) before it was ready:\n  ${child.tail.join("\n  ")}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n  ${child.tail.join("\n  ")}`);
}

/** SIGTERM, then SIGKILL after `graceMs` if the process is still there. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill("SIGTERM");
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Where to reach a server bound to `address` from this machine. */
export function probeHost(address: string): string {
  if (address === "0.0.0.0" || address === "::") return "127.0.0.1";
  return address.includes(":") ? `[${address}]` : address;
}
