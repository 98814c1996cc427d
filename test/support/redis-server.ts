// A redis-server of a test's own, without persistence, for Redis fault tests: the shared test
// Redis is never stopped. Start, kill (SIGKILL, as a crash), start again on the same port.
import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { waitFor } from "../integration/envoy-harness.ts";

/** Starts redis-server on 127.0.0.1:`port` and resolves once it answers PING. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await waitFor(`redis-server on ${port}`, async () => {
    const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG" ? true : undefined;
    } catch {
      return undefined;
    } finally {
      probe.disconnect();
    }
  });
  return proc;
}

/** Kills it (SIGKILL) and resolves once it is gone; nothing to do when it already exited. */
export function stopRedis(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once("exit", () => resolve());
    proc.kill("SIGKILL");
  });
}
