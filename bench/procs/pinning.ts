// How processes are placed on cores. On the 2-core machines this project runs on, the load side
// (this Node process, which generates the load, and the mock provider) gets core 0 and the target
// under test (Envoy + sidecar, or a peer gateway) gets core 1, so every gateway has the same one
// core to itself and never competes with the load generator for it.

import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

export interface PinPlan {
  /** Whether processes are pinned at all. */
  enabled: boolean;
  /** Cores (taskset list syntax) for the load generator and the mock provider. */
  loadCores: string;
  /** Cores for the target under test, all of its processes. */
  targetCores: string;
  /** One line for the report: how processes are placed, or why they are not pinned. */
  description: string;
}

function tasksetAvailable(): boolean {
  const probe = spawnSync("taskset", ["--version"], { encoding: "utf8" });
  return probe.status === 0;
}

export function planPinning(wanted: boolean): PinPlan {
  const cores: number = availableParallelism();
  const unpinned = (why: string): PinPlan => ({ enabled: false, loadCores: "", targetCores: "", description: `not pinned: ${why}` });
  if (!wanted) return unpinned("--pin off");
  if (cores < 2) return unpinned(`only ${cores} core`);
  if (!tasksetAvailable()) return unpinned("taskset not found");
  const targetCores: string = cores === 2 ? "1" : `1-${cores - 1}`;
  return {
    enabled: true,
    loadCores: "0",
    targetCores,
    description:
      `taskset: load generator (this process, all threads) and mock provider on core 0; ` +
      `each target's processes on core${cores === 2 ? "" : "s"} ${targetCores}; PostgreSQL and Redis (shared services) not pinned`,
  };
}

/** Pins every thread of this process (V8 and libuv threads included) to the load cores. */
export function pinSelf(plan: PinPlan): void {
  if (!plan.enabled) return;
  const run = spawnSync("taskset", ["-a", "-p", "-c", plan.loadCores, String(process.pid)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`taskset could not pin the load generator: ${run.stderr}`);
}

/** The command line that starts `command` on `cores` (unchanged when pinning is off). */
export function pinned(plan: PinPlan, cores: string, command: string, args: readonly string[]): [string, string[]] {
  if (!plan.enabled) return [command, [...args]];
  return ["taskset", ["-c", cores, command, ...args]];
}
