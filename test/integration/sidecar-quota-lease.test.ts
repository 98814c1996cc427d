// Leases (docs/decisions/0004-quota-hot-path.md) in the Redis quota store, with an injected clock:
// a Reserve may grant a block of requests and tokens, counted at once, only far from every limit;
// the VM's leased requests settle against the lease record ("<lease id>.<tokens>"); the unused
// part comes back once, after which the counters hold exactly what was used.
//
//   LEASH_TEST_REDIS_URL  default redis://127.0.0.1:6379/0
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { createJsonLogger } from "../../sidecar-services/src/logger.ts";
import { NO_LIMITS, type ScopeLimits } from "../../sidecar-services/src/quota-limits.ts";
import { createQuotaMetrics } from "../../sidecar-services/src/quota-metrics.ts";
import type { QuotaPolicy } from "../../sidecar-services/src/quota-policy.ts";
import { createQuotaService, type QuotaService } from "../../sidecar-services/src/quota-service.ts";
import { createRedisQuotaStore } from "../../sidecar-services/src/quota-redis.ts";
import { SETTLE_LUA } from "../../sidecar-services/src/quota-lua.ts";
import { createSettleBatcher, SETTLE_LEASE_LUA, type NamedScript, type SettleRedis } from "../../sidecar-services/src/quota-settle-batch.ts";
import type { LeaseAsk, QuotaStore, ReservePlan, SettleInput } from "../../sidecar-services/src/quota-store.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";

const RUN = randomBytes(4).toString("hex");
/** 2030-06-15T12:00:00.000Z: well inside a day. */
const NOON = Date.UTC(2030, 5, 15, 12, 0, 0);
const hexId = (): string => randomBytes(16).toString("hex");

function limits(l: Partial<ScopeLimits>): ScopeLimits {
  return { ...NO_LIMITS, ...l };
}

/** The sizing the sidecar uses (quota-service.ts), with a cap of 100 requests / 10 000 tokens. */
function ask(p: Partial<LeaseAsk> = {}): LeaseAsk {
  return { id: hexId(), maxRequests: 100, maxTokens: 10_000, divisor: 16, minRequests: 4, ...p };
}

function plan(p: Partial<ReservePlan>): ReservePlan {
  return { tenantId: "t", keyId: "", reservationId: hexId(), nowMs: NOON, tokens: 10, costMicro: 0, tenant: NO_LIMITS, key: NO_LIMITS, recordTtlS: 600, ...p };
}

describe("quota leases: redis", () => {
  let keys: TestKeyPrefix;
  let a: QuotaStore;
  let b: QuotaStore;
  let n = 0;
  const tenant = () => `lease-${RUN}-${++n}`;

  before(async () => {
    keys = createTestKeyPrefix("quota-lease", RUN);
    a = await createRedisQuotaStore({ url: TEST_REDIS_URL, keyPrefix: keys.prefix, commandTimeoutMs: 1000 });
    b = await createRedisQuotaStore({ url: TEST_REDIS_URL, keyPrefix: keys.prefix, commandTimeoutMs: 1000 });
  });
  after(async () => {
    await a.close();
    await b.close();
    await keys.cleanup();
  });

  it("far from every limit: a lease of min(cap, headroom / 16), counted with the request", async () => {
    const t = tenant();
    const r = await a.reserve(plan({ tenantId: t, tenant: limits({ rpm: 801, tpm: 1_000_000 }), lease: ask() }));
    assert.equal(r.allowed, true);
    // 801 - 1 = 800 requests of headroom → 50; tokens: the cap.
    assert.deepEqual(r.lease, { requests: 50, tokens: 10_000 });
    const u = await b.read(t, "", NOON);
    assert.deepEqual([u.minuteRequests, u.minuteTokens, u.dayRequests, u.dayTokens], [51, 10_010, 51, 10_010]);
    // Without a limit of a kind the cap applies; without a lease asked, none.
    assert.deepEqual((await a.reserve(plan({ tenantId: tenant(), lease: ask() }))).lease, { requests: 100, tokens: 10_000 });
    assert.equal((await a.reserve(plan({ tenantId: tenant(), tenant: limits({ rpm: 10_000 }) }))).lease, null);
  });

  it("near a limit: no lease, so RPM N with 4N concurrent reserves over both replicas allows exactly N", async () => {
    const t = tenant();
    const N = 25;
    const results = await Promise.all(
      Array.from({ length: 4 * N }, (_, i) => (i % 2 ? a : b).reserve(plan({ tenantId: t, tenant: limits({ rpm: N }), lease: ask() }))),
    );
    assert.equal(results.filter((r) => r.allowed).length, N);
    assert.equal(results.filter((r) => r.lease !== null).length, 0);
    assert.equal((await a.read(t, "", NOON)).minuteRequests, N);
    // 64 requests of headroom is the least that leases (64 / 16 = 4 = the minimum).
    assert.equal((await a.reserve(plan({ tenantId: tenant(), tenant: limits({ rpm: 64 }), lease: ask() }))).lease, null);
    assert.deepEqual((await a.reserve(plan({ tenantId: tenant(), tenant: limits({ rpm: 65 }), lease: ask() }))).lease?.requests, 4);
    // Token headroom below this request's tokens: none either.
    assert.equal((await a.reserve(plan({ tenantId: tenant(), tokens: 100, tenant: limits({ tpd: 1_000 }), lease: ask() }))).lease, null);
  });

  it("a renewal counts only its lease: no request of its own, no reservation record", async () => {
    const t = tenant();
    const first = await a.reserve(plan({ tenantId: t, keyId: "k1", tenant: limits({ rpm: 100_000, tpm: 10_000_000 }), lease: ask({ maxRequests: 20, maxTokens: 2_000 }) }));
    assert.deepEqual(first.lease, { requests: 20, tokens: 2_000 });
    const renewal = plan({ tenantId: t, keyId: "k1", reservationId: "", tenant: limits({ rpm: 100_000, tpm: 10_000_000 }), lease: ask({ maxRequests: 20, maxTokens: 2_000, renewal: true }) });
    const r = await b.reserve(renewal);
    assert.deepEqual([r.allowed, r.lease], [true, { requests: 20, tokens: 2_000 }]);
    // 1 request (10 tokens) + two leases; the answer's usage counts both leases and nothing else.
    assert.deepEqual([r.tenant.minuteRequests, r.tenant.minuteTokens], [41, 4_010]);
    for (const keyId of ["", "k1"]) {
      const u = await a.read(t, keyId, NOON);
      assert.deepEqual([u.minuteRequests, u.minuteTokens, u.dayRequests, u.dayTokens, u.monthRequests], [41, 4_010, 41, 4_010, 41]);
    }
    assert.equal((await keys.redis.keys(`${keys.prefix}q:{${t}}:res:*`)).length, 1, "only the first Reserve's reservation record");
    // Near a limit a renewal gets nothing and counts nothing; one that would be refused neither.
    const near = tenant();
    const nr = await a.reserve(plan({ tenantId: near, reservationId: "", tenant: limits({ rpm: 50 }), lease: ask({ renewal: true }) }));
    assert.deepEqual([nr.allowed, nr.lease], [true, null]);
    const full = tenant();
    await a.reserve(plan({ tenantId: full, tenant: limits({ rpm: 1 }) }));
    const fr = await a.reserve(plan({ tenantId: full, reservationId: "", tenant: limits({ rpm: 1 }), lease: ask({ renewal: true }) }));
    assert.deepEqual([fr.allowed, fr.lease], [false, null]);
    assert.equal((await a.read(near, "", NOON)).minuteRequests, 0);
    assert.equal((await a.read(full, "", NOON)).minuteRequests, 1);
  });

  it("a USD budget, of the tenant or of the key: never a lease", async () => {
    assert.equal((await a.reserve(plan({ tenantId: tenant(), tenant: limits({ usdDayMicro: 1e9 }), lease: ask() }))).lease, null);
    const r = await a.reserve(plan({ tenantId: tenant(), keyId: "k1", key: limits({ usdMonthMicro: 1e9 }), lease: ask() }));
    assert.deepEqual([r.allowed, r.lease], [true, null]);
  });

  it("leased requests settle against the lease; returning the unused part leaves exactly what was used", async () => {
    const t = tenant();
    const l = ask({ maxRequests: 10, maxTokens: 1_000 });
    const r = await a.reserve(plan({ tenantId: t, keyId: "k1", tenant: limits({ rpm: 100_000 }), lease: l }));
    assert.deepEqual(r.lease, { requests: 10, tokens: 1_000 });
    // The VM admits three requests on the lease, estimating 100 tokens each; they used 40, 250, and
    // one got a 5xx (released). Settlements can come before or after the return.
    assert.equal(await b.settle({ tenantId: t, reservationId: `${l.id}.100`, nowMs: NOON + 200, release: false, tokens: 40, costMicro: 7 }), "settled");
    assert.equal(await a.settle({ tenantId: t, reservationId: `${l.id}.100`, nowMs: NOON + 300, release: true, tokens: 0, costMicro: 0 }), "released");
    assert.equal(await b.returnLease({ tenantId: t, leaseId: l.id, nowMs: NOON + 900, requests: 7, tokens: 700 }), "returned");
    assert.equal(await a.settle({ tenantId: t, reservationId: `${l.id}.100`, nowMs: NOON + 1_500, release: false, tokens: 250, costMicro: 9 }), "settled");
    // The Reserve's own request (10 tokens, settled separately) plus two leased: 3 requests.
    for (const keyId of ["", "k1"]) {
      const u = await a.read(t, keyId, NOON + 2_000);
      assert.deepEqual([u.minuteRequests, u.minuteTokens, u.dayRequests, u.dayTokens, u.dayUsdMicro], [3, 10 + 40 + 250, 3, 300, 16]);
    }
  });

  it("the leased requests of one lease settled in one turn: one script call, exactly what one call each would move", async () => {
    const script = (source: string): NamedScript => ({ source, sha: createHash("sha1").update(source).digest("hex") });
    // A copy of the lease script under a name Redis has never seen: the first call gets NOSCRIPT.
    const scripts = { settle: script(SETTLE_LUA), lease: script(`${SETTLE_LEASE_LUA}\n-- ${RUN}`) };
    await keys.redis.script("LOAD", scripts.settle.source);
    let calls = 0;
    const counting: SettleRedis = {
      pipeline() {
        const p = keys.redis.pipeline();
        const evalsha = p.evalsha.bind(p);
        p.evalsha = ((...args: Parameters<typeof evalsha>) => {
          calls++;
          return evalsha(...args);
        }) as typeof p.evalsha;
        return p;
      },
      script: (sub, source) => keys.redis.script(sub, source),
    };
    const batched = createSettleBatcher(counting, keys.prefix, scripts);

    // Two tenants, the same lease and the same reports: one settled a call at a time, the other in
    // one turn. The counted tokens add up to more than the lease holds (2 300 > 1 000) while only
    // one report alone does: each report is clamped on its own, never their sum.
    const reports = (t: string, leaseId: string, reservationId: string): SettleInput[] => [
      { tenantId: t, reservationId: `${leaseId}.100`, nowMs: NOON + 200, release: false, tokens: 40, costMicro: 7 },
      { tenantId: t, reservationId: `${leaseId}.100`, nowMs: NOON + 300, release: true, tokens: 0, costMicro: 0 },
      { tenantId: t, reservationId: `${leaseId}.1500`, nowMs: NOON + 400, release: false, tokens: 250, costMicro: 9 },
      { tenantId: t, reservationId: `${leaseId}.600`, nowMs: NOON + 500, release: false, tokens: 600, costMicro: 3 },
      // The granting Reserve's own request, in the same turn: its reservation keeps its own call.
      { tenantId: t, reservationId, nowMs: NOON + 600, release: false, tokens: 30, costMicro: 5 },
    ];
    const results: string[][] = [];
    for (const inTurn of [false, true]) {
      const t = tenant();
      const l = ask({ maxRequests: 10, maxTokens: 1_000 });
      const p = plan({ tenantId: t, keyId: "k1", tenant: limits({ rpm: 100_000 }), lease: l });
      assert.deepEqual((await a.reserve(p)).lease, { requests: 10, tokens: 1_000 });
      const rs = reports(t, l.id, p.reservationId);
      if (inTurn) results.push(await Promise.all(rs.map(batched)));
      else {
        const one: string[] = [];
        for (const r of rs) one.push(await a.settle(r));
        results.push(one);
      }
      // 1 + 10 leased requests, one released; 10 + 1 000 tokens, corrected by
      // (40 − 100) − 100 + (250 − 1 000) + (600 − 600) + (30 − 10) = −890; 7 + 9 + 3 + 5 µ$.
      for (const keyId of ["", "k1"]) {
        const u = await b.read(t, keyId, NOON + 1_000);
        assert.deepEqual(
          [u.minuteRequests, u.minuteTokens, u.dayRequests, u.dayTokens, u.dayUsdMicro, u.monthRequests, u.monthTokens, u.monthUsdMicro],
          [10, 120, 10, 120, 24, 10, 120, 24],
          `${inTurn ? "in one turn" : "one at a time"}, scope ${keyId || "tenant"}`,
        );
      }
    }
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[0], ["settled", "released", "settled", "settled", "settled"]);
    // The reservation and the lease: two calls, plus the lease's once more after NOSCRIPT.
    assert.equal(calls, 3);
    // A lease nobody was granted: none, without a script call.
    calls = 0;
    assert.deepEqual(await Promise.all([batched({ ...reports("x", "0".repeat(32), hexId())[0]!, tenantId: tenant() })]), ["none"]);
    assert.equal(calls, 0, "no record: no script call");
  });

  it("a lease is returned once; more than granted is clamped; a lease id nobody was granted moves nothing", async () => {
    const t = tenant();
    const l = ask({ maxRequests: 8, maxTokens: 80 });
    await a.reserve(plan({ tenantId: t, tenant: limits({ rpm: 100_000 }), lease: l }));
    assert.equal(await a.returnLease({ tenantId: t, leaseId: l.id, nowMs: NOON + 10, requests: 1_000, tokens: 1_000_000 }), "returned");
    assert.equal(await b.returnLease({ tenantId: t, leaseId: l.id, nowMs: NOON + 20, requests: 8, tokens: 80 }), "repeated");
    let u = await a.read(t, "", NOON + 30);
    assert.deepEqual([u.minuteRequests, u.minuteTokens, u.dayRequests, u.dayTokens], [1, 10, 1, 10]);

    // Forgery: only the VM knows its lease ids (128 random bits). A made-up one, or a lease id
    // presented as a reservation id, or another tenant's lease, settles and returns nothing.
    const other = tenant();
    assert.equal(await a.settle({ tenantId: t, reservationId: `${hexId()}.10`, nowMs: NOON + 40, release: true, tokens: 0, costMicro: 0 }), "none");
    assert.equal(await a.settle({ tenantId: t, reservationId: l.id, nowMs: NOON + 40, release: true, tokens: 0, costMicro: 0 }), "none");
    assert.equal(await a.settle({ tenantId: other, reservationId: `${l.id}.10`, nowMs: NOON + 40, release: true, tokens: 0, costMicro: 0 }), "none");
    assert.equal(await a.returnLease({ tenantId: t, leaseId: hexId(), nowMs: NOON + 40, requests: 5, tokens: 5 }), "none");
    u = await a.read(t, "", NOON + 50);
    assert.deepEqual([u.minuteRequests, u.minuteTokens], [1, 10]);
  });

  describe("the Reserve service", () => {
    let clock = NOON;
    let service: QuotaService;
    const policy = (): QuotaPolicy => ({
      tenantExists: true, tenant: limits({ rpm: 100_000 }), key: NO_LIMITS, onStoreFailure: "closed", unlimited: false, expiresAt: clock + 1000,
    });
    before(() => {
      service = createQuotaService({
        store: a,
        policies: { get: async () => policy(), invalidate: () => {} },
        prices: { version: "test", providers: new Map(), source: "test" },
        metrics: createQuotaMetrics(new Registry()),
        log: createJsonLogger({ write: () => {} }),
        defaultOutputTokens: 100,
        noLimitsTtlMs: 1000,
        recordTtlS: 600,
        now: () => clock,
        lease: { ttlMs: 1000, maxRequests: 10, maxTokens: 5_000 },
      });
    });
    const req = (tenant: string, leaseId = hexId()) => ({
      request_id: "rid", tenant_id: tenant, key_id: "", provider: "openai", model: "m", estimated_prompt_tokens: "10", max_output_tokens: "0",
      reservation_id: hexId(), lease_id: leaseId,
    });

    it("grants a lease for the configured lifetime, never past the UTC day; none without lease_id", async () => {
      clock = NOON;
      const r = await service.reserve(req(tenant()));
      assert.deepEqual([r.decision, r.lease_requests, r.lease_tokens, r.lease_ttl_ms], ["ALLOW", 10, 5_000, 1000]);
      // Headers count the lease as used: 100 000 − 1 − 10.
      assert.equal(r.remaining_requests, 99_989);
      clock = Date.UTC(2030, 5, 15, 23, 59, 59, 600);
      assert.equal((await service.reserve(req(tenant()))).lease_ttl_ms, 400);
      clock = Date.UTC(2030, 5, 15, 23, 59, 59, 970);
      assert.deepEqual([(await service.reserve(req(tenant()))).lease_requests], [0], "30 ms left in the day: no lease");
      clock = NOON;
      assert.equal((await service.reserve(req(tenant(), ""))).lease_requests, 0);
      const bad = await service.reserve(req(tenant(), "NOT-HEX"));
      assert.deepEqual([bad.decision, bad.code], ["DENY", "quota.invalid_request"]);
    });

    it("a renewal (lease_only): a lease and nothing else; malformed renewals are refused", async () => {
      clock = NOON;
      const t = tenant();
      await service.reserve(req(t));
      const renew = { ...req(t), reservation_id: "", lease_only: true };
      const r = await service.reserve(renew);
      assert.deepEqual([r.decision, r.lease_requests, r.lease_tokens, r.lease_ttl_ms], ["ALLOW", 10, 5_000, 1000]);
      const u = await a.read(t, "", NOON);
      assert.deepEqual([u.minuteRequests, u.minuteTokens], [21, 10_110], "one request of 110 tokens and two leases");
      for (const bad of [{ ...renew, lease_id: "" }, { ...renew, reservation_id: hexId() }]) {
        const d = await service.reserve(bad);
        assert.deepEqual([d.decision, d.code], ["DENY", "quota.invalid_request"]);
      }
      // A request without lease_only still needs its reservation id.
      const d = await service.reserve({ ...req(t), reservation_id: "" });
      assert.deepEqual([d.decision, d.code], ["DENY", "quota.invalid_request"]);
    });

    it("sizes a lease to what the VM wants: at most the wanted counts, at least the minimum lease and this request's tokens", async () => {
      clock = NOON;
      const sized = await service.reserve({ ...req(tenant()), lease_requests_wanted: "6", lease_tokens_wanted: "600" });
      assert.deepEqual([sized.decision, sized.lease_requests, sized.lease_tokens], ["ALLOW", 6, 600]);
      // Below the minimum lease (4 requests) and below this request's 110 tokens: raised to them.
      const tiny = await service.reserve({ ...req(tenant()), lease_requests_wanted: "1", lease_tokens_wanted: "5" });
      assert.deepEqual([tiny.lease_requests, tiny.lease_tokens], [4, 110]);
      // More than the configured maxima: capped; 0 = no estimate: the maxima.
      const big = await service.reserve({ ...req(tenant()), lease_requests_wanted: "1000", lease_tokens_wanted: "900000" });
      assert.deepEqual([big.lease_requests, big.lease_tokens], [10, 5_000]);
      const none = await service.reserve({ ...req(tenant()), lease_requests_wanted: "0", lease_tokens_wanted: "0" });
      assert.deepEqual([none.lease_requests, none.lease_tokens], [10, 5_000]);
      // What is counted is what was granted: one request of 110 tokens and a lease of 6 / 600.
      const t = tenant();
      await service.reserve({ ...req(t), lease_requests_wanted: "6", lease_tokens_wanted: "600" });
      const u = await a.read(t, "", NOON);
      assert.deepEqual([u.minuteRequests, u.minuteTokens], [7, 710]);
      const bad = await service.reserve({ ...req(tenant()), lease_requests_wanted: "-1" });
      assert.deepEqual([bad.decision, bad.code], ["DENY", "quota.invalid_request"]);
    });

    it("ReturnLease: once, only for a granted lease of that tenant", async () => {
      clock = NOON;
      const t = tenant();
      const leaseId = hexId();
      await service.reserve(req(t, leaseId));
      assert.deepEqual(await service.returnLease({ tenant_id: t, lease_id: leaseId, unused_requests: "10", unused_tokens: "5000" }), { returned: true });
      assert.deepEqual(await service.returnLease({ tenant_id: t, lease_id: leaseId, unused_requests: "10", unused_tokens: "5000" }), { returned: false });
      assert.deepEqual(await service.returnLease({ tenant_id: tenant(), lease_id: hexId(), unused_requests: "1", unused_tokens: "1" }), { returned: false });
      assert.deepEqual(await service.returnLease({ tenant_id: t, lease_id: "x", unused_requests: "1", unused_tokens: "1" }), { returned: false });
      const u = await a.read(t, "", NOON);
      assert.deepEqual([u.minuteRequests, u.minuteTokens], [1, 110]);
    });
  });
});
