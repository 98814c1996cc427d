// LiteLLM proxy (PyPI litellm[proxy], own virtualenv under bench/.peers/), offline, one worker,
// pointed at the mock. It refuses to start without a master key, so it runs with one and checks
// it on every request: its counterpart of Leash's key check (in memory, no database).

import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { freePort, httpGet, waitFor } from "../../test/integration/envoy-harness.ts";
import type { RequestSpec } from "../load/http-call.ts";
import { BENCH_MODEL } from "../load/payload.ts";
import { ensureLitellm, LITELLM_BIN, type PeerInstall } from "../peers/install.ts";
import { ManagedProcess } from "../procs/child.ts";
import { TargetUnavailable, type RunningTarget, type TargetContext } from "./types.ts";

export async function startLitellm(ctx: TargetContext): Promise<RunningTarget> {
  const install: PeerInstall = await ensureLitellm(ctx.installPeers);
  if (!install.ok) throw new TargetUnavailable("litellm", "not-installed", install.reason);

  const dir: string = join(ctx.workDir, "litellm");
  mkdirSync(dir, { recursive: true });
  const port: number = await freePort();
  const masterKey: string = `sk-${randomBytes(32).toString("hex")}`;
  // num_retries 0: a failed upstream call must show as an error, not be hidden by a retry.
  const config: string = `
model_list:
  - model_name: ${BENCH_MODEL}
    litellm_params: { model: openai/${BENCH_MODEL}, api_base: "${ctx.mockUrl}/v1", api_key: sk-mock }
litellm_settings: { callbacks: [], num_retries: 0, request_timeout: 30 }
general_settings: { master_key: "${masterKey}" }
`;
  const configPath: string = join(dir, "litellm.yaml");
  writeFileSync(configPath, config);

  const proc: ManagedProcess = new ManagedProcess({
    name: "litellm",
    command: LITELLM_BIN,
    args: ["--config", configPath, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"],
    cwd: dir,
    env: {
      ...process.env,
      // Offline: the model cost map is read from the package instead of fetched at start-up,
      // which has to be set in the environment because it is loaded before the config.
      LITELLM_OFFLINE_MODE: "true",
      LITELLM_LOCAL_MODEL_COST_MAP: "true",
      LITELLM_TELEMETRY: "False",
      OPENAI_API_KEY: "sk-mock",
    },
    logFile: join(dir, "litellm.log"),
    pin: ctx.pin,
    cores: ctx.pin.targetCores,
  });
  try {
    await waitFor(
      "litellm /health/liveliness",
      async () => {
        if (proc.exited) throw new Error(`litellm ${proc.describeExit()}: ${proc.logTail(1500)}`);
        return (await httpGet(port, "/health/liveliness")).status === 200 ? true : undefined;
      },
      180_000,
    );
  } catch (error: unknown) {
    await proc.stop();
    throw new TargetUnavailable("litellm", "failed-to-start", error instanceof Error ? error.message : String(error));
  }

  return {
    name: "litellm",
    description: `LiteLLM proxy ${install.version}, 1 worker, master key auth (no database), offline mode`,
    version: `litellm ${install.version}`,
    request(body: Buffer, stream: boolean): RequestSpec {
      return {
        host: "127.0.0.1",
        port,
        path: "/v1/chat/completions",
        headers: { authorization: `Bearer ${masterKey}` },
        body,
        stream,
      };
    },
    processes: { litellm: [proc.pid] },
    dependencies: {},
  };
}
