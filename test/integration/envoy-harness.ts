// Running a real Envoy in tests: free ports, start/stop, bounded polling, plain HTTP requests.
// Every wait is a poll with a deadline; nothing sleeps for a fixed time hoping Envoy is ready.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { request, type IncomingHttpHeaders } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";

import { findEnvoy } from "../../envoy/find-envoy.ts";

/** A port nobody listens on right now (the kernel picks it; tiny race until Envoy binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port: number = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `count` distinct free ports: each is held open until all are picked, so the kernel cannot hand
 * out the same port twice (sequential freePort() calls can, which a config then refuses).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  })));
  const ports: number[] = servers.map((s: Server): number => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s: Server) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number = 15_000): Promise<T> {
  const deadline: number = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value: T | undefined = await probe();
      if (value !== undefined) return value;
    } catch (err: unknown) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause: string = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request on a fresh connection: a kept-alive connection would stay on a listener that a
 * reload is draining, and the test would see old config for the whole drain time.
 */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false, timeout: 10_000 }, (res) => {
      let body: string = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** Runs `envoy --mode validate`; returns its exit code and output. */
export function validateEnvoyConfig(bootstrap: string): { code: number; output: string } {
  const run = spawnSync(findEnvoy(), ["--mode", "validate", "-c", bootstrap, "--log-level", "warn"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

let nextBaseId: number = 0;

/**
 * A unique --base-id per Envoy: Envoy names its hot-restart shared memory and sockets after it, so
 * two Envoys on one base id (parallel test files, a leftover process) refuse to start.
 */
function uniqueBaseId(): number {
  nextBaseId += 1;
  return (process.pid % 100_000) * 100 + (nextBaseId % 100);
}

export class RunningEnvoy {
  private output: string = "";
  private exited: boolean = false;
  private readonly child: ChildProcess;

  constructor(bootstrap: string, readonly adminPort: number) {
    this.child = spawn(
      findEnvoy(),
      ["-c", bootstrap, "--concurrency", "1", "--base-id", String(uniqueBaseId()), "--log-level", process.env.ENVOY_LOG_LEVEL ?? "warn"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    this.child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    this.child.on("exit", () => (this.exited = true));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Everything Envoy wrote (logs and the stdout access log). */
  get logs(): string {
    return this.output;
  }

  /** Resolves once the admin API reports LIVE; fails early if Envoy exits. */
  async ready(): Promise<void> {
    await waitFor("Envoy /ready", async () => {
      if (this.exited) throw new Error(`Envoy exited during startup:\n${this.output}`);
      const res: HttpResult = await httpGet(this.adminPort, "/ready");
      return res.status === 200 ? true : undefined;
    }, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\nEnvoy output:\n${this.output}`);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone: Promise<void> = new Promise((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  }
}
