// The quota counters on their own, with an injected clock, against real Redis (two store
// instances on one key prefix: two sidecar replicas sharing Redis) and against the in-process
// store of the embedded mode. Every behaviour runs on both: exactness under concurrency, the
// rolling minute (1 s buckets), UTC day and month boundaries, settlement, release, idempotency,
// budgets, tenant + key scopes, and reservation ids (a repeat, an unknown one).
//
//   LEASH_TEST_REDIS_URL  default redis://127.0.0.1:6379/0
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { NO_LIMITS, type ScopeLimits } from "../../sidecar-services/src/quota-limits.ts";
import { createMemoryQuotaStore } from "../../sidecar-services/src/quota-memory.ts";
import { createRedisQuotaStore } from "../../sidecar-services/src/quota-redis.ts";
import { counterKeys, type QuotaStore, type ReservePlan } from "../../sidecar-services/src/quota-store.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";

const RUN = randomBytes(4).toString("hex");
/** A fixed instant well inside a day: 2030-06-15T12:00:00.000Z. */
const NOON = Date.UTC(2030, 5, 15, 12, 0, 0);

/** A reservation id as the quota module makes them: 128 random bits, hex. */
const reservationId = (): string => randomBytes(16).toString("hex");

function limits(l: Partial<ScopeLimits>): ScopeLimits {
  return { ...NO_LIMITS, ...l };
}

/** A plan for a fresh tenant unless named; 1 token, no cost, no key, at NOON. */
function plan(p: Partial<ReservePlan>): ReservePlan {
  return {
    tenantId: "t",
    keyId: "",
    reservationId: reservationId(),
    nowMs: NOON,
    tokens: 1,
    costMicro: 0,
    tenant: NO_LIMITS,
    key: NO_LIMITS,
    recordTtlS: 600,
    ...p,
  };
}

/** Two "replicas" of one store kind and a fresh tenant id per test. */
interface Pair {
  a: QuotaStore;
  b: QuotaStore;
}

function storeSuite(kind: "redis" | "memory", open: () => Promise<Pair>) {
  describe(`quota store: ${kind}`, () => {
    let a: QuotaStore;
    let b: QuotaStore;
    let tenants = 0;
    const tenant = () => `${kind}-${RUN}-${++tenants}`;

    before(async () => {
      ({ a, b } = await open());
    });

    it("RPM N with 4N concurrent reserves over both replicas: exactly N allowed", async () => {
      const t = tenant();
      const N = 25;
      const results = await Promise.all(
        Array.from({ length: 4 * N }, (_, i) => (i % 2 ? a : b).reserve(plan({ tenantId: t, tenant: limits({ rpm: N }) }))),
      );
      assert.equal(results.filter((r) => r.allowed).length, N);
      for (const r of results.filter((r) => !r.allowed)) assert.deepEqual(r.deniedBy, { scope: "tenant", limit: "rpm" });
      assert.equal((await a.read(t, "", NOON)).minuteRequests, N);
    });

    it("TPM with known token counts: exactly limit / tokens allowed, then the headers' numbers", async () => {
      const t = tenant();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve(plan({ tenantId: t, tokens: 100, tenant: limits({ tpm: 1000 }) }))),
      );
      assert.equal(results.filter((r) => r.allowed).length, 10);
      const usage = await b.read(t, "", NOON);
      assert.equal(usage.minuteTokens, 1000);
      assert.equal(usage.dayTokens, 1000);
      assert.equal(usage.minuteTokensResetMs, 60_000);
    });

    it("the minute rolls by 1 s buckets: no doubling at a calendar minute, room exactly when a bucket leaves", async () => {
      const t = tenant();
      const rpm2 = limits({ rpm: 2 });
      const minute = Date.UTC(2030, 5, 15, 12, 1, 0);
      assert.equal((await a.reserve(plan({ tenantId: t, tenant: rpm2, nowMs: minute - 500 }))).allowed, true);
      assert.equal((await b.reserve(plan({ tenantId: t, tenant: rpm2, nowMs: minute - 400 }))).allowed, true);
      // Just past the calendar minute: a fixed window would allow two more here.
      const denied = await a.reserve(plan({ tenantId: t, tenant: rpm2, nowMs: minute + 100 }));
      assert.equal(denied.allowed, false);
      // Both requests sit in second minute-1; it leaves the window at minute+59 s.
      assert.equal(denied.retryAfterS, 59);
      assert.equal((await b.reserve(plan({ tenantId: t, tenant: rpm2, nowMs: minute + 58_999 }))).allowed, false);
      assert.equal((await b.reserve(plan({ tenantId: t, tenant: rpm2, nowMs: minute + 59_000 }))).allowed, true);
    });

    it("retry-after of a rolling limit: until enough of the oldest buckets have left", async () => {
      const t = tenant();
      const rpm3 = limits({ rpm: 3 });
      for (const s of [0, 20, 40]) assert.equal((await a.reserve(plan({ tenantId: t, tenant: rpm3, nowMs: NOON + s * 1000 }))).allowed, true);
      const denied = await b.reserve(plan({ tenantId: t, tenant: rpm3, nowMs: NOON + 50_000 }));
      assert.equal(denied.retryAfterS, 10);
      assert.equal((await b.reserve(plan({ tenantId: t, tenant: rpm3, nowMs: NOON + 60_000 }))).allowed, true);
    });

    it("a calendar day ends at UTC midnight; a month on the 1st", async () => {
      const t = tenant();
      const tpd = limits({ tpd: 100 });
      const late = Date.UTC(2030, 0, 31, 23, 59, 59, 500);
      assert.equal((await a.reserve(plan({ tenantId: t, tenant: tpd, tokens: 100, nowMs: late }))).allowed, true);
      const denied = await b.reserve(plan({ tenantId: t, tenant: tpd, tokens: 1, nowMs: late }));
      assert.deepEqual([denied.allowed, denied.deniedBy?.limit, denied.retryAfterS], [false, "tpd", 1]);
      assert.equal((await b.reserve(plan({ tenantId: t, tenant: tpd, tokens: 100, nowMs: Date.UTC(2030, 1, 1) }))).allowed, true);

      const m = tenant();
      const tpmo = limits({ tpmo: 10 });
      assert.equal((await a.reserve(plan({ tenantId: m, tenant: tpmo, tokens: 10, nowMs: Date.UTC(2030, 1, 1) }))).allowed, true);
      const monthDenied = await a.reserve(plan({ tenantId: m, tenant: tpmo, nowMs: Date.UTC(2030, 1, 27, 0, 0, 0) }));
      // February 2030 has 28 days: two days left from the 27th at midnight.
      assert.deepEqual([monthDenied.deniedBy?.limit, monthDenied.retryAfterS], ["tpmo", 2 * 86_400]);
      assert.equal((await a.reserve(plan({ tenantId: m, tenant: tpmo, tokens: 10, nowMs: Date.UTC(2030, 2, 1) }))).allowed, true);

      // A leap February ends after the 29th; December rolls over into the next year.
      const leap = tenant();
      await a.reserve(plan({ tenantId: leap, tenant: tpmo, tokens: 10, nowMs: Date.UTC(2032, 1, 29, 12) }));
      assert.equal((await b.reserve(plan({ tenantId: leap, tenant: tpmo, nowMs: Date.UTC(2032, 1, 29, 12) }))).retryAfterS, 12 * 3600);
      const year = tenant();
      await a.reserve(plan({ tenantId: year, tenant: tpmo, tokens: 10, nowMs: Date.UTC(2030, 11, 31, 23, 0) }));
      assert.equal((await b.reserve(plan({ tenantId: year, tenant: tpmo, nowMs: Date.UTC(2030, 11, 31, 23, 0) }))).retryAfterS, 3600);
      assert.equal((await b.reserve(plan({ tenantId: year, tenant: tpmo, tokens: 10, nowMs: Date.UTC(2031, 0, 1) }))).allowed, true);
    });

    it("settle moves every counter by actual − reserved, once", async () => {
      const t = tenant();
      const l = limits({ tpd: 10_000, usdDayMicro: 1_000_000 });
      const p = plan({ tenantId: t, tenant: l, tokens: 120, costMicro: 500 });
      assert.equal((await a.reserve(p)).allowed, true);
      const settle = { tenantId: t, reservationId: p.reservationId, nowMs: NOON + 2000, release: false, tokens: 50, costMicro: 80 };
      assert.equal(await b.settle(settle), "settled");
      assert.equal(await a.settle(settle), "none", "a retried report changes nothing");
      const u = await a.read(t, "", NOON + 2000);
      assert.deepEqual([u.minuteRequests, u.minuteTokens, u.dayRequests, u.dayTokens, u.dayUsdMicro, u.monthTokens], [1, 50, 1, 50, 80, 50]);
    });

    it("release undoes the request, its tokens and its cost", async () => {
      const t = tenant();
      const p = plan({ tenantId: t, tenant: limits({ rpm: 1 }), tokens: 70, costMicro: 9 });
      assert.equal((await a.reserve(p)).allowed, true);
      assert.equal((await b.reserve(plan({ tenantId: t, tenant: limits({ rpm: 1 }) }))).allowed, false);
      assert.equal(await b.settle({ tenantId: t, reservationId: p.reservationId, nowMs: NOON + 10, release: true, tokens: 0, costMicro: 0 }), "released");
      const u = await b.read(t, "", NOON + 10);
      assert.deepEqual([u.minuteRequests, u.minuteTokens, u.dayRequests, u.dayTokens, u.dayUsdMicro], [0, 0, 0, 0, 0]);
      assert.equal((await a.reserve(plan({ tenantId: t, tenant: limits({ rpm: 1 }), nowMs: NOON + 20 }))).allowed, true);
    });

    it("a settlement after the minute has passed corrects only the calendar windows", async () => {
      const t = tenant();
      const p = plan({ tenantId: t, tenant: limits({ tpm: 10_000 }), tokens: 100 });
      await a.reserve(p);
      assert.equal(await a.settle({ tenantId: t, reservationId: p.reservationId, nowMs: NOON + 61_000, release: false, tokens: 400, costMicro: 0 }), "settled");
      const u = await a.read(t, "", NOON + 61_000);
      assert.deepEqual([u.minuteTokens, u.dayTokens], [0, 400]);
    });

    it("a budget stops the next request once spent (spent ≥ budget), until the window ends", async () => {
      const t = tenant();
      const l = limits({ usdDayMicro: 100 });
      assert.equal((await a.reserve(plan({ tenantId: t, tenant: l, costMicro: 60 }))).allowed, true);
      assert.equal((await b.reserve(plan({ tenantId: t, tenant: l, costMicro: 60 }))).allowed, true, "below the budget: may overrun by its own cost");
      const denied = await a.reserve(plan({ tenantId: t, tenant: l, costMicro: 1 }));
      assert.deepEqual([denied.allowed, denied.deniedBy?.limit, denied.retryAfterS], [false, "usd_per_day", 12 * 3600]);
    });

    it("a request must pass its tenant's and its key's limits; counters are kept per scope", async () => {
      const t = tenant();
      const both = { tenantId: t, tenant: limits({ rpm: 3 }), key: limits({ rpm: 1 }) };
      assert.equal((await a.reserve(plan({ ...both, keyId: "key000000001" }))).allowed, true);
      const denied = await b.reserve(plan({ ...both, keyId: "key000000001" }));
      assert.deepEqual(denied.deniedBy, { scope: "key", limit: "rpm" });
      assert.equal((await b.reserve(plan({ ...both, keyId: "key000000002" }))).allowed, true);
      assert.equal((await a.reserve(plan({ ...both, keyId: "key000000003" }))).allowed, true);
      const tenantDenied = await a.reserve(plan({ ...both, keyId: "key000000004" }));
      assert.deepEqual(tenantDenied.deniedBy, { scope: "tenant", limit: "rpm" });
      assert.equal((await a.read(t, "", NOON)).minuteRequests, 3);
      assert.equal((await a.read(t, "key000000001", NOON)).minuteRequests, 1);
    });

    it("the counts a Reserve answers agree with the stored buckets through settlement and the window moving on", async () => {
      const t = tenant();
      const l = limits({ rpm: 1000, tpm: 1_000_000 });
      await a.reserve(plan({ tenantId: t, tenant: l, tokens: 100, nowMs: NOON }));
      const p2 = plan({ tenantId: t, tenant: l, tokens: 50, nowMs: NOON + 10_000 });
      await b.reserve(p2);
      await a.reserve(plan({ tenantId: t, tenant: l, tokens: 20, nowMs: NOON + 30_000 }));
      assert.equal(await b.settle({ tenantId: t, reservationId: p2.reservationId, nowMs: NOON + 31_000, release: false, tokens: 5, costMicro: 0 }), "settled");
      // 61 s on, the first second has left the window: 2 of the 3 earlier requests count, and this one.
      const res = await b.reserve(plan({ tenantId: t, tenant: l, tokens: 1, nowMs: NOON + 61_000 }));
      assert.deepEqual([res.tenant.minuteRequests, res.tenant.minuteTokens], [3, 26]);
      const stored = await a.read(t, "", NOON + 61_000);
      assert.deepEqual([stored.minuteRequests, stored.minuteTokens], [3, 26]);
      const released = plan({ tenantId: t, tenant: l, tokens: 7, nowMs: NOON + 62_000 });
      await a.reserve(released);
      await a.settle({ tenantId: t, reservationId: released.reservationId, nowMs: NOON + 62_500, release: true, tokens: 0, costMicro: 0 });
      const after = await b.reserve(plan({ tenantId: t, tenant: l, tokens: 1, nowMs: NOON + 71_000 }));
      assert.deepEqual([after.tenant.minuteRequests, after.tenant.minuteTokens], [3, 22], "p2's second left too; the release gave back 1 and 7");
    });

    it("a reservation is settled only by its own id: an unknown id changes nothing", async () => {
      const t = tenant();
      const p = plan({ tenantId: t, tenant: limits({ rpm: 5 }), tokens: 300 });
      assert.equal((await a.reserve(p)).allowed, true);
      assert.equal(await b.settle({ tenantId: t, reservationId: reservationId(), nowMs: NOON, release: true, tokens: 0, costMicro: 0 }), "none");
      // The same id under another tenant is another key (the tenant's hash tag): nothing there.
      assert.equal(await b.settle({ tenantId: tenant(), reservationId: p.reservationId, nowMs: NOON, release: true, tokens: 0, costMicro: 0 }), "none");
      const u = await a.read(t, "", NOON);
      assert.deepEqual([u.minuteRequests, u.dayTokens], [1, 300]);
      assert.equal(await a.settle({ tenantId: t, reservationId: p.reservationId, nowMs: NOON, release: true, tokens: 0, costMicro: 0 }), "released");
    });

    it("a Reserve repeated under one id keeps the first record: the repeat stays counted", async () => {
      const t = tenant();
      const id = reservationId();
      await a.reserve(plan({ tenantId: t, reservationId: id, tenant: limits({ tpd: 1000 }), tokens: 100 }));
      await b.reserve(plan({ tenantId: t, reservationId: id, tenant: limits({ tpd: 1000 }), tokens: 40 }));
      assert.equal(await a.settle({ tenantId: t, reservationId: id, nowMs: NOON, release: true, tokens: 0, costMicro: 0 }), "released");
      assert.equal(await b.settle({ tenantId: t, reservationId: id, nowMs: NOON, release: true, tokens: 0, costMicro: 0 }), "none");
      const u = await a.read(t, "", NOON);
      assert.deepEqual([u.dayRequests, u.dayTokens], [1, 40]);
    });
  });
}

describe("quota store: redis, a minute hash without running totals", () => {
  it("is summed from its buckets once, then kept by its totals", async () => {
    const keys = createTestKeyPrefix("quota-totals", RUN);
    const store = await createRedisQuotaStore({ url: TEST_REDIS_URL, keyPrefix: keys.prefix, commandTimeoutMs: 1000 });
    try {
      const t = "legacy";
      const nowS = Math.floor(NOON / 1000);
      // As a sidecar before the totals wrote it: buckets only, one of them already out of the window.
      await keys.redis.hset(counterKeys(keys.prefix, t, "", "20300615", "203006")[0], `r${nowS - 70}`, 9, `t${nowS - 70}`, 900, `r${nowS - 5}`, 2, `t${nowS - 5}`, 40);
      const l = limits({ rpm: 100 });
      const first = await store.reserve(plan({ tenantId: t, tenant: l, tokens: 10 }));
      assert.deepEqual([first.tenant.minuteRequests, first.tenant.minuteTokens], [3, 50]);
      const second = await store.reserve(plan({ tenantId: t, tenant: l, tokens: 10, nowMs: NOON + 1000 }));
      assert.deepEqual([second.tenant.minuteRequests, second.tenant.minuteTokens], [4, 60]);
    } finally {
      await store.close();
      await keys.cleanup();
    }
  });
});

let redisKeys: TestKeyPrefix;
const redisStores: QuotaStore[] = [];
after(async () => {
  for (const s of redisStores) await s.close();
  await redisKeys?.cleanup();
});

storeSuite("redis", async () => {
  redisKeys = createTestKeyPrefix("quota-store", RUN);
  const open = () => createRedisQuotaStore({ url: TEST_REDIS_URL, keyPrefix: redisKeys.prefix, commandTimeoutMs: 1000 });
  const pair = { a: await open(), b: await open() };
  redisStores.push(pair.a, pair.b);
  return pair;
});

storeSuite("memory", async () => {
  // One process: both "replicas" are the same store.
  const store = createMemoryQuotaStore();
  return { a: store, b: store };
});
