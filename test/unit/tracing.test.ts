// The sidecar's span recorder and OTLP exporter without a gateway: traceparent parsing, sampling,
// the OTLP JSON shape, and that a dead collector costs dropped spans, never a blocked caller.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { Registry } from "prom-client";
import { silentLogger } from "../../sidecar-services/src/logger.ts";
import { createOtlpTracer, exportRequestJson } from "../../sidecar-services/src/otlp-exporter.ts";
import { createTracer, parseTraceparent, type SpanData } from "../../sidecar-services/src/tracing.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("traceparent", () => {
  test("parses version 00 with the sampled flag", () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true });
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, sampled: false });
  });

  test("rejects malformed values, version ff and all-zero ids", () => {
    for (const bad of [undefined, "", "garbage", `ff-${TRACE}-${SPAN}-01`, `00-${"0".repeat(32)}-${SPAN}-01`, `00-${TRACE}-${"0".repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01-extra`]) {
      assert.equal(parseTraceparent(bad), null, String(bad));
    }
  });
});

describe("sampling", () => {
  const ended: SpanData[] = [];
  const tracer = createTracer({ sampleRate: 0, onEnd: (s) => ended.push(s), random: () => 0.5 });

  test("a sampled parent is followed even at rate 0; its span is the parent's child in the same trace", () => {
    const span = tracer.start("op", `00-${TRACE}-${SPAN}-01`, { "leash.request_id": "r1" });
    assert.ok(span);
    span.end();
    const s = ended.at(-1)!;
    assert.equal(s.traceId, TRACE);
    assert.equal(s.parentSpanId, SPAN);
    assert.notEqual(s.spanId, SPAN);
    assert.ok(s.endNs >= s.startNs);
  });

  test("an unsampled parent is followed even at rate 1", () => {
    const all = createTracer({ sampleRate: 1, onEnd: () => assert.fail("recorded") });
    assert.equal(all.start("op", `00-${TRACE}-${SPAN}-00`), null);
  });

  test("without a parent the rate decides, and the span is a new root", () => {
    assert.equal(tracer.start("op", undefined), null);
    const half = createTracer({ sampleRate: 0.6, onEnd: (s) => ended.push(s), random: () => 0.5 });
    half.start("root", "not a traceparent")!.end({ error: true, message: "sidecar.db_unavailable" });
    const s = ended.at(-1)!;
    assert.equal(s.parentSpanId, "");
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.equal(s.statusCode, 2);
  });
});

describe("OTLP exporter", () => {
  test("the JSON body follows OTLP/HTTP JSON: hex ids, string nanos, typed attribute values", () => {
    const body = JSON.parse(exportRequestJson("leash-sidecar", [{
      traceId: TRACE, spanId: SPAN, parentSpanId: "", name: "op", kind: 2, startNs: 1n, endNs: 2n,
      attributes: { s: "x", n: 3, b: true, d: 0.5 }, statusCode: 1, statusMessage: "",
    }]));
    const rs = body.resourceSpans[0];
    assert.deepEqual(rs.resource.attributes, [{ key: "service.name", value: { stringValue: "leash-sidecar" } }]);
    const span = rs.scopeSpans[0].spans[0];
    assert.equal(span.startTimeUnixNano, "1");
    assert.equal(span.parentSpanId, undefined);
    assert.deepEqual(span.attributes, [
      { key: "s", value: { stringValue: "x" } }, { key: "n", value: { intValue: "3" } },
      { key: "b", value: { boolValue: true } }, { key: "d", value: { doubleValue: 0.5 } },
    ]);
    assert.deepEqual(span.status, { code: 1 });
  });

  test("exports in batches; a full queue and a failing collector drop spans and count them", async () => {
    let status = 200;
    const bodies: string[] = [];
    const server = http.createServer((req, res) => {
      let b = "";
      req.on("data", (c: Buffer) => (b += c));
      req.on("end", () => { bodies.push(b); res.writeHead(status).end("{}"); });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const registry = new Registry();
    const tracer = createOtlpTracer({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, serviceName: "svc", sampleRate: 1,
      registry, log: silentLogger, maxQueue: 3, maxBatch: 2, intervalMs: 3_600_000,
    });
    try {
      for (let i = 0; i < 5; i++) tracer.start(`op${i}`, undefined)!.end();
      // Nothing was sent on the caller's path: the queue holds 3, 2 were dropped.
      assert.equal(bodies.length, 0);
      await tracer.shutdown();
      assert.equal(bodies.length, 2, "3 spans in batches of 2");
      const names = bodies.flatMap((b) => JSON.parse(b).resourceSpans[0].scopeSpans[0].spans.map((s: { name: string }) => s.name));
      assert.deepEqual(names, ["op0", "op1", "op2"]);
      const text = await registry.metrics();
      assert.match(text, /leash_tracing_spans_exported_total 3\b/);
      assert.match(text, /leash_tracing_spans_dropped_total\{reason="queue_full"\} 2\b/);

      status = 503;
      const failingRegistry = new Registry();
      const failing = createOtlpTracer({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, serviceName: "svc", sampleRate: 1,
        registry: failingRegistry, log: silentLogger, intervalMs: 3_600_000,
      });
      failing.start("x", undefined)!.end();
      await failing.shutdown();
      assert.equal(bodies.length, 3);
      assert.match(await failingRegistry.metrics(), /leash_tracing_spans_dropped_total\{reason="export_failed"\} 1\b/);
    } finally {
      server.close();
    }
  });
});
