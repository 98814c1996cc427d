// The usage module as shipped (build/release/usage.wasm) in the fake host: it watches responses
// without holding them back, reads usage from JSON bodies and SSE streams (split anywhere), and
// reports one UsageReport per request to the sidecar after the response — batched (a full batch
// at once, the rest on the flush timer) — retrying when the sidecar does not take them. Reports
// are checked with protobufjs over the real proto.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { FakeHost, type HttpStream } from "../host/index.ts";
import { decodeUsageBatch, encodeUsageBatchAck } from "./sidecar-proto.ts";

const WASM = fileURLToPath(new URL("../../build/release/usage.wasm", import.meta.url));
let clockMs = 1_700_000_000_000;

async function load(extra: Record<string, unknown> = {}): Promise<FakeHost> {
  const host = await FakeHost.load(WASM, {
    rootId: "usage",
    // As the generator sets it: the module holds OpenAI completion requests' headers for their body.
    allowOnHeadersStopIteration: true,
    now: () => BigInt(clockMs) * 1_000_000n,
    pluginConfig: JSON.stringify({
      module: "usage", timeout_ms: 1000, sidecar_cluster: "leash_sidecar",
      routes: [{ prefix: "/openai", provider: "openai", api: "openai" }, { prefix: "/anthropic", provider: "anthropic", api: "anthropic" }],
      flush_ms: 100, retry_tick_ms: 100,
      ...extra,
    }),
  });
  assert.ok(host.startOk, host.logs.map((l) => l.message).join("\n"));
  return host;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Every report the module has sent so far, in order, across its batch calls. */
function reports(host: FakeHost): Array<Record<string, string | number | boolean>> {
  return host.grpcCalls.flatMap((c) => decodeUsageBatch(c.message));
}

function request(host: FakeHost, path: string, body: string): HttpStream {
  const s = host.newHttpStream();
  s.filterState.set("leash.tenant_id", enc("acme"));
  s.filterState.set("leash.key_id", enc("abcdefghijkl"));
  const held = path.startsWith("/openai/") && /\/completions(\?|$)/.test(path);
  const headers: Array<[string, string]> = [[":method", "POST"], [":path", path], ["x-request-id", "rid-42"], ["content-type", "application/json"], ["content-length", String(enc(body).length)]];
  assert.equal(s.requestHeaders(headers, false), held ? 1 : 0, held ? "OpenAI completion headers held for the body" : "headers pass");
  assert.equal(s.requestBody(body, true), 0);
  return s;
}

/** One whole completion of a tenant with audit on, `text` its prompt: its report carries the body. */
function auditedExchange(host: FakeHost, text: string): void {
  const s = host.newHttpStream();
  s.filterState.set("leash.tenant_id", enc("acme"));
  s.filterState.set("leash.policy", enc(JSON.stringify({ audit: { enabled: true } })));
  s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["x-request-id", "rid"], ["content-type", "application/json"]], false);
  s.requestBody(JSON.stringify({ model: "m", messages: [{ role: "user", content: text }] }), true);
  s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], true);
  s.done();
}

/** The prompt an audited report's request body holds. */
function auditedPrompt(report: Record<string, unknown>): string {
  return JSON.parse(new TextDecoder().decode(report.auditRequestBody as Uint8Array)).messages[0].content;
}

describe("usage module", () => {
  it("reports a non-streamed OpenAI completion with the provider's usage", async () => {
    const host = await load();
    const s = request(host, "/openai/v1/chat/completions", '{"model":"gpt-4o-mini","messages":[]}');
    clockMs += 7;
    assert.equal(s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], false), 0);
    const body = '{"id":"c1","model":"gpt-4o-mini-2024","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":11,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":2}}}';
    assert.equal(s.responseBody(body.slice(0, 40), false), 0, "the response was held back");
    clockMs += 5;
    assert.equal(s.responseBody(body.slice(40), true), 0);
    assert.equal(host.grpcCalls.length, 0, "reported before the request ended");
    s.done();
    assert.equal(host.grpcCalls.length, 0, "a lone report went out before its batch was due");
    host.tick();
    assert.equal(host.grpcCalls.length, 1);
    const call = host.grpcCalls[0];
    assert.equal(call.service, "leash.v1.Sidecar");
    assert.equal(call.method, "RecordUsageBatch");
    const batch = decodeUsageBatch(call.message);
    assert.equal(batch.length, 1);
    const r = batch[0];
    assert.equal(r.requestId, "rid-42");
    assert.equal(r.tenantId, "acme");
    assert.equal(r.keyId, "abcdefghijkl");
    assert.equal(r.provider, "openai");
    assert.equal(r.api, "openai");
    assert.equal(r.model, "gpt-4o-mini-2024");
    assert.equal(r.status, 200);
    assert.equal(r.promptTokens, 11);
    assert.equal(r.completionTokens, 3);
    assert.equal(r.cachedTokens, 2);
    assert.equal(r.streamed, false);
    assert.equal(r.estimated, false);
    assert.equal(r.upstreamFirstByteMs, 7);
    assert.equal(r.durationMs, 12);
  });

  it("reads Anthropic stream usage with every event split across chunks at every offset", async () => {
    const stream =
      'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":21,"output_tokens":1}}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hello"}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":9}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const host = await load();
    for (let cut = 1; cut < stream.length; cut += 7) {
      const s = request(host, "/anthropic/v1/messages", '{"model":"claude-x","stream":true}');
      s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream; charset=utf-8"]], false);
      s.responseBody(stream.slice(0, cut), false);
      s.responseBody(stream.slice(cut), true);
      s.done();
      host.tick();
      const r = reports(host).at(-1)!;
      assert.deepEqual([r.promptTokens, r.completionTokens, r.streamed, r.estimated, r.model], [21, 9, true, false, "claude-x"], `cut at ${cut}`);
    }
  });

  it("estimates completion tokens for an OpenAI stream without usage, and says so", async () => {
    const host = await load();
    const s = request(host, "/openai/v1/chat/completions", '{"model":"gpt-4o","stream":true}');
    s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream"]], false);
    s.responseBody('data: {"choices":[{"delta":{"content":"abcdefgh"}}]}\n\ndata: {"choices":[{"delta":{"content":"ijkl"}}]}\n\ndata: [DONE]\n\n', true);
    s.done();
    host.tick();
    const r = reports(host)[0];
    assert.equal(r.estimated, true);
    assert.equal(r.completionTokens, 3);
    assert.equal(r.model, "gpt-4o");
  });

  it("reports upstream errors with their status and no tokens", async () => {
    const host = await load();
    const s = request(host, "/openai/v1/chat/completions", '{"model":"gpt-4o"}');
    s.responseHeaders([[":status", "429"], ["content-type", "application/json"]], false);
    s.responseBody('{"error":{"type":"rate_limit_exceeded"}}', true);
    s.done();
    host.tick();
    const r = reports(host)[0];
    assert.deepEqual([r.status, r.promptTokens, r.completionTokens, r.estimated], [429, 0, 0, false]);
  });

  it("ignores paths outside the provider routes", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "GET"], [":path", "/health"]], true);
    s.responseHeaders([[":status", "200"]], true);
    s.done();
    host.tick();
    assert.equal(host.grpcCalls.length, 0);
  });

  it("sends a full batch at once, and one call per batch", async () => {
    const host = await load({ batch_max: 3 });
    for (let i = 0; i < 7; i++) {
      const s = request(host, "/openai/v1/chat/completions", `{"model":"m${i}"}`);
      s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], true);
      s.done();
    }
    assert.equal(host.grpcCalls.length, 2, "full batches did not go out at once");
    host.tick();
    assert.equal(host.grpcCalls.length, 3);
    assert.deepEqual(reports(host).map((r) => r.model), ["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);
  });

  it("bounds a batch by bytes too: a report that would take it past batch_max_bytes starts the next; a larger one goes alone", async () => {
    const host = await load({ batch_max: 100, batch_max_bytes: 1024 });
    // Audited reports carry the request body: ≈ 330 bytes each for these, 1600 for "x".
    const texts = ["a", "b", "c", "x", "d", "e", "f"].map((c) => c.repeat(c === "x" ? 1500 : 200));
    for (const text of texts) auditedExchange(host, text);
    host.tick();
    const firstChar = (r: Record<string, unknown>): string => auditedPrompt(r)[0]!;
    const batches = host.grpcCalls.map((c) => ({ bytes: c.message.length, reports: decodeUsageBatch(c.message) }));
    assert.deepEqual(batches.flatMap((b) => b.reports.map(firstChar)), ["a", "b", "c", "x", "d", "e", "f"], "every report, in order");
    assert.ok(batches.some((b) => b.reports.length >= 2), "no batch held two reports");
    for (const b of batches) if (b.reports.length > 1) assert.ok(b.bytes <= 1024, `a batch of ${b.bytes} bytes`);
    // Each batch went out only when the next report would not fit in it.
    for (let i = 0; i + 1 < batches.length; i++) {
      const next = host.grpcCalls[i + 1].message.length / batches[i + 1].reports.length;
      assert.ok(batches[i].bytes + Math.min(next, 1025) > 1024 - 8, `batch ${i} (${batches[i].bytes} bytes) went out with room left`);
    }
    const alone = batches.find((b) => b.reports.some((r) => firstChar(r) === "x"));
    assert.equal(alone!.reports.length, 1, "the report larger than the bound shared its batch");
    assert.ok(alone!.bytes > 1024);
  });

  it("sends up to 100 reports per batch by default", async () => {
    const host = await load();
    for (let i = 0; i < 101; i++) {
      const s = request(host, "/openai/v1/chat/completions", `{"model":"m${i}"}`);
      s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], true);
      s.done();
    }
    assert.equal(host.grpcCalls.length, 1, "the 100th report did not send its batch");
    assert.equal(decodeUsageBatch(host.grpcCalls[0].message).length, 100);
    host.tick();
    assert.deepEqual(host.grpcCalls.map((c) => decodeUsageBatch(c.message).length), [100, 1]);
  });

  it("keeps a batch the sidecar did not take and sends its reports again", async () => {
    const host = await load();
    for (let i = 0; i < 2; i++) {
      const s = request(host, "/openai/v1/chat/completions", `{"model":"r${i}"}`);
      s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], true);
      s.done();
    }
    host.tick();
    assert.equal(host.grpcCalls.length, 1);
    host.failGrpc(host.grpcCalls[0].token, 14, "sidecar down");
    host.tick();
    assert.equal(host.grpcCalls.length, 2, "no retry on the tick");
    assert.deepEqual(decodeUsageBatch(host.grpcCalls[1].message).map((r) => r.model), ["r0", "r1"]);
    host.respondGrpc(host.grpcCalls[1].token, encodeUsageBatchAck(2));
    host.tick();
    assert.equal(host.grpcCalls.length, 2, "acknowledged reports were sent again");
    assert.equal(host.metric("leash_usage.reports_sent"), 2);
  });

  it("bounds the retry queue, dropping (and counting) the oldest", async () => {
    const host = await load({ retry_queue_max: 2, batch_max: 1 });
    for (let i = 0; i < 3; i++) {
      const s = request(host, "/openai/v1/chat/completions", `{"model":"m${i}"}`);
      s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], true);
      s.done();
    }
    for (const c of [...host.grpcCalls]) host.failGrpc(c.token, 14);
    assert.equal(host.metric("leash_usage.reports_dropped"), 1);
    host.tick();
    const resent = host.grpcCalls.slice(3).flatMap((c) => decodeUsageBatch(c.message).map((r) => r.model));
    assert.deepEqual(resent, ["m1", "m2"]);
  });

  it("bounds the retry queue by bytes too: the oldest go first, a report larger than the bound is dropped at once", async () => {
    const host = await load({ retry_queue_max_bytes: 1024, batch_max: 1 });
    // Audited reports of ≈ 320 bytes (three fit in 1024), and one of ≈ 1600.
    for (const text of ["a", "b", "c", "d", "x", "e"].map((c) => c.repeat(c === "x" ? 1500 : 200))) auditedExchange(host, text);
    assert.equal(host.grpcCalls.length, 6);
    for (const c of [...host.grpcCalls]) host.failGrpc(c.token, 14);
    // a and b pushed out by d and e; x alone over the bound.
    assert.equal(host.metric("leash_usage.reports_dropped"), 3);
    host.tick();
    const resent = host.grpcCalls.slice(6).flatMap((c) => decodeUsageBatch(c.message))
      .map((r) => auditedPrompt(r)[0]);
    assert.deepEqual(resent, ["c", "d", "e"]);
  });

  it("asks an OpenAI stream for its usage: include_usage added, Content-Length fixed before the headers leave", async () => {
    const host = await load();
    const body = '{"model":"gpt-4o","stream":true,"messages":[]}';
    const s = request(host, "/openai/v1/chat/completions", body);
    const sent = '{"model":"gpt-4o","stream":true,"messages":[],"stream_options":{"include_usage":true}}';
    assert.equal(s.requestBodyText, sent);
    assert.equal(s.requestHeader("content-length"), String(enc(sent).length));
  });

  it("takes the usage-only chunk it asked for out of the stream, and reports that usage", async () => {
    const host = await load();
    host.setProperty(["response", "code_details"], "via_upstream");
    const s = request(host, "/openai/v1/chat/completions", '{"model":"gpt-4o","stream":true}');
    s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream"], ["content-length", "999"]], false);
    assert.equal(s.responseHeader("content-length"), undefined, "a body that shrinks cannot keep its length");
    const text = 'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n';
    const usage = 'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}\n\n';
    const all = text + usage + "data: [DONE]\n\n";
    s.responseBody(all.slice(0, 70), false);
    s.responseBody(all.slice(70), true);
    assert.equal(s.responseBodyText, text + "data: [DONE]\n\n");
    s.done();
    host.tick();
    const r = reports(host)[0];
    assert.deepEqual([r.promptTokens, r.completionTokens, r.estimated, r.upstreamResponded], [12, 2, false, true]);
  });

  it("leaves a stream that asked for usage itself as it is", async () => {
    const host = await load();
    const body = '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}';
    const s = request(host, "/openai/v1/chat/completions", body);
    assert.equal(s.requestBodyText, body);
    s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream"]], false);
    const all = 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\ndata: [DONE]\n\n';
    s.responseBody(all, true);
    assert.equal(s.responseBodyText, all);
  });

  it("does not touch non-streamed bodies, Anthropic routes or other endpoints", async () => {
    const host = await load();
    for (const [path, body] of [
      ["/openai/v1/chat/completions", '{"model":"gpt-4o","stream":false}'],
      ["/anthropic/v1/messages", '{"model":"claude","stream":true}'],
      ["/openai/v1/embeddings", '{"model":"e","stream":true}'],
    ]) {
      const s = request(host, path, body);
      assert.equal(s.requestBodyText, body, path);
    }
  });

  it("reports upstream_responded false for a local reply (no via_upstream)", async () => {
    const host = await load();
    host.setProperty(["response", "code_details"], "upstream_reset_before_response_started{connection_failure}");
    const s = request(host, "/openai/v1/chat/completions", '{"model":"gpt-4o"}');
    s.responseHeaders([[":status", "503"], ["content-type", "application/json"]], false);
    s.responseBody('{"error":{}}', true);
    s.done();
    host.tick();
    assert.equal(reports(host)[0].upstreamResponded, false);
  });

  it("sends the quota module's reservation id (filter state leash.quota.reservation), and none when there is none", async () => {
    const host = await load();
    const id = "0123456789abcdef0123456789abcdef";
    for (const reservation of [id, null]) {
      const s = request(host, "/openai/v1/chat/completions", '{"model":"gpt-4o"}');
      if (reservation !== null) s.filterState.set("leash.quota.reservation", enc(reservation));
      s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], false);
      s.responseBody("{}", true);
      s.done();
    }
    host.tick();
    assert.deepEqual(reports(host).map((r) => r.reservationId), [id, ""]);
  });

  it("passes a compressed stream as it comes (nothing to find, nothing held back)", async () => {
    const host = await load();
    const s = request(host, "/openai/v1/chat/completions", '{"model":"gpt-4o","stream":true}');
    s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream"], ["content-encoding", "gzip"]], false);
    const bytes = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x0a, 0x0a, 0x41]);
    assert.equal(s.responseBody(bytes, false), 0);
    assert.deepEqual([...s.responseBodyBytes], [...bytes]);
  });

  it("asks the provider for an uncompressed answer, which it can read usage from", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "GET"], [":path", "/openai/v1/models"], ["accept-encoding", "gzip, deflate, br"]], true);
    assert.equal(s.requestHeader("accept-encoding"), undefined);
  });
});
