// Failures Envoy produces itself on a provider route reach the client in that route's API error
// format (via the generated local_reply_config), not as Envoy's text/plain: provider unreachable,
// provider too slow, request body over the buffer limit. Provider errors pass through untouched.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { freePort } from "../integration/envoy-harness.ts";

let gw: Gateway;
let tenant: Tenant;

before(async () => {
  const closedPort = await freePort(); // nothing listens there
  gw = await startGateway({
    providerTimeoutMs: 1500,
    maxRequestBodyBytes: 1024 * 1024,
    extraProviders: [
      `{ name: down, api: openai, prefix: /down, base_url: "http://127.0.0.1:${closedPort}", connect_timeout_ms: 1000 }`,
      `{ name: down-anthropic, api: anthropic, prefix: /down-anthropic, base_url: "http://127.0.0.1:${closedPort}", connect_timeout_ms: 1000 }`,
    ],
  });
  tenant = await gw.newTenant();
});
after(async () => { await gw?.stop(); });

describe("Envoy-made errors in the route's API format", () => {
  it("provider unreachable → 503 gateway.upstream_unavailable (OpenAI format)", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/down/v1`, apiKey: tenant.key, maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 503);
      assert.equal(err.code, "gateway.upstream_unavailable");
      assert.equal(err.headers?.["x-leash-code"] ?? (err.headers as unknown as Headers)?.get?.("x-leash-code"), "gateway.upstream_unavailable");
      return true;
    });
  });

  it("provider unreachable → 503 in Anthropic's format on Anthropic routes", async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/down-anthropic`, apiKey: tenant.key, maxRetries: 0 });
    await assert.rejects(client.messages.create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "x" }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 503);
      const body = err.error as { type: string; error: { type: string; code: string; message: string } };
      assert.equal(body.type, "error");
      assert.equal(body.error.code, "gateway.upstream_unavailable");
      assert.ok(body.error.message.length > 0);
      return true;
    });
  });

  it("provider too slow → 504 gateway.upstream_timeout", async () => {
    const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json", "x-mock-hang": "1" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
    });
    assert.equal(res.status, 504);
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, "gateway.upstream_timeout");
  });

  it("request body over max_request_body_bytes → 413 gateway.body_too_large, nothing forwarded", async () => {
    gw.mock.clear();
    const huge = JSON.stringify({ model: "m", messages: [{ role: "user", content: "a".repeat(2 * 1024 * 1024) }] });
    // Declared length (what SDKs send) and chunked upload without a length.
    const bodies: Array<[string, BodyInit]> = [
      ["content-length", huge],
      ["chunked", new ReadableStream<Uint8Array>({
        start(c) {
          const bytes = new TextEncoder().encode(huge);
          for (let i = 0; i < bytes.length; i += 64 * 1024) c.enqueue(bytes.subarray(i, i + 64 * 1024));
          c.close();
        },
      })],
    ];
    for (const [how, body] of bodies) {
      const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" },
        body,
        duplex: "half",
      } as RequestInit);
      assert.equal(res.status, 413, how);
      const json = await res.json() as { error: { code: string; type: string } };
      assert.equal(json.error.code, "gateway.body_too_large", how);
      assert.equal(json.error.type, "invalid_request_error", how);
    }
    assert.equal(gw.mock.requests.length, 0);
  });

  it("accepts a body just under the limit", async () => {
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "a".repeat(1000 * 1024) }] });
    const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });

  it("leaves the provider's own errors untouched", async () => {
    const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json", "x-mock-status": "429" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("x-leash-code"), null);
    const body = await res.json() as { error: { type: string } };
    assert.ok(body.error.type.length > 0);
  });
});
