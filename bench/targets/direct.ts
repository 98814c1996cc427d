// The baseline: straight to the mock provider, no gateway. Every other target's overhead is its
// latency minus this one's, measured in the same round.

import type { RequestSpec } from "../load/http-call.ts";
import type { RunningTarget, TargetContext } from "./types.ts";

/** The credential clients send the mock; the mock accepts any. */
export const MOCK_CLIENT_KEY: string = "sk-mock";

export function directTarget(ctx: TargetContext): RunningTarget {
  const url: URL = new URL(ctx.mockUrl);
  return {
    name: "direct",
    description: `straight to the mock provider at ${ctx.mockUrl}`,
    version: "",
    request(body: Buffer, stream: boolean): RequestSpec {
      return {
        host: url.hostname,
        port: Number(url.port),
        path: "/v1/chat/completions",
        headers: { authorization: `Bearer ${MOCK_CLIENT_KEY}` },
        body,
        stream,
      };
    },
    processes: {},
    dependencies: {},
  };
}
