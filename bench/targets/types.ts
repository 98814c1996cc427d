// What the runner needs from a target: where to send a request, which processes are its own
// (for CPU and memory), and what it is, for the report.

import type { RequestSpec } from "../load/http-call.ts";
import type { PinPlan } from "../procs/pinning.ts";

export const TARGET_NAMES = ["direct", "envoy-bare", "leash-auth", "leash-auth-control", "leash-quota", "leash-usage", "leash-redact", "leash-injection", "leash-full", "leash-full-filters", "leash-full-separate", "leash-full-no-redact", "leash-full-no-injection", "leash-full-no-quota", "leash-full-no-usage", "leash-full-baseline", "litellm", "portkey"] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/**
 * The default run's targets: issue 7's comparison (the baseline, bare Envoy, each module alone, the
 * full chain, the peers). The others (A/A control, the chain's packagings, the one-module-off
 * ablations, another build) answer narrower questions and run when named in --targets.
 */
export const GRID_TARGETS: readonly TargetName[] = ["direct", "envoy-bare", "leash-auth", "leash-quota", "leash-usage", "leash-redact", "leash-injection", "leash-full", "litellm", "portkey"];

/** Targets that are other projects' gateways; they may fail to install and are then reported so. */
export const PEER_TARGETS: readonly TargetName[] = ["litellm", "portkey"];

export interface RunningTarget {
  name: TargetName;
  /** One line for the report: what runs and how it is configured. */
  description: string;
  /** Version of the gateway software ("" when it is this checkout). */
  version: string;
  /** Where and how to send one request of the given body (streamed or not). */
  request(body: Buffer, stream: boolean): RequestSpec;
  /** Role → root pids whose process trees are this target's (empty for direct: the mock is measured apart). */
  processes: Record<string, number[]>;
  /**
   * Servers the target depends on but does not own (leash-auth: the PostgreSQL and Redis servers).
   * Their CPU is reported beside the target's, not in it, because they are shared with whatever
   * else runs on the machine; their memory is not counted.
   */
  dependencies: Record<string, number[]>;
}

/** Shared by every target's start function. */
export interface TargetContext {
  /** Base URL of the mock provider, e.g. http://127.0.0.1:41234 (no trailing slash). */
  mockUrl: string;
  pin: PinPlan;
  /** Scratch directory of this run (configs, logs), removed at the end. */
  workDir: string;
  /** Whether missing peers may be installed now. */
  installPeers: boolean;
  /** Where the Leash targets' filter modules come from (default: paths.ts WASM_DIR); bench/host-calls.ts runs probes this way. */
  wasmDir?: string;
}

/** A target that could not be run, and why; reported, never silently dropped. */
export class TargetUnavailable extends Error {
  constructor(
    readonly target: TargetName,
    readonly kind: "not-installed" | "failed-to-start",
    reason: string,
  ) {
    super(reason);
  }
}
