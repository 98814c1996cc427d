// bench/run.ts's flag for the warm-up of each target before round 1, and the plan's words about
// it. Pure parsing: no target is started.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseOptions } from "../../bench/cli/options.ts";
import { envoyConcurrency } from "../../bench/targets/leash.ts";
import { describeTargetWarmup } from "../../bench/warm-up.ts";

describe("bench/run.ts --target-warmup", () => {
  it("warms each target for 15 s by default, and briefly in smoke mode", () => {
    assert.equal(parseOptions([]).targetWarmupMs, 15_000);
    const smoke = parseOptions(["--smoke"]);
    assert.ok(smoke.targetWarmupMs > 0 && smoke.targetWarmupMs <= smoke.warmupMs, `smoke: ${smoke.targetWarmupMs} ms`);
  });

  it("takes a duration, and 0 for off", () => {
    assert.equal(parseOptions(["--target-warmup", "5s"]).targetWarmupMs, 5000);
    assert.equal(parseOptions(["--target-warmup", "0"]).targetWarmupMs, 0);
    assert.equal(parseOptions(["--smoke", "--target-warmup", "0"]).targetWarmupMs, 0);
  });

  it("refuses what is not a duration", () => {
    assert.throws(() => parseOptions(["--target-warmup", "fifteen"]), /duration must look like/);
    assert.throws(() => parseOptions(["--target-warmup=-1s"]), /duration must look like/);
  });

  it("is described in the plan with its rate and size, or as off", () => {
    assert.equal(describeTargetWarmup(15_000, 250, "1k"), "each target warmed for 15 s at 250/s (1k bodies) before round 1, not measured");
    assert.equal(describeTargetWarmup(300, 50, "1k"), "each target warmed for 0.3 s at 50/s (1k bodies) before round 1, not measured");
    assert.equal(describeTargetWarmup(0, 250, "1k"), "targets not warmed before round 1 (--target-warmup 0)");
  });
});

describe("bench options: the default targets", () => {
  it("are issue 7's comparison: direct, bare Envoy, each module alone, the full chain and the peers", () => {
    assert.deepEqual(parseOptions([]).targets, [
      "direct", "envoy-bare", "leash-auth", "leash-quota", "leash-usage", "leash-redact", "leash-injection", "leash-full", "litellm", "portkey",
    ]);
  });

  it("run at issue 7's rates and at 50/s, where the peers are not overloaded; streamed at the lowest", () => {
    const opts = parseOptions([]);
    assert.deepEqual(opts.rates, [50, 250, 1000, 2000, 5000]);
    assert.deepEqual(opts.sizes, [1024, 8192]);
    assert.deepEqual(opts.streamRates, [50]);
  });

  it("leave the narrower targets (A/A control, packagings, ablations) to be named", () => {
    const narrower: string[] = ["leash-auth-control", "leash-full-filters", "leash-full-separate", "leash-full-no-quota"];
    for (const name of narrower) assert.ok(!parseOptions([]).targets.includes(name as never), name);
    assert.deepEqual(parseOptions(["--targets", narrower.join(",")]).targets, ["direct", ...narrower]);
  });
});

describe("bench options: the baseline build target", () => {
  it("is left out of the default targets, and refused by name, when no baseline build is given", () => {
    // The unit tests run without LEASH_BENCH_BASELINE_BUILD (paths.ts reads it once, at import).
    assert.equal(process.env.LEASH_BENCH_BASELINE_BUILD ?? "", "");
    assert.ok(!parseOptions([]).targets.includes("leash-full-baseline"));
    assert.ok(parseOptions([]).targets.includes("leash-full"));
    assert.throws(() => parseOptions(["--targets", "leash-full,leash-full-baseline"]), /LEASH_BENCH_BASELINE_BUILD/);
  });
});

describe("bench options: Envoy's worker threads (LEASH_BENCH_ENVOY_CONCURRENCY)", () => {
  it("are one by default, for the one core a pinned target gets", () => {
    assert.equal(envoyConcurrency({}), 1);
    assert.equal(envoyConcurrency({ LEASH_BENCH_ENVOY_CONCURRENCY: "" }), 1);
  });

  it("take a whole number from 1 to 64 and refuse anything else", () => {
    assert.equal(envoyConcurrency({ LEASH_BENCH_ENVOY_CONCURRENCY: "2" }), 2);
    for (const bad of ["0", "1.5", "two", "65", "-1"]) {
      assert.throws(() => envoyConcurrency({ LEASH_BENCH_ENVOY_CONCURRENCY: bad }), /LEASH_BENCH_ENVOY_CONCURRENCY must be an integer from 1 to 64/, bad);
    }
  });
});
