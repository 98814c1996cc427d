// bench/timeline.ts: its flags, and bench/load/timeline-stats.ts's slow requests per second and
// episodes of slow requests on hand-made timelines (request i scheduled at i / rate), so every
// expected figure is exact. No target is started.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseTimelineOptions } from "../../bench/cli/timeline-options.ts";
import { episodes, perSecond, type Timeline } from "../../bench/load/timeline-stats.ts";

/** A timeline at `rate`/s from latencies; "err" marks a failed request, null one never sent. */
function timeline(rate: number, values: readonly (number | "err" | null)[]): Timeline {
  const latencyMs: Float64Array = new Float64Array(values.length).fill(Number.NaN);
  const failed: Uint8Array = new Uint8Array(values.length);
  values.forEach((v: number | "err" | null, i: number) => {
    if (v === "err") failed[i] = 1;
    else if (v !== null) latencyMs[i] = v;
  });
  return { rate, latencyMs, failed };
}

describe("perSecond", () => {
  it("counts slow requests, errors and the slowest per scheduled second", () => {
    const t: Timeline = timeline(4, [1, 5, 2, "err", 3, 1, 9, null, 0.5]);
    assert.deepEqual(perSecond(t, 3), [
      { second: 0, requests: 4, slow: 1, errors: 1, maxMs: 5 },
      // 3 ms is not slower than 3 ms; the request never sent is not counted.
      { second: 1, requests: 3, slow: 1, errors: 0, maxMs: 9 },
      { second: 2, requests: 1, slow: 0, errors: 0, maxMs: 0.5 },
    ]);
  });
});

describe("episodes", () => {
  it("joins slow requests scheduled less than the gap apart and says how far apart episodes start", () => {
    // 1000/s: request i is scheduled at i ms.
    const values: (number | "err" | null)[] = new Array(40).fill(1);
    values[2] = 4;
    values[5] = 7; // 3 ms after the slow request at 2 ms: the same episode
    values[20] = 6; // 15 ms after: a new one
    values[30] = "err"; // an error is no slow request
    values[35] = 3.5;
    assert.deepEqual(episodes(timeline(1000, values), 3, 5), [
      { startMs: 2, spanMs: 3, requests: 2, maxMs: 7, sincePreviousMs: null },
      { startMs: 20, spanMs: 0, requests: 1, maxMs: 6, sincePreviousMs: 18 },
      { startMs: 35, spanMs: 0, requests: 1, maxMs: 3.5, sincePreviousMs: 15 },
    ]);
  });

  it("measures the gap from the last slow request, so a long run stays one episode", () => {
    const values: number[] = [4, 1, 4, 1, 4, 1, 4];
    assert.deepEqual(episodes(timeline(1000, values), 3, 3), [{ startMs: 0, spanMs: 6, requests: 4, maxMs: 4, sincePreviousMs: null }]);
  });

  it("finds none when nothing is slow", () => {
    assert.deepEqual(episodes(timeline(100, [1, 2, 2.9, "err", null]), 3, 5), []);
  });
});

describe("bench/timeline.ts flags", () => {
  it("records leash-auth at 1000/s for 20 s, cold, by default", () => {
    const o = parseTimelineOptions([]);
    assert.deepEqual(
      { target: o.target, rate: o.rate, durationMs: o.durationMs, sizeBytes: o.sizeBytes, warmupMs: o.warmupMs, warmupRate: o.warmupRate, slowMs: o.slowMs },
      { target: "leash-auth", rate: 1000, durationMs: 20_000, sizeBytes: 1024, warmupMs: 0, warmupRate: 1000, slowMs: 3 },
    );
  });

  it("takes the documented example", () => {
    const o = parseTimelineOptions(["--target", "leash-quota", "--rate", "1000", "--duration", "20s", "--warmup-rate", "250", "--warmup", "15s", "--slow-ms", "2.5"]);
    assert.equal(o.target, "leash-quota");
    assert.equal(o.warmupMs, 15_000);
    assert.equal(o.warmupRate, 250);
    assert.equal(o.slowMs, 2.5);
  });

  it("refuses an unknown target and a threshold that is not above 0", () => {
    assert.throws(() => parseTimelineOptions(["--target", "nginx"]), /unknown target "nginx"/);
    assert.throws(() => parseTimelineOptions(["--slow-ms", "0"]), /--slow-ms must be a number above 0/);
  });
});
