// What the in-VM micro-benchmarks (bench/auth-vm.ts, bench/guard-vm.ts, …) share: the pass-through
// module they subtract (built with the same SDK and flags as the real modules, so the difference is
// the module's own work), the per-request timing loop and the percentile of a sorted sample.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Builds test/filters/fixtures/sdk-probe.ts (SDK only, no module logic) into bench/.peers; returns its path. */
export async function buildPassThrough(): Promise<string> {
  const out = join(ROOT, "bench", ".peers", "sdk-probe.wasm");
  mkdirSync(join(ROOT, "bench", ".peers"), { recursive: true });
  const r = await asc.main(["test/filters/fixtures/sdk-probe.ts", "--baseDir", ROOT, "--config", "asconfig.json", "--target", "release", "--outFile", out]);
  if (r.error) throw r.error;
  return out;
}

/**
 * Times `request` (one request through the module under test) `iterations` times, after `warm`
 * untimed ones, in µs; `between` runs after each request, outside the timing (answers to background
 * calls, the fake clock). `marked`: how many timed requests `request` returned true for.
 */
export function timeRequests(iterations: number, warm: number, request: () => boolean, between: () => void): { samples: number[]; marked: number } {
  const samples: number[] = [];
  let marked = 0;
  for (let i = 0; i < iterations + warm; i++) {
    const t0 = process.hrtime.bigint();
    const mark = request();
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    if (i >= warm) {
      samples.push(dt);
      if (mark) marked++;
    }
    between();
  }
  return { samples: samples.sort((a, b) => a - b), marked };
}

/** The p-th percentile (nearest rank) of an ascending sample. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The median of a sample (it is not modified). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Per-round percentiles of one module. */
export interface RoundRow { p50: number; p95: number; p99: number }

/** Medians over rounds of each percentile, for the rows `pick` selects. */
export function medianOfRounds<R extends RoundRow>(rows: R[], pick: (r: R) => boolean): RoundRow {
  const r = rows.filter(pick);
  return { p50: median(r.map((x) => x.p50)), p95: median(r.map((x) => x.p95)), p99: median(r.map((x) => x.p99)) };
}
