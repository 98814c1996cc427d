// The bundled mock provider (mock-provider/), in its own process on the load cores: every target
// forwards to this one instance, and its CPU is read from /proc so the report shows whether the
// mock itself got near saturation (a point where it did is marked invalid).

import { join } from "node:path";

import { freePort, httpGet, waitFor } from "../../test/integration/envoy-harness.ts";
import { ManagedProcess } from "../procs/child.ts";
import type { PinPlan } from "../procs/pinning.ts";
import { REPO_ROOT } from "./paths.ts";

export interface MockOptions {
  pin: PinPlan;
  workDir: string;
  /** Fixed delay before every response (the mock's fixed-latency mode); 0 = answer at once. */
  latencyMs: number;
  /** Delay between SSE events, so time-to-first-token differs from time-to-last. */
  chunkDelayMs: number;
}

export interface RunningMock {
  url: string;
  pid: number;
  process: ManagedProcess;
}

export async function startMock(opts: MockOptions): Promise<RunningMock> {
  const port: number = await freePort();
  const proc: ManagedProcess = new ManagedProcess({
    name: "mock-provider",
    command: process.execPath,
    // --log-limit 0: the mock keeps no request log, which under load would only cost memory.
    args: [
      "--import",
      "tsx",
      join(REPO_ROOT, "mock-provider", "main.ts"),
      "--port",
      String(port),
      "--log-limit",
      "0",
      "--latency-ms",
      String(opts.latencyMs),
      "--chunk-delay-ms",
      String(opts.chunkDelayMs),
    ],
    cwd: REPO_ROOT,
    logFile: join(opts.workDir, "mock-provider.log"),
    pin: opts.pin,
    cores: opts.pin.loadCores,
  });
  await waitFor(
    "mock provider",
    async () => {
      if (proc.exited) throw new Error(`mock provider ${proc.describeExit()}: ${proc.logTail()}`);
      return (await httpGet(port, "/v1/models")).status === 200 ? true : undefined;
    },
    30_000,
  );
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid, process: proc };
}
