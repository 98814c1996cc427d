// The sidecar is the auth module's source of truth. When it is down, the module cannot decide:
// fail closed (default) answers 503 in the route's format with zero upstream calls; fail open lets
// the request through without the tenant key. A restarted sidecar is picked up again.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";

describe("sidecar outage, fail closed (default)", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ authTimeoutMs: 500 });
  });
  after(async () => { await gw?.stop(); });

  it("refuses with 503 auth.sidecar_unavailable and calls no provider, then recovers", async () => {
    // A key not used before the outage: nothing cached for it, so the module must ask the sidecar.
    // (A key answered within the last cache TTL, ≤ 2 s, keeps passing for that TTL.)
    const fresh = await gw.newTenant();
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: fresh.key, maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] });

    await gw.sidecar.stop();
    gw.mock.clear();
    for (let i = 0; i < 5; i++) {
      await assert.rejects(ask(), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 503);
        assert.equal(err.code, "auth.sidecar_unavailable");
        return true;
      });
    }
    const anthropicRoute = await fetch(`${gw.url}/mock-anthropic/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": fresh.key, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "x" }] }),
    });
    assert.equal(anthropicRoute.status, 503);
    const body = await anthropicRoute.json() as { type: string; error: { code: string } };
    assert.equal(body.type, "error");
    assert.equal(body.error.code, "auth.sidecar_unavailable");
    assert.equal(gw.mock.requests.length, 0, "a request reached the provider while the sidecar was down");

    await gw.sidecar.start();
    const res = await ask();
    assert.equal(res.choices[0].message.content, "mock reply to: x");
  });
});

describe("sidecar outage, fail open (operator's choice)", () => {
  let gw: Gateway;
  let tenant: Tenant;
  before(async () => {
    gw = await startGateway({ failureMode: "open", authTimeoutMs: 500 });
    tenant = await gw.newTenant();
  });
  after(async () => { await gw?.stop(); });

  it("lets the request through without the tenant key", async () => {
    await gw.sidecar.stop();
    gw.mock.clear();
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: tenant.key, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "open" }] });
    assert.equal(res.choices[0].message.content, "mock reply to: open");
    assert.equal(gw.mock.requests.length, 1);
    const headers = Object.values(gw.mock.requests[0].headers).flat().map(String);
    assert.ok(!headers.some((v) => v.includes(tenant.key)), "tenant key forwarded in fail-open mode");
  });
});
