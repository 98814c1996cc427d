// `leash config check` and `leash config generate`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import type { LeashConfig } from "../config/types.ts";
import { writeEnvoyConfig } from "../envoy/generate.ts";
import { findEnvoy } from "../envoy/find-envoy.ts";
import { WASM_DIR, ENVOY_OUT_DIR } from "./paths.ts";

/** Validates the Leash config (already loaded) and the Envoy config generated from it. */
export function configCheck(cfg: LeashConfig, source: string, withEnvoy: boolean): number {
  console.log(`${source}: ok (${cfg.providers.length} providers, modules: ${Object.entries(cfg.modules).filter(([, m]) => m.enabled).map(([n]) => n).join(", ") || "none"})`);
  if (!withEnvoy) return 0;
  const dir = mkdtempSync(join(tmpdir(), "leash-check-"));
  try {
    writeEnvoyConfig(cfg, { wasmDir: WASM_DIR, outDir: dir });
    const envoy = findEnvoy();
    const r = spawnSync(envoy, ["--mode", "validate", "-c", join(dir, "bootstrap.yaml"), "-l", "error"], { encoding: "utf8" });
    if (r.status !== 0) {
      console.error(`envoy --mode validate failed:\n${r.stdout}${r.stderr}`);
      return 1;
    }
    console.log("generated Envoy config: ok (envoy --mode validate)");
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function configGenerate(cfg: LeashConfig, outDir: string | undefined): number {
  const files = writeEnvoyConfig(cfg, { wasmDir: WASM_DIR, outDir: outDir ?? ENVOY_OUT_DIR });
  for (const f of files) console.log(f);
  return 0;
}
