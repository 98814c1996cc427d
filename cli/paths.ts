// Where the CLI finds the project's artifacts. The CLI runs from source (through tsx), so paths
// are relative to this file's folder.
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
export const WASM_DIR: string = join(ROOT, "build", "release");
export const SIDECAR_BUNDLE: string = join(ROOT, "build", "sidecar", "main.js");
export const ENVOY_OUT_DIR: string = join(ROOT, "envoy", "generated");
