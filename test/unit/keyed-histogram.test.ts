// KeyedHistogram (sidecar-services/src/keyed-histogram.ts) against prom-client's Histogram: the same
// observations give the same /metrics text, series by series, bucket edges included.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Histogram, Registry } from "prom-client";
import { KeyedHistogram } from "../../sidecar-services/src/keyed-histogram.ts";

const OPTS = { name: "t_duration_seconds", help: "A test histogram, seconds.", labelNames: ["module", "tenant"] as const, buckets: [0.001, 0.01, 0.1, 1] };

describe("KeyedHistogram", () => {
  it("scrapes as prom-client's Histogram does for the same observations", async () => {
    const a = new Registry();
    const b = new Registry();
    const theirs = new Histogram({ ...OPTS, labelNames: [...OPTS.labelNames], registers: [a] });
    const ours = new KeyedHistogram({ ...OPTS, registers: [b] });
    // Below the first bound, on bounds exactly, between, past the last, 0, and quoting in a label.
    const seen: Array<[string, string, number]> = [
      ["auth", "acme", 0.0004], ["auth", "acme", 0.001], ["redact", "acme", 0.05], ["auth", "globex", 2],
      ["auth", "acme", 0.01], ["quota", 'a"b\\c', 0], ["redact", "acme", 1], ["auth", "acme", 7.5],
    ];
    for (const [module, tenant, v] of seen) {
      theirs.observe({ module, tenant }, v);
      ours.observe({ module, tenant }, v);
    }
    assert.equal(await b.metrics(), await a.metrics());
    const json = JSON.parse(JSON.stringify(await b.getMetricsAsJSON()));
    assert.deepEqual(json, JSON.parse(JSON.stringify(await a.getMetricsAsJSON())));
  });

  it("keeps label sets apart whatever their values contain", async () => {
    const r = new Registry();
    const ours = new KeyedHistogram({ ...OPTS, registers: [r] });
    // Same characters in a row, split differently between the two labels.
    ours.observe({ module: "a\u00001:b", tenant: "c" }, 0.5);
    ours.observe({ module: "a", tenant: "1:b\u0000c" }, 0.5);
    const values = (await r.getMetricsAsJSON())[0].values as Array<{ metricName?: string; value: number }>;
    const counts = values.filter((v) => v.metricName === "t_duration_seconds_count");
    assert.equal(counts.length, 2);
    assert.deepEqual(counts.map((v) => v.value), [1, 1]);
  });

  it("refuses a value that is not finite, as prom-client does", () => {
    const ours = new KeyedHistogram({ ...OPTS, registers: [] });
    assert.throws(() => ours.observe({ module: "auth", tenant: "t" }, Number.NaN), /not a finite value/);
  });

  it("starts empty again after reset", async () => {
    const r = new Registry();
    const ours = new KeyedHistogram({ ...OPTS, registers: [r] });
    ours.observe({ module: "auth", tenant: "t" }, 0.5);
    ours.reset();
    assert.equal(await r.metrics(), "# HELP t_duration_seconds A test histogram, seconds.\n# TYPE t_duration_seconds histogram\n");
  });
});
