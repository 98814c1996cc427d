// Settlement end to end: the reservation a request made at admission is settled with the provider's
// real count when the response ends, streams included (OpenAI streams get include_usage from the
// usage module, which takes the extra chunk back out; Anthropic streams report usage themselves);
// a USD budget stops the next request once spent. Real Envoy, sidecar, PostgreSQL, Redis, the
// official SDKs and the mock provider.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startGateway, type Gateway } from "./gateway.ts";
import { openaiChat, rateLimits, setTenantLimits } from "./quota-client.ts";
import { openLeases, openReservations, quotaState, type ScopeUsage } from "../support/quota-state.ts";
import { waitFor } from "../integration/envoy-harness.ts";
import { TEST_REDIS_URL } from "../support/redis-prefix.ts";
import { DEFAULT_KEY_PREFIX } from "../../sidecar-services/src/kv-store.ts";

let gw: Gateway;
let redis: Redis;
before(async () => {
  gw = await startGateway();
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  redis?.disconnect();
  await gw?.stop();
});

/** The x-request-id the mock saw on the request whose body contains `marker`. */
function requestIdOf(marker: string): string {
  const seen = gw.mock.requests.find((r) => r.body.includes(marker));
  assert.ok(seen, `the mock never saw ${marker}`);
  return String(seen.headers["x-request-id"]);
}

/**
 * The tenant's counters once every reservation of the (fresh) tenant is settled (no record left)
 * and every lease it was granted has given back its unused part (leases are on by default: a
 * lease's units are counted at its grant, and come back when it expires, 1 s later).
 */
function settled(tenantId: string): Promise<ScopeUsage> {
  return waitFor(`settlement for ${tenantId}`, async () =>
    (await openReservations(redis, DEFAULT_KEY_PREFIX, tenantId)).length === 0 && (await openLeases(redis, DEFAULT_KEY_PREFIX, tenantId)).length === 0
      ? quotaState(redis, DEFAULT_KEY_PREFIX, tenantId) : undefined, 10_000);
}

describe("streamed completions settle their reservation", () => {
  it("OpenAI stream without stream_options: the provider is asked for usage, the client never sees the usage chunk, Redis gets the real count", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { tpm: 100_000 });
    const marker = `stream-openai-${randomBytes(4).toString("hex")}`;
    const content = `${marker} please count my tokens`;
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: t.key, maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create(
      { model: "mock-gpt", stream: true, messages: [{ role: "user", content }] },
      { headers: { "x-mock-reply": "one two three four five" } },
    ).withResponse();
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      assert.ok(chunk.choices.length > 0, "a chunk without choices reached a client that did not ask for usage");
      text += chunk.choices[0].delta.content ?? "";
    }
    assert.equal(text, "one two three four five");
    assert.ok(chunks > 1);
    assert.equal(rateLimits(response.headers).limitTokens, 100_000);

    const forwarded = gw.mock.requests.find((r) => r.body.includes(marker))!;
    assert.deepEqual((forwarded.json as { stream_options?: unknown }).stream_options, { include_usage: true });
    // The mock's rules (mock-provider/README.md): a prompt token per 4 code points, a completion token per word.
    const expected = Math.ceil([...content].length / 4) + 5;
    const state = await settled(t.id);
    assert.equal(state.minuteTokens, expected);
    assert.equal(state.minuteRequests, 1);
    // The ledger row may be written after the settlement (a durable spool counts as durable).
    const row = await waitFor("ledger row", async () => (await gw.db.query<{ estimated: boolean; streamed: boolean }>(
      "SELECT estimated, streamed FROM usage_ledger WHERE request_id = $1", [requestIdOf(marker)])).rows[0], 10_000);
    assert.deepEqual(row, { estimated: false, streamed: true });
  });

  it("Anthropic stream: settled with message_start + message_delta usage", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { tpm: 100_000 });
    const marker = `stream-anthropic-${randomBytes(4).toString("hex")}`;
    const client = new Anthropic({ baseURL: `${gw.url}/mock-anthropic`, apiKey: t.key, maxRetries: 0 });
    const final = await client.messages.stream({
      model: "mock-claude", max_tokens: 64, messages: [{ role: "user", content: `${marker} stream to me` }],
    }).finalMessage();
    const state = await settled(t.id);
    assert.equal(state.minuteTokens, final.usage.input_tokens + final.usage.output_tokens);
  });

  it("a stream's real tokens, once settled, are what a tight token limit refuses the next request on", async () => {
    const t = await gw.newTenant();
    const marker = `stream-tight-${randomBytes(4).toString("hex")}`;
    const content = `${marker} a stream that fills the limit`;
    const used = Math.ceil([...content].length / 4) + 40;
    // Room for the first request's reservation (its estimate is far above its use) but, once it is
    // settled at its real count, not for another one with max_tokens equal to what is left.
    await setTenantLimits(gw, t.id, { tpm: 1000 });
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: t.key, maxRetries: 0 });
    const reply = Array.from({ length: 40 }, () => "w").join(" ");
    const stream = await client.chat.completions.create(
      { model: "mock-gpt", stream: true, max_tokens: 500, messages: [{ role: "user", content }] },
      { headers: { "x-mock-reply": reply } },
    );
    for await (const _ of stream) { /* drain */ }
    const state = await settled(t.id);
    assert.equal(state.minuteTokens, used);
    const next = await openaiChat(gw.url, t.key, { messages: [{ role: "user", content: "x" }], max_tokens: 1000 - used });
    assert.equal(`${next.status} ${next.code}`, "429 quota.tpm_exceeded", "the estimate of the next request counts on top of the settled stream");
    const fits = await openaiChat(gw.url, t.key, { messages: [{ role: "user", content: "x" }], max_tokens: 1000 - used - 40 });
    assert.equal(fits.status, 200);
  });
});

describe("a USD budget", () => {
  it("stops the next request once spent", async () => {
    const t = await gw.newTenant();
    // One micro-dollar: the first request (priced like gpt-4o-mini) spends more than that.
    await setTenantLimits(gw, t.id, { usd_per_day: 0.000001 });
    const marker = `budget-${randomBytes(4).toString("hex")}`;
    const first = await openaiChat(gw.url, t.key, { messages: [{ role: "user", content: `${marker} first` }] });
    assert.equal(first.status, 200);
    const state = await settled(t.id);
    assert.ok(state.dayUsdMicro >= 1, `spent ${state.dayUsdMicro} µ$`);
    const second = await openaiChat(gw.url, t.key, { messages: [{ role: "user", content: `${marker} second` }] });
    assert.equal(`${second.status} ${second.code}`, "429 quota.budget_exhausted");
    const retry = Number(second.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 86_400, `Retry-After ${retry} is within the UTC day`);
    assert.equal(gw.mock.requests.filter((r) => r.body.includes(marker)).length, 1, "the refused request never reached the provider");
  });
});
