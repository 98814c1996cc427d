// Paths the targets share: the checkout, the built artifacts Leash runs, and where peers live.

import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const REPO_ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
export const BENCH_DIR: string = join(REPO_ROOT, "bench");
/** Peer gateways' installs (git-ignored): a virtualenv for LiteLLM, a package dir for Portkey. */
export const PEERS_DIR: string = join(BENCH_DIR, ".peers");
/**
 * The filter modules the Leash targets load; LEASH_BENCH_WASM_DIR points at another build (say, the
 * previous commit's) to compare, like LEASH_BENCH_SIDECAR for the sidecar.
 */
export const WASM_DIR: string = process.env.LEASH_BENCH_WASM_DIR || join(REPO_ROOT, "build", "release");
/** The sidecar bundle `npm run build` makes; LEASH_BENCH_SIDECAR points at another build to compare. */
export const SIDECAR_BUNDLE: string = process.env.LEASH_BENCH_SIDECAR || join(REPO_ROOT, "build", "sidecar", "main.js");
/**
 * The build the leash-full-baseline target runs, beside the current one in the same rounds: another
 * checkout's build/ directory (release/*.wasm and sidecar/main.js), e.g. main's before a change.
 * Unset: the target cannot run (the run says so before it starts anything).
 */
export const BASELINE_BUILD: string | null = process.env.LEASH_BENCH_BASELINE_BUILD || null;
/** Why leash-full-baseline cannot run without it. */
export const BASELINE_BUILD_MISSING: string = "leash-full-baseline needs LEASH_BENCH_BASELINE_BUILD=<another checkout's build/ directory> (its release/*.wasm and sidecar/main.js)";
