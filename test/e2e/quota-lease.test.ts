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

const REDIS_URL = process.env.LEASH_TEST_REDIS_URL || "redis://127.0.0.1:6379/0";
const PREFIX = "leash:";

let gw: Gateway;
let second: Replica;
let redis: Redis;
before(async () => {
  // Short leases: expiry (and the return of unused units) comes soon after the traffic stops.
  gw = await startGateway({ quota: { leaseTtlMs: 200 } });
  second = await gw.addReplica();
  redis = new Redis(REDIS_URL);
});
after(async () => {
  redis?.disconnect();
  await gw?.stop();
});

/** Sum of a counter's samples in a Prometheus text exposition whose labels contain every `labels` entry. */
function metricSum(text: string, name: string, labels: string[]): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) || !labels.every((l) => line.includes(l))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

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
      const s = await quotaState(redis, PREFIX, t.id);
      return s.minuteRequests === 80 && s.minuteTokens === used && s.dayRequests === 80 && s.dayTokens === used ? s : undefined;
    }, 15_000);
    assert.equal(state.monthTokens, used);
    let returned = 0;
    for (const r of [gw, second]) returned += metricSum(await r.sidecar.metrics(), "leash_quota_lease_returns_total", ['result="returned"']);
    assert.ok(returned >= 1, "no lease was given back");
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
