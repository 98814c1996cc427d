// Starts one target by name. Leash's own targets failing to start is an error of the run (there
// would be nothing to report); a peer failing to install or start is a result, reported as such.

import { directTarget } from "./direct.ts";
import { startLeash } from "./leash.ts";
import { startLitellm } from "./litellm.ts";
import { startPortkey } from "./portkey.ts";
import { PEER_TARGETS, TargetUnavailable, type RunningTarget, type TargetContext, type TargetName } from "./types.ts";

export async function startTarget(name: TargetName, ctx: TargetContext): Promise<RunningTarget> {
  switch (name) {
    case "direct":
      return directTarget(ctx);
    case "envoy-bare":
      return startLeash(ctx, name);
    case "leash-auth":
    case "leash-auth-control":
    case "leash-quota":
    case "leash-usage":
    case "leash-redact":
    case "leash-injection":
    case "leash-full":
    case "leash-full-filters":
    case "leash-full-separate":
    case "leash-full-no-redact":
    case "leash-full-no-injection":
    case "leash-full-no-quota":
    case "leash-full-no-usage":
    case "leash-full-baseline":
      return startLeash(ctx, name);
    case "litellm":
      return startLitellm(ctx);
    case "portkey":
      return startPortkey(ctx);
  }
}

/**
 * A peer's start failure as the result to report, or null when the failure must end the run
 * (one of Leash's own targets, or the baseline).
 */
export function reportedFailure(name: TargetName, error: unknown): TargetUnavailable | null {
  if (!PEER_TARGETS.includes(name)) return null;
  if (error instanceof TargetUnavailable) return error;
  return new TargetUnavailable(name, "failed-to-start", error instanceof Error ? error.message : String(error));
}
