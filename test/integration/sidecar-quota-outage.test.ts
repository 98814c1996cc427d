// Redis faults on the Reserve path, against a redis-server this file starts on a port of its own
// (never the shared one): a paused Redis (slow) and a killed one. A tenant that fails closed gets
// 503 quota.unavailable, one that fails open is allowed and counted as unmetered, and both answers
// come long before Redis would have (the store gives up after its command timeout instead of
// queueing). When Redis is back (restarted empty: the scripts are gone too, so NOSCRIPT is met)
// counting resumes, and nothing is counted twice.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { quotaCommandTimeoutMs } from "../../sidecar-services/src/bootstrap.ts";
import type { Db } from "../../sidecar-services/src/db.ts";
import { createMemoryStore } from "../../sidecar-services/src/kv-store.ts";
import { createRedisQuotaStore } from "../../sidecar-services/src/quota-redis.ts";
import type { QuotaStore } from "../../sidecar-services/src/quota-store.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { authorizeClient } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { quotaState, reservationRecord } from "../support/quota-state.ts";
import { reserveRequest, type ReserveRequest, type ReserveResponse } from "../support/reserve-client.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";
import { recordUsage, usageReport } from "../support/usage-client.ts";
import { startRedis, stopRedis } from "../support/redis-server.ts";
import { freePort, waitFor } from "./envoy-harness.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const PREFIX = `leash-test-quota-outage-${RUN}:`;
/** The quota module's default deadline; the answer must come well inside the time Redis is stuck. */
const RESERVE_TIMEOUT_MS = 250;
/** Longer than any answer may take, far shorter than the pause: a call that waited for Redis fails. */
const CALL_DEADLINE_MS = 2000;
const PAUSE_MS = 10_000;

/** Reserve with a deadline of CALL_DEADLINE_MS. */
function reserveSoon(client: grpc.Client, req: ReserveRequest): Promise<ReserveResponse> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Function>).Reserve!(req, { deadline: Date.now() + CALL_DEADLINE_MS }, (err: grpc.ServiceError | null, res: ReserveResponse) =>
      err ? reject(err) : resolve(res),
    );
  });
}

describe("Reserve when Redis is slow or down (own redis-server)", () => {
  let schema: TestSchema;
  let db: Db;
  let port: number;
  let redis: ChildProcess | undefined;
  let quota: QuotaStore;
  let sidecar: Sidecar;
  let client: grpc.Client;
  let reader: Redis;
  const registry = new Registry();
  let dataDir: string;

  const setLimits = async (tenant: string, onStoreFailure: "open" | "closed") => {
    await db.query("INSERT INTO tenants (id, name, module_settings) VALUES ($1, $1, $2)", [
      tenant,
      JSON.stringify({ quota: { rpm: 100, on_store_failure: onStoreFailure } }),
    ]);
  };
  const metric = async (name: string, tenant: string): Promise<number> => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return Number(m?.values.find((v) => v.labels.tenant === tenant)?.value ?? 0);
  };

  before(async () => {
    schema = await createTestSchema("quota_outage", RUN);
    db = await schema.openMigrated();
    await setLimits("closed-t", "closed");
    await setLimits("open-t", "open");
    await setLimits("probe-t", "open");
    port = await freePort();
    redis = await startRedis(port);
    const url = `redis://127.0.0.1:${port}/0`;
    quota = await createRedisQuotaStore({ url, keyPrefix: PREFIX, commandTimeoutMs: quotaCommandTimeoutMs(RESERVE_TIMEOUT_MS) });
    reader = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 500) });
    reader.on("error", () => {});
    dataDir = mkdtempSync(join(tmpdir(), "leash-quota-outage-"));
    const config = sidecarTestConfig({ sidecar: { database_url: TEST_DATABASE_URL, data_dir: dataDir }, providers: [{ name: "mock", api: "openai" }] });
    sidecar = createSidecar({ db, store: createMemoryStore(), quotaStore: quota, registry, config, pepper: PEPPER, usageLedger: { flushIntervalMs: 20 } });
    client = authorizeClient((await sidecar.start()).grpcPort);
  });

  after(async () => {
    client?.close();
    await sidecar?.stop();
    await quota?.close();
    reader?.disconnect();
    await stopRedis(redis);
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts normally while Redis is up", async () => {
    for (const tenant of ["closed-t", "open-t"]) assert.equal((await reserveSoon(client, reserveRequest({ tenant_id: tenant }))).decision, "ALLOW");
    assert.equal((await quotaState(reader, PREFIX, "open-t")).minuteRequests, 1);
  });

  it("a stuck Redis: the tenant's policy answers in time, and the late reservation is released by its report", async () => {
    const pauser = new Redis({ port, host: "127.0.0.1" });
    try {
      assert.equal(await pauser.call("CLIENT", "PAUSE", String(PAUSE_MS), "ALL"), "OK");
      const stuck = reserveRequest({ tenant_id: "closed-t" });
      const closed = await reserveSoon(client, stuck);
      assert.deepEqual([closed.decision, closed.code, closed.http_status, closed.retry_after_s], ["DENY", "quota.unavailable", 503, 1]);
      const open = await reserveSoon(client, reserveRequest({ tenant_id: "open-t" }));
      assert.deepEqual([open.decision, open.unmetered], ["ALLOW", true]);
      assert.equal(await metric("leash_quota_unmetered_total", "open-t"), 1);
      await pauser.call("CLIENT", "UNPAUSE");
      // The timed-out script still ran once Redis resumed: its reservation exists, and the report
      // of the refused request (a local reply) gives it back.
      await waitFor("late reservation", async () => ((await reservationRecord(reader, PREFIX, "closed-t", stuck.reservation_id)) ? true : undefined));
      await recordUsage(client, usageReport({ reservation_id: stuck.reservation_id, tenant_id: "closed-t", status: 503, upstream_responded: false }));
      assert.equal(await reservationRecord(reader, PREFIX, "closed-t", stuck.reservation_id), null);
      assert.equal((await quotaState(reader, PREFIX, "closed-t")).minuteRequests, 1, "only the request made before the pause");
    } finally {
      await pauser.call("CLIENT", "UNPAUSE").catch(() => {});
      pauser.disconnect();
    }
  });

  it("a killed Redis: closed tenants get 503, open ones pass unmetered; no crash", async () => {
    await stopRedis(redis);
    const closed = await reserveSoon(client, reserveRequest({ tenant_id: "closed-t" }));
    assert.deepEqual([closed.decision, closed.code, closed.http_status], ["DENY", "quota.unavailable", 503]);
    const unmetered = reserveRequest({ tenant_id: "open-t" });
    const open = await reserveSoon(client, unmetered);
    assert.deepEqual([open.decision, open.unmetered, open.has_request_limit], ["ALLOW", true, false]);
    assert.equal(await metric("leash_quota_unmetered_total", "open-t"), 2);
    // Its report is still accepted (the ledger does not need Redis); the settlement fails quietly.
    assert.deepEqual(await recordUsage(client, usageReport({ reservation_id: unmetered.reservation_id, tenant_id: "open-t" })), { accepted: true });

    redis = await startRedis(port);
    // Counting resumes once the store has reconnected; the restarted Redis has no scripts (NOSCRIPT).
    // Probed on a tenant of its own: a probe answered unmetered may still have been counted late.
    await waitFor("quota store reconnected", async () => {
      const res = await reserveSoon(client, reserveRequest({ tenant_id: "probe-t" }));
      return res.unmetered ? undefined : res;
    });
    const resumed = await reserveSoon(client, reserveRequest({ tenant_id: "open-t" }));
    assert.deepEqual([resumed.decision, resumed.unmetered, Number(resumed.remaining_requests)], ["ALLOW", false, 99]);
    // The unmetered request's report, retried now, finds no reservation: nothing counted twice.
    await recordUsage(client, usageReport({ reservation_id: unmetered.reservation_id, tenant_id: "open-t", prompt_tokens: "5000" }));
    const state = await quotaState(reader, PREFIX, "open-t");
    assert.deepEqual([state.minuteRequests, state.dayRequests, state.dayTokens], [1, 1, 120]);
    const closedAgain = await reserveSoon(client, reserveRequest({ tenant_id: "closed-t" }));
    assert.equal(closedAgain.decision, "ALLOW");
    assert.equal(Number(closedAgain.remaining_requests), 99);
  });
});
