// Portkey gateway (npm @portkey-ai/gateway under bench/.peers/portkey), headless, one Node
// process, routed per request to the mock with x-portkey-custom-host. It has no client
// authentication of its own in this mode: the client's bearer token is passed to the provider.

import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { freePort, httpGet, waitFor } from "../../test/integration/envoy-harness.ts";
import type { RequestSpec } from "../load/http-call.ts";
import { ensurePortkey, PORTKEY_DIR, PORTKEY_ENTRY, type PeerInstall } from "../peers/install.ts";
import { ManagedProcess } from "../procs/child.ts";
import { MOCK_CLIENT_KEY } from "./direct.ts";
import { TargetUnavailable, type RunningTarget, type TargetContext } from "./types.ts";

export async function startPortkey(ctx: TargetContext): Promise<RunningTarget> {
  const install: PeerInstall = await ensurePortkey(ctx.installPeers);
  if (!install.ok) throw new TargetUnavailable("portkey", "not-installed", install.reason);

  const dir: string = join(ctx.workDir, "portkey");
  mkdirSync(dir, { recursive: true });
  const port: number = await freePort();
  const proc: ManagedProcess = new ManagedProcess({
    name: "portkey",
    command: process.execPath,
    args: [PORTKEY_ENTRY, "--headless", `--port=${port}`],
    cwd: PORTKEY_DIR,
    // TRUSTED_CUSTOM_HOSTS is left unset: its default allows 127.0.0.1, and setting it replaces that default.
    env: { ...process.env, TRUSTED_CUSTOM_HOSTS: undefined },
    logFile: join(dir, "portkey.log"),
    pin: ctx.pin,
    cores: ctx.pin.targetCores,
  });
  try {
    await waitFor(
      "portkey /",
      async () => {
        if (proc.exited) throw new Error(`portkey ${proc.describeExit()}: ${proc.logTail(1500)}`);
        return (await httpGet(port, "/")).status === 200 ? true : undefined;
      },
      60_000,
    );
  } catch (error: unknown) {
    await proc.stop();
    throw new TargetUnavailable("portkey", "failed-to-start", error instanceof Error ? error.message : String(error));
  }

  return {
    name: "portkey",
    description: `Portkey gateway ${install.version} (Node, headless), openai provider with x-portkey-custom-host → mock`,
    version: `@portkey-ai/gateway ${install.version}`,
    request(body: Buffer, stream: boolean): RequestSpec {
      return {
        host: "127.0.0.1",
        port,
        path: "/v1/chat/completions",
        headers: {
          authorization: `Bearer ${MOCK_CLIENT_KEY}`,
          "x-portkey-provider": "openai",
          // Must include /v1: Portkey appends only /chat/completions.
          "x-portkey-custom-host": `${ctx.mockUrl}/v1`,
        },
        body,
        stream,
      };
    },
    processes: { portkey: [proc.pid] },
    dependencies: {},
  };
}
