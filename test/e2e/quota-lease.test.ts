// Leases end to end (modules.quota.lease_ttl_ms; docs/decisions/0004-quota-hot-path.md): two
// gateway replicas with short leases sharing one Redis. Far from a limit most requests are
// admitted by the quota module's lease without a Reserve call; once the leases expire and their
// unused parts are given back, and the usage reports settled, the counters in Redis hold exactly
// what was used. Near a limit no lease is granted, so 4N concurrent requests still let exactly N through.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startGateway, type Gateway, type Replica } from "./gateway.ts";
import { openaiChat, setTenantLimits, type Outcome } from "./quota-client.ts";
import { quotaState } from "../support/quota-state.ts";
import { waitFor } from "../integration/envoy-harness.ts";
import { TEST_REDIS_URL } from "../support/redis-prefix.ts";
import { DEFAULT_KEY_PREFIX } from "../../sidecar-services/src/kv-store.ts";
import { metricSum } from "../support/prometheus-text.ts";

let gw: Gateway;
let second: Replica;
let redis: Redis;
before(async () => {
  // Short leases: expiry (and the return of unused units) comes soon after the traffic stops.
  gw = await startGateway({ quota: { leaseTtlMs: 200 } });
  second = await gw.addReplica();
  redis = new Redis(TEST_REDIS_URL);
});
after(async () => {
  redis?.disconnect();
  await gw?.stop();
});

async function reserveCalls(): Promise<number> {
  let n = 0;
  for (const r of [gw, second]) n += metricSum(await r.sidecar.metrics(), "leash_sidecar_grpc_requests_total", ['method="Reserve"']);
  return n;
}

describe("quota leases", () => {
  it("far from the limits most requests make no Reserve call; the counters end at what was used", async () => {
    const t = await gw.newTenant();
    await setTenantLimits(gw, t.id, { rpm: 100_000, tpm: 10_000_000 });
    const before = await reserveCalls();
    const outcomes: Outcome[] = [];
    // Four clients per replica, ten requests each, one after another.
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; i < 10; i++) {
        outcomes.push(await openaiChat(c % 2 ? second.url : gw.url, t.key, { max_tokens: 8, messages: [{ role: "user", content: `lease ${c} ${i}` }] },
          { "x-mock-reply": "one two three" }));
      }
    }));
    assert.deepEqual(outcomes.map((o) => o.status), Array(80).fill(200));
    const calls = (await reserveCalls()) - before;
    assert.ok(calls <= 40, `${calls} Reserve calls for 80 requests: leases were not used`);

    const used = outcomes.reduce((n, o) => n + o.tokens!, 0);
    // Leases expire 200 ms after their grant; the modules give back their unused part on the next
    // tick and the usage reports settle each request's real count.
    const state = await waitFor("counters equal to the usage", async () => {
      const s = await quotaState(redis, DEFAULT_KEY_PREFIX, t.id);
      return s.minuteRequests === 80 && s.minuteTokens === used && s.dayRequests === 80 && s.dayTokens === used ? s : undefined;
    }, 15_000);
    assert.equal(state.monthTokens, used);
    let returned = 0;
    for (const r of [gw, second]) returned += metricSum(await r.sidecar.metrics(), "leash_quota_lease_returns_total", ['result="returned"']);
    assert.ok(returned >= 1, "no lease was given back");
  });

  it("a lease half spent is renewed in the background: requests keep flowing on leases, the counters end exact", async () => {
    // Its own gateway with small leases, so forty requests go through several of them.
    const small = await startGateway({ quota: { leaseTtlMs: 1000, leaseMaxRequests: 8 } });
    try {
      const t = await small.newTenant();
      await setTenantLimits(small, t.id, { rpm: 100_000, tpm: 10_000_000 });
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(await openaiChat(small.url, t.key, { max_tokens: 8, messages: [{ role: "user", content: `renew ${i}` }] }, { "x-mock-reply": "one two" }));
      }
      assert.deepEqual(outcomes.map((o) => o.status), Array(40).fill(200));
      const text = await small.sidecar.metrics();
      const renewed = metricSum(text, "leash_quota_lease_renewals_total", ['result="granted"']);
      const reserved = metricSum(text, "leash_quota_decisions_total", ['code="ok"']);
      // Leases of 8: a renewal at 4 left, so ~5 leases for 40 requests; a Reserve per request only
      // while a renewal is late (none expected here, sequential requests; bounded loosely).
      assert.ok(renewed >= 2, `${renewed} renewals granted: leases were not renewed in the background`);
      assert.ok(reserved <= 10, `${reserved} Reserves for 40 requests: requests waited for the sidecar`);
      const used = outcomes.reduce((n, o) => n + o.tokens!, 0);
      // The last lease expires 1 s after its grant; its rest is given back, the reports settle.
      await waitFor("counters equal to the usage", async () => {
        const s = await quotaState(redis, DEFAULT_KEY_PREFIX, t.id);
        return s.minuteRequests === 40 && s.minuteTokens === used && s.dayRequests === 40 && s.dayTokens === used ? s : undefined;
      }, 15_000);
    } finally {
      await small.stop();
    }
  });

  it("near a limit no lease is granted: rpm N with 4N concurrent requests over both replicas lets exactly N through", async () => {
    const t = await gw.newTenant();
    const N = 5;
    await setTenantLimits(gw, t.id, { rpm: N });
    const marker = `lease-exact-${randomBytes(4).toString("hex")}`;
    const outcomes = await Promise.all(Array.from({ length: 4 * N }, (_, i) =>
      openaiChat(i % 2 ? second.url : gw.url, t.key, { max_tokens: 4, messages: [{ role: "user", content: `${marker} ${i}` }] })));
    assert.equal(outcomes.filter((o) => o.status === 200).length, N);
    assert.equal(gw.mock.requests.filter((r) => r.body.includes(marker)).length, N);
    for (const o of outcomes.filter((o) => o.status !== 200)) assert.equal(`${o.status} ${o.code}`, "429 quota.rpm_exceeded");
  });
});
