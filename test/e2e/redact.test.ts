// The redact module in the real chain (Envoy 1.40 + auth.wasm + redact.wasm + usage.wasm + sidecar
// on PostgreSQL/Redis), driven by the official OpenAI and Anthropic SDKs against the mock provider:
// the provider's request log holds the redacted prompt and never the raw entity, the client sees
// redacted replies (plain and streamed, entities split across SSE events at every code-point offset
// and the body cut into small writes), a tenant's policy changes the behaviour at once, and blocks
// answer in each API's error format without reaching the provider.
//
// Every byte offset of an SSE body is covered in the fake host (test/filters/redact.test.ts: one
// in-process call per offset); here every code-point offset of the entity inside the streamed text
// goes through real Envoy, with the body re-cut into 5-byte writes, one request per offset.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { randomBytes } from "node:crypto";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { waitFor } from "../integration/envoy-harness.ts";

let gw: Gateway;
let tenantA: Tenant;
let tenantB: Tenant;

const EMAIL = "jane.doe@example.com";
const PHONE = "+1 415 555 0100";
const CARD = "4111 1111 1111 1111";

before(async () => {
  gw = await startGateway({ extraModules: ["redact: { enabled: true }"] });
  tenantA = await gw.newTenant();
  tenantB = await gw.newTenant();
});
after(async () => { await gw?.stop(); });

function openai(t: Tenant, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: t.key, maxRetries: 0, defaultHeaders: headers });
}

function anthropic(t: Tenant, headers: Record<string, string> = {}): Anthropic {
  return new Anthropic({ baseURL: `${gw.url}/mock-anthropic`, apiKey: t.key, maxRetries: 0, defaultHeaders: headers });
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** Everything the provider received, bodies and headers. */
function received(): string {
  return gw.mock.requests.map((r) => r.body + JSON.stringify(r.headers)).join("\n");
}

describe("redact through Envoy with the official SDKs", () => {
  it("OpenAI: the provider gets a parseable body with the entities masked; the reply is masked too", async () => {
    gw.mock.clear();
    const res = await openai(tenantA, { "x-mock-reply-b64": b64(`Noted: ${EMAIL}, ${PHONE}.`) }).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: `Support desk. Escalations: ${EMAIL}` },
        { role: "user", content: [{ type: "text", text: `Call me on ${PHONE} or mail ${EMAIL}` }] },
      ],
    });
    assert.equal(gw.mock.requests.length, 1);
    const seen = gw.mock.requests[0];
    assert.ok(seen.json, "the provider could not parse the rewritten body");
    assert.deepEqual((seen.json as { messages: unknown }).messages, [
      { role: "system", content: "Support desk. Escalations: [EMAIL_1]" },
      { role: "user", content: [{ type: "text", text: "Call me on [PHONE_1] or mail [EMAIL_1]" }] },
    ]);
    if (seen.headers["content-length"] !== undefined) assert.equal(Number(seen.headers["content-length"]), Buffer.byteLength(seen.body));
    assert.ok(!received().includes(EMAIL) && !received().includes("555 0100"), "raw entity reached the provider");
    assert.equal(res.choices[0].message.content, "Noted: [EMAIL_1], [PHONE_1].");
  });

  it("OpenAI streamed, one character per event: the client never sees the raw entity", async () => {
    const stream = await openai(tenantA, { "x-mock-reply-b64": b64(`Reach ${EMAIL} or ${PHONE} today`), "x-mock-chunk-size": "1", "x-mock-chunk-delay-ms": "1" })
      .chat.completions.create({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    let usage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = true;
    }
    assert.equal(text, "Reach [EMAIL_1] or [PHONE_1] today");
    assert.ok(usage, "the usage chunk still arrives");

    // A reply that ends inside an entity: the held text comes in a chunk the gateway writes.
    const tail = await openai(tenantA, { "x-mock-reply-b64": b64(`call ${PHONE}`), "x-mock-chunk-size": "3", "x-mock-chunk-delay-ms": "1" })
      .chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] });
    let tailText = "";
    for await (const chunk of tail) tailText += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(tailText, "call [PHONE_1]");
  });

  for (const [name, entity, label] of [["email", EMAIL, "[EMAIL_1]"], ["card", CARD, "[CARD_1]"], ["phone", PHONE, "[PHONE_1]"]] as const) {
    it(`${name} split across two SSE events at every offset, body in 5-byte writes: never seen raw`, async () => {
      const reply = `Here: ${entity} — done`;
      const start = reply.indexOf(entity);
      const raw = entity.replace(/\D/g, "").length > 8 ? entity.slice(-9) : entity;
      for (let k = start + 1; k < start + entity.length; k++) {
        const stream = await openai(tenantA, { "x-mock-reply-b64": b64(reply), "x-mock-split-at": String(k), "x-mock-chunk-delay-ms": "1", "x-mock-write-bytes": "5" })
          .chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] });
        let text = "";
        for await (const chunk of stream) {
          const piece = chunk.choices[0]?.delta?.content ?? "";
          text += piece;
          assert.ok(!piece.includes(raw), `offset ${k}: raw piece ${JSON.stringify(piece)}`);
        }
        assert.equal(text, `Here: ${label} — done`, `offset ${k}`);
        assert.ok(!text.includes(raw), `offset ${k}`);
      }
    });
  }

  it("Anthropic: masked prompt upstream, masked streamed reply", async () => {
    gw.mock.clear();
    const stream = anthropic(tenantA, { "x-mock-reply-b64": b64(`Sent to ${EMAIL}`), "x-mock-chunk-size": "2", "x-mock-chunk-delay-ms": "1" }).messages.stream({
      model: "claude-3-5-haiku-latest", max_tokens: 64,
      system: `Owner: ${EMAIL}`,
      messages: [{ role: "user", content: [{ type: "text", text: `forward to ${EMAIL}` }] }],
    });
    const msg = await stream.finalMessage();
    const block = msg.content[0];
    assert.equal(block.type === "text" ? block.text : "", "Sent to [EMAIL_1]");
    const seen = gw.mock.requests[0].json as { system: string; messages: Array<{ content: Array<{ text: string }> }> };
    assert.equal(seen.system, "Owner: [EMAIL_1]");
    assert.equal(seen.messages[0].content[0].text, "forward to [EMAIL_1]");
  });

  it("Anthropic: a secret in the prompt is refused in Anthropic's error format", async () => {
    gw.mock.clear();
    await assert.rejects(
      anthropic(tenantA).messages.create({ model: "c", max_tokens: 8, messages: [{ role: "user", content: `key sk-ant-api03-${randomBytes(72).toString("base64url").slice(0, 93)}AA` }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.APIError);
        assert.equal(err.status, 400);
        const body = err.error as { type: string; error: { type: string; code: string } };
        assert.equal(body.type, "error");
        assert.equal(body.error.type, "invalid_request_error");
        assert.equal(body.error.code, "guard.secret_blocked");
        return true;
      },
    );
    assert.equal(gw.mock.requests.length, 0, "a blocked request reached the provider");
  });

  it("per-tenant policy: tenant B blocks e-mail addresses and cards while tenant A masks them", async () => {
    const r = await gw.admin("PATCH", `/tenants/${tenantB.id}`, { module_settings: { redact: { entities: { email: "block", card: "block" } } } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    gw.mock.clear();
    const ask = (t: Tenant, text: string): Promise<OpenAI.ChatCompletion> =>
      openai(t).chat.completions.create({ model: "m", messages: [{ role: "user", content: text }] });
    await assert.rejects(ask(tenantB, `mail ${EMAIL}`), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 400);
      assert.equal(err.code, "guard.pii_blocked");
      assert.equal(err.type, "invalid_request_error");
      assert.ok(!String(err.message).includes(EMAIL), "the value is echoed in the error");
      return true;
    });
    assert.equal(gw.mock.requests.length, 0);
    await assert.rejects(
      anthropic(tenantB).messages.create({ model: "c", max_tokens: 8, messages: [{ role: "user", content: `card ${CARD}` }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.APIError);
        assert.equal(err.status, 400);
        const body = err.error as { type: string; error: { type: string; code: string } };
        assert.deepEqual([body.type, body.error.type, body.error.code], ["error", "invalid_request_error", "guard.pii_blocked"]);
        return true;
      },
    );
    assert.equal(gw.mock.requests.length, 0);
    const a = await ask(tenantA, `mail ${EMAIL}`);
    assert.equal(a.choices[0].message.content, "mock reply to: mail [EMAIL_1]");
    assert.equal(gw.mock.requests.length, 1);
    // Back to the defaults (module_settings is a merge patch: null removes the section).
    assert.equal((await gw.admin("PATCH", `/tenants/${tenantB.id}`, { module_settings: { redact: null } })).status, 200);
  });

  it("hash: keyed per tenant by the sidecar, so one address hashes alike within a tenant and differently across tenants", async () => {
    for (const t of [tenantA, tenantB]) {
      assert.equal((await gw.admin("PATCH", `/tenants/${t.id}`, { module_settings: { redact: { entities: { email: "hash" } } } })).status, 200);
    }
    gw.mock.clear();
    const sent = async (t: Tenant): Promise<string> => {
      await openai(t).chat.completions.create({ model: "m", messages: [{ role: "user", content: `mail ${EMAIL}` }] });
      return (gw.mock.requests.at(-1)!.json as { messages: Array<{ content: string }> }).messages[0].content;
    };
    // A policy change reaches the filters when the auth module's cached answer expires (≤ 1 s).
    const hashed = (t: Tenant): Promise<string> => waitFor("the hash policy in effect", async () => {
      try {
        const c = await sent(t);
        return c.includes("[EMAIL:") ? c : undefined;
      } catch (err) {
        if (err instanceof OpenAI.APIError && err.status === 400) return undefined; // an earlier block policy
        throw err;
      }
    });
    const a1 = await hashed(tenantA);
    const a2 = await sent(tenantA);
    const b1 = await hashed(tenantB);
    assert.match(a1, /^mail \[EMAIL:[0-9a-f]{12}\]$/);
    assert.equal(a2, a1);
    assert.match(b1, /^mail \[EMAIL:[0-9a-f]{12}\]$/);
    assert.notEqual(b1, a1);
    assert.ok(!received().includes(EMAIL));
    for (const t of [tenantA, tenantB]) assert.equal((await gw.admin("PATCH", `/tenants/${t.id}`, { module_settings: { redact: null } })).status, 200);
  });

  it("bin/leash policy set --redact / --injection writes the tenant's guard policy through the admin API", async () => {
    const ok = gw.leash("policy", "set", "--tenant", tenantA.id, "--redact", "email=hash,card=block", "--injection", "flag:0.4");
    assert.equal(ok.status, 0, ok.stderr);
    const t = await gw.admin("GET", `/tenants/${tenantA.id}`);
    assert.deepEqual(t.json.module_settings, { redact: { entities: { email: "hash", card: "block" } }, injection: { action: "flag", threshold: 0.4 } });
    const bad = gw.leash("policy", "set", "--tenant", tenantA.id, "--redact", "email=drop");
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /redact\.entities\.email: action must be one of mask, hash, block, allow/);
    // The CLI sends a merge patch of its sections: later calls add entity actions, --redact off
    // keeps them, --injection replaces its section, and a section set by someone else stays.
    assert.equal((await gw.admin("PATCH", `/tenants/${tenantA.id}`, { module_settings: { vendor_x: { note: "kept" } } })).status, 200);
    assert.equal(gw.leash("policy", "set", "--tenant", tenantA.id, "--redact", "phone=block").status, 0);
    assert.equal(gw.leash("policy", "set", "--tenant", tenantA.id, "--redact", "off", "--injection", "block").status, 0);
    assert.deepEqual((await gw.admin("GET", `/tenants/${tenantA.id}`)).json.module_settings, {
      redact: { entities: { email: "hash", card: "block", phone: "block" }, enabled: false },
      injection: { action: "block" },
      vendor_x: { note: "kept" },
    });
    assert.equal(gw.leash("policy", "set", "--tenant", tenantA.id, "--redact", "default", "--injection", "default").status, 0);
    assert.deepEqual((await gw.admin("GET", `/tenants/${tenantA.id}`)).json.module_settings, { vendor_x: { note: "kept" } });
    assert.deepEqual((await gw.admin("PATCH", `/tenants/${tenantA.id}`, { module_settings: { vendor_x: null } })).json.module_settings, {});
  });

  it("a secret in a tool-call argument is refused (secrets block by default)", async () => {
    gw.mock.clear();
    await assert.rejects(
      openai(tenantA).chat.completions.create({
        model: "m",
        messages: [
          { role: "user", content: "deploy" },
          { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "deploy", arguments: JSON.stringify({ token: "ghp_" + "a1B2c3D4e5".repeat(3) + "F6g7h8" }) } }] },
          { role: "tool", tool_call_id: "c1", content: "ok" },
        ],
      }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "guard.secret_blocked",
    );
    assert.equal(gw.mock.requests.length, 0);
  });
});
