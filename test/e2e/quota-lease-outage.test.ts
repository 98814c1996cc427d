// Leases (on by default: modules.quota.lease_ttl_ms 1000) when the sidecar or Redis goes away under
// a whole gateway (real Envoy, sidecar, PostgreSQL; a redis-server of this file's own). A quota
// module VM that holds a lease keeps admitting on it, with no call, what is left of it — units the
// shared counters already hold — and nothing more: once it is spent (or expired) the next request
// gets the module's failure_mode (sidecar down: 503 quota.sidecar_unavailable) or the tenant's
// on_store_failure (Redis down: 503 quota.unavailable), and nothing more reaches the provider. The
// per-request path without a lease is covered by quota-sidecar-outage and quota-redis-outage.
//
// The auth module needs the sidecar (and Redis behind it) too, so the outage requests follow the
// warm-up at once while its decision is cached (2 s here) and the lease is live (1 s): a round in
// which the machine was so slow that either ran out first (auth.sidecar_unavailable, or no request
// admitted although the lease had not expired on our clock) is run again.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { openaiChat, setTenantLimits, type Outcome } from "./quota-client.ts";
import { quotaState } from "../support/quota-state.ts";
import { startRedis, stopRedis } from "../support/redis-server.ts";
import { freePort, waitFor } from "../integration/envoy-harness.ts";
import { DEFAULT_KEY_PREFIX } from "../../sidecar-services/src/kv-store.ts";

const ROUNDS = 3;
/** rpm 100: the first Reserve leaves 99 of headroom, so its lease holds ⌊99 / 16⌋ = 6 requests. */
const RPM = 100;
const LEASE = 6;

let gw: Gateway;
let redisPort: number;
let redisProc: ChildProcess | undefined;
let reader: Redis;

before(async () => {
  redisPort = await freePort();
  redisProc = await startRedis(redisPort);
  gw = await startGateway({ redisUrl: `redis://127.0.0.1:${redisPort}/0`, authCacheTtlMs: 2000 });
  reader = new Redis({ port: redisPort, host: "127.0.0.1", maxRetriesPerRequest: 1 });
  reader.on("error", () => {});
});
after(async () => {
  reader?.disconnect();
  await gw?.stop();
  await stopRedis(redisProc);
});

interface Round {
  tenant: Tenant;
  marker: string;
  /** Requests counted in Redis right after the warm-up. */
  counted: number;
  outage: Outcome[];
}

/**
 * A fresh tenant, one request that gets the lease, then `down()`, then requests one after another
 * until one is refused (at most LEASE + 2). Repeated (with `up()` between) while the precondition
 * did not hold.
 */
async function outageRound(down: () => Promise<void>, up: () => Promise<void>): Promise<Round> {
  for (let round = 1; ; round++) {
    const tenant = await gw.newTenant();
    await setTenantLimits(gw, tenant.id, { rpm: RPM });
    const marker = `lease-outage-${randomBytes(4).toString("hex")}`;
    await waitFor("a request admitted with everything up", async () => {
      const o = await openaiChat(gw.url, tenant.key, { max_tokens: 4, messages: [{ role: "user", content: "warm-up" }] });
      return o.status === 200 ? o : undefined;
    }, 15_000);
    const grantedAt = Date.now();
    // The grant counted the lease at once: the warm-up and the lease's 6.
    const counted = (await quotaState(reader, DEFAULT_KEY_PREFIX, tenant.id)).minuteRequests;
    await down();
    const outage: Outcome[] = [];
    for (let i = 0; i < LEASE + 2; i++) {
      const o = await openaiChat(gw.url, tenant.key, { max_tokens: 4, messages: [{ role: "user", content: `${marker} ${i}` }] });
      outage.push(o);
      if (o.status !== 200) break;
    }
    const expiredFirst = outage[0]!.status !== 200 && Date.now() - grantedAt >= 900;
    const authExpired = outage.some((o) => o.code === "auth.sidecar_unavailable");
    if (!expiredFirst && !authExpired) return { tenant, marker, counted, outage };
    assert.ok(round < ROUNDS, "the lease or the auth decision expired before the outage requests in every round");
    await up();
  }
}

function checkRound(r: Round, refusal: string): number {
  assert.equal(r.counted, 1 + LEASE, "the warm-up request got a lease (counted with it)");
  const admitted = r.outage.filter((o) => o.status === 200).length;
  assert.ok(admitted >= 1, "nothing was admitted on the live lease");
  assert.ok(admitted <= LEASE, `${admitted} admitted during the outage, more than the lease held (${LEASE})`);
  const last = r.outage[r.outage.length - 1]!;
  assert.equal(`${last.status} ${last.code}`, refusal, "once the lease is spent the failure policy applies");
  assert.deepEqual(r.outage.slice(0, admitted).map((o) => o.status), Array(admitted).fill(200), "admitted ones come first");
  assert.equal(gw.mock.requests.filter((m) => m.body.includes(r.marker)).length, admitted, "only the leased requests reached the provider");
  return admitted;
}

describe("leases when the sidecar or Redis goes away", () => {
  it("sidecar stopped: the lease's rest is admitted (already counted), then 503 quota.sidecar_unavailable; never fewer counted than admitted", async () => {
    const r = await outageRound(() => gw.sidecar.stop(), () => gw.sidecar.start());
    const admitted = checkRound(r, "503 quota.sidecar_unavailable");
    await gw.sidecar.start();
    // Redis kept the counters: the warm-up and the whole lease were counted at the grant. The
    // lease's unused rest is given back when it expires if the sidecar is back by then, else it
    // stays counted (conservative): never fewer than admitted, never more than was granted.
    const s = await quotaState(reader, DEFAULT_KEY_PREFIX, r.tenant.id);
    assert.ok(s.minuteRequests >= 1 + admitted && s.minuteRequests <= 1 + LEASE, `${s.minuteRequests} counted for ${1 + admitted} admitted`);
  });

  it("Redis killed: the lease's rest is admitted (already counted), then 503 quota.unavailable (fails closed)", async () => {
    const r = await outageRound(() => stopRedis(redisProc), async () => { redisProc = await startRedis(redisPort); });
    checkRound(r, "503 quota.unavailable");
    redisProc = await startRedis(redisPort);
  });
});
