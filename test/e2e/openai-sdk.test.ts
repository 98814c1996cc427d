// The official OpenAI SDK, pointed at the gateway by base URL only, through real Envoy + auth.wasm +
// sidecar (Postgres, Redis) to the mock provider: completions (plain and streamed), the key swap
// (tenant key removed, provider key injected), denials in OpenAI's error format, bad JSON.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startGateway, PROVIDER_KEY, type Gateway, type Tenant } from "./gateway.ts";

let gw: Gateway;
let tenant: Tenant;

before(async () => {
  gw = await startGateway();
  tenant = await gw.newTenant();
});
after(async () => { await gw?.stop(); });

function client(apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey, maxRetries: 0 });
}

/** Every header value the mock received, for secret scans. */
function receivedHeaderValues(): string[] {
  return gw.mock.requests.flatMap((r) => Object.values(r.headers).flat().map(String));
}

describe("OpenAI SDK through the gateway", () => {
  it("gets a completion; the provider sees the provider key, never the tenant key", async () => {
    gw.mock.clear();
    const res = await client(tenant.key).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hello from the e2e test" }],
    });
    assert.equal(res.choices[0].message.content, "mock reply to: hello from the e2e test");
    assert.ok(res.usage && res.usage.total_tokens > 0);
    assert.equal(gw.mock.requests.length, 1);
    const seen = gw.mock.requests[0];
    assert.equal(seen.path, "/v1/chat/completions");
    assert.equal(seen.headers.authorization, `Bearer ${PROVIDER_KEY}`);
    assert.ok(!receivedHeaderValues().some((v) => v.includes(tenant.key) || v.includes(tenant.keyId)), "tenant key leaked upstream");
    assert.deepEqual((seen.json as { messages: unknown }).messages, [{ role: "user", content: "hello from the e2e test" }]);
  });

  it("streams a completion (SSE) with usage in the last chunk", async () => {
    const stream = await client(tenant.key).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "stream this reply" }],
    });
    let text = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, "mock reply to: stream this reply");
    assert.ok(chunks > 2, `expected several chunks, got ${chunks}`);
    assert.ok(usage && usage.completion_tokens > 0, "usage chunk missing");
  });

  it("passes SSE events through as they are produced (no buffering)", async () => {
    // Four deltas 250 ms apart: buffered, they would arrive together at the end.
    const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json", "x-mock-chunk-delay-ms": "250", "x-mock-reply": "one two three four", "x-mock-chunk-size": "5" },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    assert.equal(res.status, 200);
    const arrivals: number[] = [];
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length > 0) arrivals.push(Date.now());
    }
    assert.ok(arrivals.length >= 3, `expected the events in separate reads, got ${arrivals.length}`);
    assert.ok(arrivals[arrivals.length - 1] - arrivals[0] >= 500, "events arrived together: the response was buffered");
  });

  it("rejects an unknown key with 401 auth.invalid_key in OpenAI's format, without calling the provider", async () => {
    gw.mock.clear();
    await assert.rejects(
      client("lsh_aaaaaaaaaaaa_" + "b".repeat(32)).chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.AuthenticationError);
        assert.equal(err.status, 401);
        assert.equal(err.code, "auth.invalid_key");
        return true;
      },
    );
    assert.equal(gw.mock.requests.length, 0);
  });

  it("rejects a request without a key with 401 auth.missing_key", async () => {
    const res = await fetch(`${gw.url}/mock/v1/models`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("x-leash-code"), "auth.missing_key");
    const body = await res.json() as { error: { code: string; type: string; message: string } };
    assert.equal(body.error.code, "auth.missing_key");
    assert.equal(body.error.type, "authentication_error");
  });

  it("accepts the key from x-api-key, api-key and x-goog-api-key too", async () => {
    for (const header of ["x-api-key", "api-key", "x-goog-api-key"]) {
      const res = await fetch(`${gw.url}/mock/v1/models`, { headers: { [header]: tenant.key } });
      assert.equal(res.status, 200, header);
      await res.arrayBuffer();
    }
  });

  it("answers malformed JSON with 400 gateway.invalid_json and never forwards it", async () => {
    gw.mock.clear();
    for (const body of ['{"model":', "not json", '{"a":1,}', "[1,2]"]) {
      const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" },
        body,
      });
      assert.equal(res.status, 400, body);
      const json = await res.json() as { error: { code: string; type: string } };
      assert.equal(json.error.code, "gateway.invalid_json");
      assert.equal(json.error.type, "invalid_request_error");
    }
    assert.equal(gw.mock.requests.length, 0);
  });

  it("serves /health and answers unknown paths with a JSON 404", async () => {
    const health = await fetch(`${gw.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const nope = await fetch(`${gw.url}/nope/v1/chat/completions`);
    assert.equal(nope.status, 404);
    assert.equal(((await nope.json()) as { error: { code: string } }).error.code, "gateway.no_route");
  });

  it("makes the filter's gRPC round trip visible in sidecar and Envoy metrics", async () => {
    const sidecarMetrics = await gw.sidecar.metrics();
    assert.match(sidecarMetrics, /leash_sidecar_grpc_requests_total\{[^}]*method="Authorize"[^}]*\} [1-9]/);
    assert.match(sidecarMetrics, /leash_sidecar_auth_decisions_total\{[^}]*decision="ALLOW"[^}]*\} [1-9]/);
    const stats = await gw.envoyStats();
    assert.match(stats, /leash_auth_allowed\{\} [1-9]/);
    assert.match(stats, /leash_auth_denied\{\} [1-9]/);
  });
});
