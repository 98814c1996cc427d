// Quotas exact across replicas, end to end: two gateway replicas (two Envoy with auth, quota and
// usage modules, two sidecars) sharing PostgreSQL and one Redis, driven by the official SDKs. With
// a limit of N and 4N concurrent requests spread over both replicas, exactly N reach the mock
// provider (its request log) and the rest get 429 in the route's format with Retry-After; the
// x-ratelimit-* headers agree with each other and with the counters in Redis.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startGateway, type Gateway, type Replica } from "./gateway.ts";
import { anthropicMessage, openaiChat, rateLimits, resetMs, setTenantLimits, type Outcome } from "./quota-client.ts";
import { openReservations, quotaState } from "../support/quota-state.ts";
import { waitFor } from "../integration/envoy-harness.ts";
import { TEST_REDIS_URL } from "../support/redis-prefix.ts";
import { DEFAULT_KEY_PREFIX } from "../../sidecar-services/src/kv-store.ts";

let gw: Gateway;
let second: Replica;
let redis: Redis;
before(async () => {
  gw = await startGateway();
  second = await gw.addReplica();
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  redis?.disconnect();
  await gw?.stop();
});

/** Requests the mock received whose body contains `marker`. */
function reached(marker: string): number {
  return gw.mock.requests.filter((r) => r.body.includes(marker)).length;
}

/** `count` requests at once, alternating between the two replicas. */
function burst(count: number, send: (url: string, i: number) => Promise<Outcome>): Promise<Outcome[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => send(i % 2 === 0 ? gw.url : second.url, i)));
}

function split(outcomes: Outcome[]): { allowed: Outcome[]; refused: Outcome[] } {
  const allowed = outcomes.filter((o) => o.status === 200);
  const refused = outcomes.filter((o) => o.status !== 200);
  return { allowed, refused };
}

/** Every refusal is a 429 with `code` and a Retry-After within the rolling minute. */
function assertRefused(refused: Outcome[], code: string): void {
  for (const r of refused) {
    assert.equal(`${r.status} ${r.code}`, `429 ${code}`);
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${r.headers.get("retry-after")}`);
  }
}

const N = 5;

describe("a request limit over two replicas", () => {
  it("OpenAI route: with rpm N and 4N concurrent requests exactly N reach the provider", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { rpm: N });
    const marker = `rpm-openai-${randomBytes(4).toString("hex")}`;
    const outcomes = await burst(4 * N, (url, i) => openaiChat(url, t.key, { messages: [{ role: "user", content: `${marker} ${i}` }] }));
    const { allowed, refused } = split(outcomes);
    assert.equal(allowed.length, N, outcomes.map((o) => `${o.status} ${o.code}`).join(", "));
    assert.equal(reached(marker), N);
    assertRefused(refused, "quota.rpm_exceeded");

    // Each admitted request saw the shared counter right after its own reservation.
    const remaining = allowed.map((o) => rateLimits(o.headers).remainingRequests).sort();
    assert.deepEqual(remaining, Array.from({ length: N }, (_, i) => i));
    for (const o of [...allowed, ...refused]) {
      const h = rateLimits(o.headers);
      assert.equal(h.limitRequests, N);
      assert.ok(resetMs(h.resetRequests) <= 60_000);
      assert.equal(h.limitTokens, null, "no token limit, no token headers");
    }
    for (const o of refused) assert.equal(rateLimits(o.headers).remainingRequests, 0);
    const state = await quotaState(redis, DEFAULT_KEY_PREFIX, t.id);
    assert.equal(state.minuteRequests, N, "Redis counted exactly the admitted requests");
  });

  it("Anthropic route: the same, refusals in Anthropic's error format", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { rpm: N });
    const marker = `rpm-anthropic-${randomBytes(4).toString("hex")}`;
    const outcomes = await burst(4 * N, (url, i) => anthropicMessage(url, t.key, `${marker} ${i}`));
    const { allowed, refused } = split(outcomes);
    assert.equal(allowed.length, N, outcomes.map((o) => `${o.status} ${o.code}`).join(", "));
    assert.equal(reached(marker), N);
    assertRefused(refused, "quota.rpm_exceeded");
    assert.deepEqual(allowed.map((o) => rateLimits(o.headers).remainingRequests).sort(), Array.from({ length: N }, (_, i) => i));
    // Anthropic's names carry the same values, the reset as an instant (RFC 3339, whole seconds).
    for (const o of [...allowed, ...refused]) {
      assert.equal(o.headers.get("anthropic-ratelimit-requests-limit"), String(N));
      assert.equal(Number(o.headers.get("anthropic-ratelimit-requests-remaining")), rateLimits(o.headers).remainingRequests);
      const reset = Date.parse(o.headers.get("anthropic-ratelimit-requests-reset") ?? "");
      assert.match(o.headers.get("anthropic-ratelimit-requests-reset") ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(reset > Date.now() - 5_000 && reset <= Date.now() + 61_000, `reset ${reset} within the rolling minute`);
    }
  });
});

describe("a token limit over two replicas", () => {
  it("with tpm fitting N requests' reservations, exactly N of 4N concurrent ones reach the provider", async () => {
    // Known token counts: every request reserves ceil(body bytes / 4) + max_tokens, and the mock
    // answers exactly max_tokens words (a forced reply longer than the cap), so a settlement never
    // gives back more than the prompt estimate's excess, far less than one more request needs.
    const maxTokens = 200;
    const reply = Array.from({ length: maxTokens + 20 }, () => "w").join(" ");
    const marker = `tpm-${randomBytes(4).toString("hex")}`;
    const body = { model: "mock-gpt", messages: [{ role: "user" as const, content: marker }], max_tokens: maxTokens };
    const bodyBytes = Buffer.byteLength(JSON.stringify(body));
    const estimate = Math.ceil(bodyBytes / 4) + maxTokens;
    const t = await gw.newTenant();
    const tpm = N * estimate;
    await setTenantLimits(gw, t.id, { tpm });

    const outcomes = await burst(4 * N, (url) => openaiChat(url, t.key, body, { "x-mock-reply": reply }));
    const { allowed, refused } = split(outcomes);
    assert.equal(allowed.length, N, outcomes.map((o) => `${o.status} ${o.code}`).join(", "));
    assert.equal(reached(marker), N);
    const forwarded = gw.mock.requests.find((r) => r.body.includes(marker))!;
    assert.equal(Buffer.byteLength(forwarded.body), bodyBytes, "the estimate above assumed the SDK's exact body");
    assertRefused(refused, "quota.tpm_exceeded");
    for (const o of [...allowed, ...refused]) assert.equal(rateLimits(o.headers).limitTokens, tpm);
    for (const o of refused) assert.equal(rateLimits(o.headers).limitRequests, null, "no request limit, no request headers");
  });
});

describe("x-ratelimit-* headers against Redis", () => {
  it("remaining is the limit minus what Redis holds after the request's reservation, on either replica", async () => {
    const t = await gw.newTenant();
    const rpm = 50;
    const tpm = 100_000;
    await setTenantLimits(gw, t.id, { rpm, tpm });
    const marker = `headers-${randomBytes(4).toString("hex")}`;
    for (const [i, url] of [gw.url, second.url, gw.url].entries()) {
      const before = await quotaState(redis, DEFAULT_KEY_PREFIX, t.id);
      const content = `${marker} ${i}`;
      const body = { messages: [{ role: "user" as const, content }], max_tokens: 30 };
      const out = await openaiChat(url, t.key, body);
      assert.equal(out.status, 200);
      const h = rateLimits(out.headers);
      const reserved = Math.ceil(Buffer.byteLength(JSON.stringify({ model: "mock-gpt", ...body })) / 4) + 30;
      assert.equal(h.remainingRequests, rpm - before.minuteRequests - 1);
      assert.equal(h.remainingTokens, tpm - before.minuteTokens - reserved);
      // Once the usage report settled this request, Redis holds its real tokens.
      const usage = await waitFor("settlement", async () => {
        return (await openReservations(redis, DEFAULT_KEY_PREFIX, t.id)).length === 0 ? quotaState(redis, DEFAULT_KEY_PREFIX, t.id) : undefined;
      }, 10_000);
      assert.equal(usage.minuteRequests, before.minuteRequests + 1);
      assert.equal(usage.minuteTokens, before.minuteTokens + out.tokens!, "settled at the provider's count");
    }
  });

  it("a provider's 5xx carries them too, and its reservation is released", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { rpm: 10 });
    const marker = `provider-500-${randomBytes(4).toString("hex")}`;
    const out = await openaiChat(second.url, t.key, { messages: [{ role: "user", content: marker }] }, { "x-mock-status": "500" });
    assert.equal(`${out.status} ${out.code}`, "500 ");
    assert.equal(rateLimits(out.headers).limitRequests, 10);
    assert.equal(rateLimits(out.headers).remainingRequests, 9);
    const state = await waitFor("release", async () =>
      (await openReservations(redis, DEFAULT_KEY_PREFIX, t.id)).length === 0 ? quotaState(redis, DEFAULT_KEY_PREFIX, t.id) : undefined, 10_000);
    assert.equal(state.minuteRequests, 0, "the provider failed: the request is given back");
  });
});
