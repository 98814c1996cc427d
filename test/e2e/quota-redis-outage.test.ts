// A killed Redis under a whole gateway (real Envoy, sidecar, PostgreSQL; a redis-server of this
// file's own, never the shared one): a tenant that fails closed gets 503 quota.unavailable in the
// route's format and nothing reaches the provider; one that fails open is let through, unmetered;
// nothing crashes; when Redis is back, counting resumes from what is allowed after it.
//
// The sidecar's Authorize reads keys through Redis too, so with Redis down only a key whose auth
// decision the auth module still holds (sidecar.auth_cache_ttl_ms, 2 s here) reaches the quota
// module at all. The outage requests therefore follow a warm-up at once; if the machine was so slow
// that the decision expired first (auth.sidecar_unavailable), the precondition did not hold and the
// round is run again with Redis restarted.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { anthropicMessage, openaiChat, rateLimits, setTenantLimits, type Outcome } from "./quota-client.ts";
import { quotaState } from "../support/quota-state.ts";
import { startRedis, stopRedis } from "../support/redis-server.ts";
import { freePort, httpGet, waitFor } from "../integration/envoy-harness.ts";
import { DEFAULT_KEY_PREFIX } from "../../sidecar-services/src/kv-store.ts";

const ROUNDS = 3;

let gw: Gateway;
let redisPort: number;
let redisProc: ChildProcess | undefined;
let reader: Redis;
let closed: Tenant;
let open: Tenant;

before(async () => {
  redisPort = await freePort();
  redisProc = await startRedis(redisPort);
  // No leases: this file is the per-request path (a lease held when Redis dies: quota-lease-outage).
  gw = await startGateway({ redisUrl: `redis://127.0.0.1:${redisPort}/0`, authCacheTtlMs: 2000, quota: { leaseTtlMs: 0 } });
  reader = new Redis({ port: redisPort, host: "127.0.0.1", maxRetriesPerRequest: 1 });
  reader.on("error", () => {});
  closed = await gw.newTenant("fails closed");
  open = await gw.newTenant("fails open");
  await setTenantLimits(gw, closed.id, { rpm: 100 });
  await setTenantLimits(gw, open.id, { rpm: 100, on_store_failure: "open" });
});
after(async () => {
  reader?.disconnect();
  await gw?.stop();
  await stopRedis(redisProc);
});

function ask(t: Tenant, text: string): Promise<Outcome> {
  return openaiChat(gw.url, t.key, { messages: [{ role: "user", content: text }] });
}

/**
 * One allowed request per tenant and route the outage requests use (auth decisions are cached per
 * provider and key), waiting out the sidecar's reconnection after a restart.
 */
async function warm(): Promise<void> {
  const sends: Array<() => Promise<Outcome>> = [
    () => ask(closed, "warm-up"),
    () => anthropicMessage(gw.url, closed.key, "warm-up"),
    () => ask(open, "warm-up"),
  ];
  for (const send of sends) {
    await waitFor("an allowed request with Redis up", async () => ((await send()).status === 200 ? true : undefined), 15_000);
  }
}

describe("Redis killed under the gateway", () => {
  it("closed tenant: 503 quota.unavailable and no upstream call; open tenant: allowed unmetered; no crash", async () => {
    const marker = `outage-${randomBytes(4).toString("hex")}`;
    let results: Outcome[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await warm();
      await stopRedis(redisProc);
      results = [
        await ask(closed, `${marker} closed openai`),
        await anthropicMessage(gw.url, closed.key, `${marker} closed anthropic`),
        await ask(open, `${marker} open`),
      ];
      if (!results.some((r) => r.code === "auth.sidecar_unavailable")) break;
      assert.ok(round < ROUNDS, "the auth decision expired before the outage requests in every round");
      redisProc = await startRedis(redisPort);
    }
    const [closedOpenai, closedAnthropic, openOutcome] = results;
    assert.equal(`${closedOpenai.status} ${closedOpenai.code}`, "503 quota.unavailable");
    assert.equal(`${closedAnthropic.status} ${closedAnthropic.code}`, "503 quota.unavailable");
    assert.equal(closedOpenai.headers.get("retry-after"), "1");
    assert.equal(gw.mock.requests.filter((r) => r.body.includes(`${marker} closed`)).length, 0, "a refused request reached the provider");
    assert.equal(openOutcome.status, 200);
    assert.equal(rateLimits(openOutcome.headers).limitRequests, null, "an unmetered answer has no limits to show");
    assert.equal(gw.mock.requests.filter((r) => r.body.includes(`${marker} open`)).length, 1);

    // Nothing crashed: Envoy answers, the sidecar serves its metrics and counted the unmetered request.
    assert.equal((await httpGet(gw.port, "/health")).status, 200);
    const metrics = await gw.sidecar.metrics();
    assert.match(metrics, new RegExp(`leash_quota_unmetered_total\\{[^}]*tenant="${open.id}"[^}]*\\} 1`));
  });

  it("counting resumes when Redis is back, from the requests allowed after it", async () => {
    if (redisProc === undefined || redisProc.exitCode !== null || redisProc.signalCode !== null) {
      redisProc = await startRedis(redisPort);
    }
    // Restarted empty (no persistence): the first allowed request after the sidecar reconnects
    // starts the count again.
    await waitFor("the sidecar back on Redis", async () => ((await ask(closed, "resume")).status === 200 ? true : undefined), 15_000);
    const before = await quotaState(reader, DEFAULT_KEY_PREFIX, closed.id);
    const first = await ask(closed, "after 1");
    const second = await ask(closed, "after 2");
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const after = await quotaState(reader, DEFAULT_KEY_PREFIX, closed.id);
    assert.equal(after.minuteRequests, before.minuteRequests + 2);
    assert.equal(rateLimits(second.headers).remainingRequests, 100 - after.minuteRequests);
  });
});
