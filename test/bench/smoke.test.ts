// The benchmark harness's smoke mode, run as a user would (`bench/run.ts --smoke`, a child
// process), with the result JSON checked for shape: every target measured, no errors on the
// baselines, percentiles that are numbers in order. Timings are never asserted — they are noise
// on a shared 2-core machine, and performance is the benchmark's business, not a test's.
// Needs what the e2e tier needs: Envoy, PostgreSQL, Redis and `npm run build`.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import type { Percentiles } from "../../bench/load/percentiles.ts";
import type { BenchResult, PointResult, SummaryRow, TargetReport } from "../../bench/report/result-types.ts";

const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
const SMOKE_TARGETS: readonly string[] = ["direct", "envoy-bare", "leash-auth"];

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runSmoke(outDir: string): Promise<ChildRun> {
  return new Promise<ChildRun>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", "run.ts"), "--smoke", "--out", outDir], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout: string = "";
    let stderr: string = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    // The smoke run takes seconds; this only bounds a hang. SIGTERM lets it clean up after itself.
    const timer: NodeJS.Timeout = setTimeout(() => child.kill("SIGTERM"), 180_000);
    child.once("error", reject);
    child.once("exit", (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function assertWellFormed(p: Percentiles | null, what: string, expectedCount: number): void {
  assert.ok(p !== null, `${what}: percentiles missing`);
  assert.equal(p.count, expectedCount, `${what}: count`);
  const ordered: number[] = [p.min, p.p50, p.p90, p.p95, p.p99, p.p999, p.max];
  for (const v of [...ordered, p.mean]) assert.ok(typeof v === "number" && Number.isFinite(v) && v >= 0, `${what}: ${JSON.stringify(p)}`);
  for (let i = 1; i < ordered.length; i++) assert.ok(ordered[i - 1] <= ordered[i], `${what}: percentiles out of order: ${JSON.stringify(p)}`);
  assert.ok(p.min <= p.mean && p.mean <= p.max, `${what}: mean outside [min, max]`);
}

describe("bench/run.ts --smoke", () => {
  let outDir: string;
  let run: ChildRun;
  let result: BenchResult;
  let base: string;

  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), "leash-bench-smoke-"));
    run = await runSmoke(outDir);
    assert.equal(run.code, 0, `bench exited ${run.code}\n${run.stderr}`);
    const json: string[] = readdirSync(outDir).filter((f: string) => f.endsWith(".json"));
    assert.equal(json.length, 1, `expected one result file in ${outDir}, found ${json.join(", ")}`);
    base = join(outDir, json[0].replace(/\.json$/, ""));
    result = JSON.parse(readFileSync(`${base}.json`, "utf8")) as BenchResult;
  }, { timeout: 200_000 });

  after(() => {
    if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  });

  it("writes the JSON, the markdown and the chart, and prints the table", () => {
    assert.equal(result.schema, 1);
    assert.equal(result.smoke, true);
    assert.ok(existsSync(`${base}.md`));
    assert.match(readFileSync(`${base}.svg`, "utf8"), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(run.stdout, /\| size \| rate\/s \| target \|/);
  });

  it("warms every target once before round 1, at the lowest rate and smallest size, and says so in the plan", () => {
    const warmup = result.targetWarmup;
    assert.ok(warmup !== undefined, "targetWarmup missing");
    assert.ok(warmup.durationMs > 0 && warmup.durationMs === result.options.targetWarmupMs, JSON.stringify(warmup));
    assert.equal(warmup.rate, Math.min(...result.options.rates));
    assert.equal(warmup.size, result.options.sizes[0]);
    assert.deepEqual(warmup.targets.map((t) => t.target), [...SMOKE_TARGETS]);
    for (const t of warmup.targets) assert.ok(t.scheduled > 0, `${t.target}: nothing scheduled`);
    assert.ok(readFileSync(`${base}.md`, "utf8").includes(warmup.description), "the plan line names the warm-up");
  });

  it("runs every smoke target, each with requests at every scenario", () => {
    for (const name of SMOKE_TARGETS) {
      const report: TargetReport | undefined = result.targets.find((t: TargetReport) => t.name === name);
      assert.ok(report !== undefined, `${name} missing from targets`);
      assert.equal(report.status, "ok", `${name}: ${report.reason}`);
    }
    const scenarios: string[] = [...new Set(result.points.map((p: PointResult) => p.scenario))];
    assert.ok(scenarios.length >= 2, "a non-streaming and a streaming scenario");
    assert.ok(result.points.some((p: PointResult) => p.stream));
    for (const name of SMOKE_TARGETS) {
      for (const scenario of scenarios) {
        const points: PointResult[] = result.points.filter((p: PointResult) => p.target === name && p.scenario === scenario);
        assert.ok(points.length > 0, `${name} ${scenario}: no point`);
        for (const p of points) {
          assert.ok(p.sent > 0 && p.ok > 0, `${name} ${scenario}: sent ${p.sent}, ok ${p.ok}`);
        }
      }
    }
  });

  it("has no errors on the baselines (direct, envoy-bare)", () => {
    for (const p of result.points.filter((x: PointResult) => x.target === "direct" || x.target === "envoy-bare")) {
      assert.equal(p.errorCount, 0, `${p.target} ${p.scenario}: ${JSON.stringify(p.errors)}`);
      assert.equal(p.ok, p.scheduled, `${p.target} ${p.scenario}: every scheduled request answered`);
    }
  });

  it("has well-formed percentiles on every point", () => {
    for (const p of result.points) {
      const what: string = `${p.target} ${p.scenario}`;
      assertWellFormed(p.latencyMs, `${what} latency`, p.ok);
      // The generator's lateness is recorded for every request it got to, sent or turned away.
      assertWellFormed(p.sendLagMs, `${what} send lag`, p.sent + (p.errors.client_inflight_cap ?? 0));
      if (p.stream) {
        assertWellFormed(p.ttftMs, `${what} ttft`, p.ok);
        // Per request the first byte comes before the last, so every order statistic does too.
        assert.ok(p.ttftMs!.p50 <= p.latencyMs.p50, `${what}: TTFT P50 after total P50`);
      } else {
        assert.equal(p.ttftMs, null);
      }
      for (const v of [p.generatorCpuPercent, p.mockCpuPercent, p.targetCpuPercent, p.achievedRate]) {
        assert.ok(Number.isFinite(v) && v >= 0, `${what}: ${v}`);
      }
    }
  });

  it("summarizes overhead against direct for the gateways, and memory per target", () => {
    for (const row of result.summary.filter((r: SummaryRow) => r.target !== "direct" && r.valid)) {
      assert.ok(row.overheadMs !== null, `${row.target} ${row.scenario}: overhead missing`);
      for (const v of [row.overheadMs.p50, row.overheadMs.p95, row.overheadMs.p99]) assert.ok(Number.isFinite(v));
      if (row.stream) assert.ok(row.ttftOverheadMs !== null, `${row.target} ${row.scenario}: added TTFT missing`);
    }
    const leash: TargetReport = result.targets.find((t: TargetReport) => t.name === "leash-auth")!;
    assert.ok(leash.peakRssBytes.envoy > 0 && leash.peakRssBytes.sidecar > 0, JSON.stringify(leash.peakRssBytes));
    assert.ok(result.goals.length > 0);
  });
});
