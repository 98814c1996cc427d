// Tracing end to end: a gateway with tracing on exports to a local OTLP/HTTP receiver. One request
// that carries a client traceparent yields one trace: Envoy's server span (child of the client's
// span) → Envoy's upstream span, whose context the provider receives in traceparent; and the
// sidecar's Authorize and RecordUsage spans, children of the client's span (the wasm filters see
// the client's trace context, not Envoy's own span: docs/tracing.md). Envoy exports protobuf, the
// sidecar JSON; both arrive at the same receiver.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { waitFor } from "../integration/envoy-harness.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.ts";

let receiver: OtlpReceiver;
let gw: Gateway;
let tenant: Tenant;
before(async () => {
  receiver = await startOtlpReceiver();
  gw = await startGateway({ otlpEndpoint: receiver.url });
  tenant = await gw.newTenant();
});
after(async () => {
  await gw?.stop();
  await receiver?.close();
});

function newContext(sampled: boolean): { traceId: string; spanId: string; header: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, header: `00-${traceId}-${spanId}-${sampled ? "01" : "00"}` };
}

async function chat(traceparent: string, requestId: string, marker: string, key: string = tenant.key): Promise<Response> {
  return fetch(`${gw.url}/mock/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", traceparent, "x-request-id": requestId },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: marker }] }),
  });
}

const dump = (spans: ReceivedSpan[]): string => JSON.stringify(spans, null, 1);

/**
 * Waits until the trace has Envoy's two spans and `sidecarSpans` of the sidecar's: 2 when the auth
 * filter asked the sidecar, 1 (RecordUsage) when it answered from its decision cache.
 */
async function traceOf(traceId: string, sidecarSpans: number): Promise<ReceivedSpan[]> {
  return waitFor(`spans of trace ${traceId}`, async () => {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    const envoy = spans.filter((s) => s.service === "leash-e2e");
    const sidecar = spans.filter((s) => s.service === "leash-e2e-sidecar");
    return envoy.length >= 2 && sidecar.length >= sidecarSpans ? spans : undefined;
  }, 20_000);
}

describe("tracing over OTLP", () => {
  it("puts the gateway, the sidecar and the provider call in the client's trace", async () => {
    const client = newContext(true);
    // A key the filter has not cached yet, so it asks the sidecar.
    const fresh = await gw.newTenant();
    const res = await chat(client.header, "trace-rid-1", "trace marker-1", fresh.key);
    assert.equal(res.status, 200, await res.text());
    await res.text().catch(() => "");

    const seen = gw.mock.requests.find((r) => r.body.includes("trace marker-1"));
    assert.ok(seen, "the mock did not receive the request");
    // Tracing must not rewrite the correlation id (it is the ledger's key).
    assert.equal(seen.headers["x-request-id"], "trace-rid-1");
    const upstream = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(seen.headers.traceparent));
    assert.ok(upstream, `provider got traceparent ${String(seen.headers.traceparent)}`);
    assert.equal(upstream[1], client.traceId, "the provider's traceparent is not in the client's trace");

    const spans = await traceOf(client.traceId, 2);
    const envoy = spans.filter((s) => s.service === "leash-e2e");
    const sidecar = spans.filter((s) => s.service === "leash-e2e-sidecar");
    assert.ok(envoy.every((s) => s.encoding === "protobuf") && sidecar.every((s) => s.encoding === "json"));

    // Envoy: the downstream span is the client span's child; the upstream span is its child, and
    // it is the span the provider was told about.
    const server = envoy.find((s) => s.parentSpanId === client.spanId);
    assert.ok(server, `no Envoy span under the client's span:\n${dump(spans)}`);
    const upstreamSpan = envoy.find((s) => s.spanId === upstream[2]);
    assert.ok(upstreamSpan, `no Envoy span with the id the provider received:\n${dump(spans)}`);
    assert.equal(upstreamSpan.parentSpanId, server.spanId);

    // The sidecar: Authorize and RecordUsage, both under the client's span.
    const authorize = sidecar.find((s) => s.name === "leash.v1.Sidecar/Authorize");
    const usage = sidecar.find((s) => s.name === "leash.v1.Sidecar/RecordUsage");
    assert.ok(authorize && usage, dump(sidecar));
    assert.equal(authorize.parentSpanId, client.spanId);
    assert.equal(usage.parentSpanId, client.spanId);
    assert.equal(authorize.kind, 2);
    assert.equal(authorize.attributes["leash.request_id"], "trace-rid-1");
    assert.equal(authorize.attributes["leash.tenant_id"], fresh.id);
    assert.equal(authorize.attributes["leash.code"], "ok");
    assert.equal(usage.attributes["leash.accepted"], true);
    assert.deepEqual(receiver.errors, []);
  });

  it("follows a client's not-sampled decision: no span of that trace anywhere", async () => {
    const quiet = newContext(false);
    const res = await chat(quiet.header, "trace-rid-2", "trace marker-2");
    assert.equal(res.status, 200);
    await res.text();
    // A sampled request after it: once its spans (exported in order by both exporters) are in,
    // the unsampled request's spans would be too.
    const later = newContext(true);
    const res2 = await chat(later.header, "trace-rid-3", "trace marker-3");
    await res2.text();
    await traceOf(later.traceId, 1);
    assert.deepEqual(receiver.spans.filter((s) => s.traceId === quiet.traceId), []);
    const seen = gw.mock.requests.find((r) => r.body.includes("trace marker-2"));
    assert.match(String(seen?.headers.traceparent), new RegExp(`^00-${quiet.traceId}-[0-9a-f]{16}-00$`));
  });
});
