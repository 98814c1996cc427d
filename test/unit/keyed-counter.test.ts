// KeyedCounter (sidecar-services/src/keyed-counter.ts) against prom-client's Counter: the same
// increments give the same /metrics text and JSON, series by series; a kept series handle counts
// into the same series; refusals as prom-client's.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Counter, Registry } from "prom-client";
import { KeyedCounter } from "../../sidecar-services/src/keyed-counter.ts";

const OPTS = { name: "t_requests_total", help: "A test counter.", labelNames: ["tenant", "provider", "status"] as const };

describe("KeyedCounter", () => {
  it("scrapes as prom-client's Counter does for the same increments", async () => {
    const a = new Registry();
    const b = new Registry();
    const theirs = new Counter({ ...OPTS, labelNames: [...OPTS.labelNames], registers: [a] });
    const ours = new KeyedCounter({ ...OPTS, registers: [b] });
    // Default 1, fractions, 0 (a series at 0), large values, quoting and newlines in a label.
    const incs: Array<[string, string, string, number | undefined]> = [
      ["acme", "openai", "2xx", undefined], ["acme", "openai", "2xx", 2.5], ["globex", "mock", "429", 0],
      ['a"b\\c', "mock", "5xx", 1e12], ["acme", "openai", "4xx", 1], ["line\nbreak", "mock", "2xx", 0.000001],
    ];
    const handle = ours.series({ tenant: "acme", provider: "openai", status: "2xx" });
    for (const [tenant, provider, status, v] of incs) {
      theirs.inc({ tenant, provider, status }, v);
      if (tenant === "acme" && status === "2xx") handle.inc(v);
      else ours.inc({ tenant, provider, status }, v);
    }
    // A refused increment of a new series creates none, in either.
    assert.throws(() => theirs.inc({ tenant: "new", provider: "p", status: "2xx" }, -1));
    assert.throws(() => ours.inc({ tenant: "new", provider: "p", status: "2xx" }, -1));
    assert.equal(await b.metrics(), await a.metrics());
    assert.deepEqual(JSON.parse(JSON.stringify(await b.getMetricsAsJSON())), JSON.parse(JSON.stringify(await a.getMetricsAsJSON())));
  });

  it("gives the same series for the same labels, and keeps label sets apart whatever they contain", async () => {
    const r = new Registry();
    const ours = new KeyedCounter({ ...OPTS, registers: [r] });
    assert.equal(ours.series({ tenant: "t", provider: "p", status: "2xx" }), ours.series({ tenant: "t", provider: "p", status: "2xx" }));
    ours.inc({ tenant: "a\u00001:b", provider: "c", status: "2xx" });
    ours.inc({ tenant: "a", provider: "1:b\u0000c", status: "2xx" });
    const values = (await r.getMetricsAsJSON())[0].values as Array<{ value: number }>;
    assert.deepEqual(values.map((v) => v.value), [0, 1, 1]);
  });

  it("refuses what prom-client refuses: a decrease, a value that is not finite", () => {
    const s = new KeyedCounter({ ...OPTS, registers: [] }).series({ tenant: "t", provider: "p", status: "2xx" });
    assert.throws(() => s.inc(-1), /not possible to decrease a counter/);
    assert.throws(() => s.inc(Number.NaN), /not a valid number/);
    assert.throws(() => s.inc(Number.POSITIVE_INFINITY), /not a valid number/);
    assert.equal(s.value, 0);
  });

  it("starts empty again after reset, and tells whoever keeps handles", async () => {
    const r = new Registry();
    const ours = new KeyedCounter({ ...OPTS, registers: [r] });
    let told = 0;
    ours.onReset(() => told++);
    ours.inc({ tenant: "t", provider: "p", status: "2xx" });
    r.resetMetrics();
    assert.equal(told, 1);
    assert.equal(await r.metrics(), "# HELP t_requests_total A test counter.\n# TYPE t_requests_total counter\n");
  });
});
