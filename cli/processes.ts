// Child processes of `leash start`: spawned with prefixed output, awaited on a readiness probe (never
// a fixed sleep), and stopped in reverse order on Ctrl-C.
import { spawn, type ChildProcess } from "node:child_process";
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
