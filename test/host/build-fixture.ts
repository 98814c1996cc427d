/**
 * Compiles a small AssemblyScript test module to wasm with the in-process `asc` compiler (same
 * compiler and flags as `npx asc`, without a process start per fixture).
 *
 * Flags, and why:
 * - `--runtime stub`: no GC to drive; fixtures are short-lived.
 * - `--exportStart _initialize`: top-level code runs when the host calls `_initialize`, as Envoy
 *   does, instead of from a wasm start section that would run before the host is ready.
 * - `--use abort=`: aborts (failed assertions, bounds checks) become `unreachable` traps instead of
 *   an `env.abort` import, which Envoy does not provide.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** Flags every fixture is built with. */
export const FIXTURE_ASC_FLAGS: readonly string[] = [
  "--runtime",
  "stub",
  "--exportStart",
  "_initialize",
  "--use",
  "abort=",
  "-O",
  "--noAssert",
];

let outputDir: string | undefined;

/** Builds `sourcePath` into a temporary directory and returns the .wasm path. Throws with asc's diagnostics. */
export async function buildAssemblyScript(sourcePath: string, extraFlags: readonly string[] = []): Promise<string> {
  outputDir ??= await mkdtemp(join(tmpdir(), "fake-host-fixtures-"));
  await mkdir(outputDir, { recursive: true });
  const wasmPath: string = join(outputDir, basename(sourcePath).replace(/\.ts$/, ".wasm"));
  const stderr: string[] = [];
  const stderrStream = {
    write(chunk: string | Uint8Array): void {
      stderr.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
    },
  };
  // --baseDir: compile from the fixture's folder so the project's own asconfig.json (filter build
  // settings) is not picked up.
  const argv: string[] = [basename(sourcePath), "--baseDir", dirname(sourcePath), "-o", wasmPath];
  // Loaded on first use: the compiler is large and most users of test/host never build fixtures.
  const asc: typeof import("assemblyscript/asc").default = (await import("assemblyscript/asc")).default;
  const result = await asc.main([...argv, ...FIXTURE_ASC_FLAGS, ...extraFlags], {
    stdout: stderrStream,
    stderr: stderrStream,
  });
  if (result.error !== null) {
    throw new Error(`asc failed for ${sourcePath}: ${result.error.message}\n${stderr.join("")}`);
  }
  return wasmPath;
}

/** Deletes the temporary directory of built fixtures (call from an `after` hook). */
export async function removeFixtureBuilds(): Promise<void> {
  if (outputDir === undefined) return;
  await rm(outputDir, { recursive: true, force: true });
  outputDir = undefined;
}
