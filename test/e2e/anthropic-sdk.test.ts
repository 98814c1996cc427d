// The official Anthropic SDK through the gateway: messages (plain and streamed), the key swap to
// x-api-key with anthropic-version, and denials in Anthropic's error format.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { startGateway, PROVIDER_KEY, type Gateway, type Tenant } from "./gateway.ts";

let gw: Gateway;
let tenant: Tenant;

before(async () => {
  gw = await startGateway();
  tenant = await gw.newTenant();
});
after(async () => { await gw?.stop(); });

function client(apiKey: string): Anthropic {
  return new Anthropic({ baseURL: `${gw.url}/mock-anthropic`, apiKey, maxRetries: 0 });
}

describe("Anthropic SDK through the gateway", () => {
  it("creates a message; the provider gets x-api-key with the provider key only", async () => {
    gw.mock.clear();
    const msg = await client(tenant.key).messages.create({
      model: "claude-3-5-haiku-latest",
      max_tokens: 64,
      messages: [{ role: "user", content: "hello anthropic route" }],
    });
    const block = msg.content[0];
    assert.equal(block.type, "text");
    assert.equal(block.type === "text" ? block.text : "", "mock reply to: hello anthropic route");
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
    const seen = gw.mock.requests[0];
    assert.equal(seen.path, "/v1/messages");
    assert.equal(seen.headers["x-api-key"], PROVIDER_KEY);
    assert.ok(seen.headers["anthropic-version"], "anthropic-version header missing upstream");
    const all = gw.mock.requests.flatMap((r) => Object.values(r.headers).flat().map(String));
    assert.ok(!all.some((v) => v.includes(tenant.key)), "tenant key leaked upstream");
  });

  it("streams a message with Anthropic's event sequence", async () => {
    const stream = client(tenant.key).messages.stream({
      model: "claude-3-5-haiku-latest",
      max_tokens: 64,
      messages: [{ role: "user", content: "stream via anthropic" }],
    });
    const events: string[] = [];
    stream.on("streamEvent", (e) => events.push(e.type));
    const final = await stream.finalMessage();
    const block = final.content[0];
    assert.equal(block.type === "text" ? block.text : "", "mock reply to: stream via anthropic");
    assert.ok(final.usage.output_tokens > 0);
    assert.equal(events[0], "message_start");
    assert.ok(events.includes("content_block_delta"));
    assert.equal(events[events.length - 1], "message_stop");
  });

  it("rejects a bad key with 401 in Anthropic's error format", async () => {
    gw.mock.clear();
    await assert.rejects(
      client("lsh_zzzzzzzzzzzz_" + "c".repeat(32)).messages.create({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.AuthenticationError);
        assert.equal(err.status, 401);
        const body = err.error as { type: string; error: { type: string; code: string } };
        assert.equal(body.type, "error");
        assert.equal(body.error.type, "authentication_error");
        assert.equal(body.error.code, "auth.invalid_key");
        return true;
      },
    );
    assert.equal(gw.mock.requests.length, 0);
  });

  it("answers malformed JSON with 400 in Anthropic's error format", async () => {
    const res = await fetch(`${gw.url}/mock-anthropic/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": tenant.key, "content-type": "application/json" },
      body: '{"model": "m", "max_tokens": ',
    });
    assert.equal(res.status, 400);
    const body = await res.json() as { type: string; error: { type: string; code: string } };
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "invalid_request_error");
    assert.equal(body.error.code, "gateway.invalid_json");
  });
});
