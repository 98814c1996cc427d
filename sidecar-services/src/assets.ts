// Locates files the sidecar reads at runtime (the .proto contract, SQL migrations). They sit one
// level above src/ in the source tree, and next to main.js in the bundle (build.mjs copies them),
// so both layouts are tried relative to this module.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of `relative` (e.g. "migrations") in the source tree or the bundle directory. */
export function assetPath(relative: string): string {
  const candidates = [new URL(`./${relative}`, import.meta.url), new URL(`../${relative}`, import.meta.url)];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new Error(`sidecar asset ${relative} not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(", ")})`);
}
