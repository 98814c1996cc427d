// A process the benchmark starts: output goes straight to a log file (not through a pipe into
// this process, which generates the load and must not spend CPU on a target's logs), and stop()
// is registered with the cleanup list the moment the process exists.

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

import { onCleanup } from "./cleanup.ts";
import { pinned, type PinPlan } from "./pinning.ts";

export interface StartOptions {
  /** Short name for messages and the log file ("envoy-bare", "sidecar", …). */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where stdout and stderr go. */
  logFile: string;
  pin: PinPlan;
  /** Cores from the pin plan (its loadCores or targetCores). */
  cores: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private exitedFlag: boolean = false;
  private readonly exitedPromise: Promise<void>;
  private lastError: Error | null = null;

  constructor(opts: StartOptions) {
    this.name = opts.name;
    this.logFile = opts.logFile;
    const fd: number = openSync(opts.logFile, "a");
    const [command, args] = pinned(opts.pin, opts.cores, opts.command, opts.args);
    this.child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["ignore", fd, fd] });
    // The child has its own copy of the descriptor now.
    closeSync(fd);
    this.exitedPromise = new Promise<void>((resolve) => {
      this.child.once("exit", (code: number | null, signal: NodeJS.Signals | null) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.exitedFlag = true;
        resolve();
      });
      // spawn failures (command not found) arrive as 'error' and there is no 'exit' after them.
      this.child.once("error", (err: Error) => {
        this.exitedFlag = true;
        this.exitCode = -1;
        this.lastError = err;
        resolve();
      });
    });
    onCleanup(`process ${opts.name}`, () => this.stop());
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start: ${this.lastError?.message ?? "no pid"}`);
    return this.child.pid;
  }

  get exited(): boolean {
    return this.exitedFlag;
  }

  /** How it ended, for error messages. */
  describeExit(): string {
    if (this.lastError !== null) return `could not start: ${this.lastError.message}`;
    return this.exitSignal !== null ? `killed by ${this.exitSignal}` : `exited with code ${this.exitCode}`;
  }

  /** The last `bytes` of its log, for error messages. */
  logTail(bytes: number = 2000): string {
    try {
      const text: string = readFileSync(this.logFile, "utf8");
      return text.length > bytes ? `…${text.slice(-bytes)}` : text;
    } catch {
      return "";
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  async stop(graceMs: number = 5000): Promise<void> {
    if (this.exitedFlag) return;
    this.child.kill("SIGTERM");
    const timer: NodeJS.Timeout = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exitedPromise;
    clearTimeout(timer);
  }
}
