// Reservations are named by the quota module's random id, not by x-request-id, end to end: a
// client that sends another request's x-request-id can neither release nor settle that request's
// reservation; a request refused after quota (here an upstream connect failure) releases its own.
// Real Envoy, sidecar, PostgreSQL, Redis, the official OpenAI SDK and the mock provider.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import OpenAI from "openai";
import { startGateway, type Gateway } from "./gateway.ts";
import { openaiChat, setTenantLimits } from "./quota-client.ts";
import { openReservations, quotaState, reservationRecord } from "../support/quota-state.ts";
import { freePort, waitFor } from "../integration/envoy-harness.ts";
import { TEST_REDIS_URL } from "../support/redis-prefix.ts";
import { DEFAULT_KEY_PREFIX } from "../../sidecar-services/src/kv-store.ts";

let gw: Gateway;
let redis: Redis;
before(async () => {
  // A provider nobody listens on: every request to it is an upstream connect failure (Envoy's 503).
  const deadPort = await freePort();
  // No leases: per-request reservation records are what this file inspects (leased requests settle
  // against their lease's random id: test/integration/sidecar-quota-lease.test.ts).
  gw = await startGateway({
    quota: { leaseTtlMs: 0 },
    extraProviders: [`{ name: dead, api: openai, prefix: /dead, base_url: "http://127.0.0.1:${deadPort}", api_key_env: LEASH_E2E_PROVIDER_KEY, timeout_ms: 30000 }`],
  });
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  redis?.disconnect();
  await gw?.stop();
});

describe("reservation ids", () => {
  it("another request's x-request-id neither releases nor settles that request's reservation", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { rpm: 100, tpm: 1_000_000 });
    const victimId = `victim-${randomBytes(6).toString("hex")}`;
    const marker = `victim-${randomBytes(4).toString("hex")}`;
    // The victim's request stays in flight (the mock holds it), so its reservation stays open.
    const abort = new AbortController();
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: t.key, maxRetries: 0 });
    const victim = client.chat.completions.create(
      { model: "mock-gpt", max_tokens: 50, messages: [{ role: "user", content: `${marker} wait for me` }] },
      { headers: { "x-request-id": victimId, "x-mock-hang": "1" }, signal: abort.signal },
    ).catch((err: unknown) => err);
    const [open] = await waitFor("the victim's reservation", async () => {
      const ids = await openReservations(redis, DEFAULT_KEY_PREFIX, t.id);
      return ids.length === 1 && gw.mock.hanging === 1 ? ids : undefined;
    });
    const reserved = (await reservationRecord(redis, DEFAULT_KEY_PREFIX, t.id, open!))!;
    assert.ok(!open!.includes(victimId), "the reservation is not named by the client's x-request-id");

    // Under the victim's x-request-id: a provider 5xx (would release) and a success (would settle).
    const failed = await openaiChat(gw.url, t.key, { messages: [{ role: "user", content: "release it" }] }, { "x-request-id": victimId, "x-mock-status": "500" });
    assert.equal(failed.status, 500);
    const ok = await openaiChat(gw.url, t.key, { messages: [{ role: "user", content: "settle it" }], max_tokens: 10 }, { "x-request-id": victimId });
    assert.equal(ok.status, 200);
    assert.equal(gw.mock.requests.filter((r) => r.headers["x-request-id"] === victimId).length, 3, "Envoy kept the client's id on all three");

    // Both reports settled their own reservations; the victim's is untouched.
    const state = await waitFor("the attacker's reports settled", async () =>
      (await openReservations(redis, DEFAULT_KEY_PREFIX, t.id)).length === 1 ? quotaState(redis, DEFAULT_KEY_PREFIX, t.id) : undefined, 10_000);
    assert.deepEqual(await openReservations(redis, DEFAULT_KEY_PREFIX, t.id), [open]);
    assert.deepEqual(await reservationRecord(redis, DEFAULT_KEY_PREFIX, t.id, open!), reserved);
    assert.equal(state.minuteRequests, 2, "the victim and the settled success; the 5xx released its own");
    assert.equal(state.minuteTokens, Number(reserved.tok) + ok.tokens!, "the victim still at its estimate");

    abort.abort();
    assert.ok((await victim) instanceof Error);
  });

  it("a request refused after quota (upstream connect failure) releases its reservation", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { rpm: 1 });
    const client = new OpenAI({ baseURL: `${gw.url}/dead/v1`, apiKey: t.key, maxRetries: 0 });
    const failure = await client.chat.completions.create({ model: "mock-gpt", messages: [{ role: "user", content: "nobody home" }] }).catch((err: unknown) => err);
    assert.ok(failure instanceof OpenAI.APIError && failure.status === 503, String(failure));
    const state = await waitFor("release", async () =>
      (await openReservations(redis, DEFAULT_KEY_PREFIX, t.id)).length === 0 ? quotaState(redis, DEFAULT_KEY_PREFIX, t.id) : undefined, 10_000);
    assert.equal(state.minuteRequests, 0, "no upstream answer: the request is given back");
    // With rpm 1, only a released reservation lets the next request in.
    const next = await openaiChat(gw.url, t.key, { messages: [{ role: "user", content: "my turn" }] });
    assert.equal(next.status, 200);
  });
});
