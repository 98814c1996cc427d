// Locates the Envoy binary for tests and tools, in a fixed order so runs are reproducible:
// an explicit ENVOY_BIN, then the repo-local install (.venv/bin/envoy), then PATH.

import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** .venv/bin/envoy in the repository root (this file is in <root>/envoy/). */
export const REPO_ENVOY: string = fileURLToPath(new URL("../.venv/bin/envoy", import.meta.url));

/**
 * Path of the Envoy binary.
 * @throws Error naming all three places when none has one; also when ENVOY_BIN is set but wrong,
 *   because silently falling back would test a different Envoy than the one asked for.
 */
export function findEnvoy(env: Readonly<Record<string, string | undefined>> = process.env, repoEnvoy: string = REPO_ENVOY): string {
  const explicit: string | undefined = env.ENVOY_BIN;
  if (explicit !== undefined && explicit !== "") {
    if (isExecutable(explicit)) return explicit;
    throw new Error(`ENVOY_BIN is set to ${JSON.stringify(explicit)}, which is not an executable file`);
  }
  if (isExecutable(repoEnvoy)) return repoEnvoy;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate: string = join(dir, "envoy");
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(
    "Envoy binary not found. Either set ENVOY_BIN to its path, " +
      `or install it at ${repoEnvoy} (scripts/setup.sh does), or put \`envoy\` on PATH.`,
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
