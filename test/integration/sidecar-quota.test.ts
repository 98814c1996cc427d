// Reserve and its settlement over real gRPC, with limits set through the admin API on real
// PostgreSQL. Redis: two sidecars share one database and one Redis key prefix (two replicas), so
// exactness is checked across processes' worth of state; memory: one sidecar on the in-process
// store (the embedded mode), same behaviours where they apply. The answers' x-ratelimit numbers are
// compared with the counters read back from the store.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
//   LEASH_TEST_REDIS_URL     default redis://127.0.0.1:6379/0
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import type { Db } from "../../sidecar-services/src/db.ts";
import { createMemoryStore } from "../../sidecar-services/src/kv-store.ts";
import { createMemoryQuotaStore } from "../../sidecar-services/src/quota-memory.ts";
import { createRedisQuotaStore } from "../../sidecar-services/src/quota-redis.ts";
import type { QuotaStore } from "../../sidecar-services/src/quota-store.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { startSidecar, type RunningSidecar } from "../../sidecar-services/src/bootstrap.ts";
import { adminFetch } from "../support/admin-fetch.ts";
import { authorizeClient } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";
import { quotaState } from "../support/quota-state.ts";
import { reserve, reserveRequest, type ReserveResponse } from "../support/reserve-client.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";
import { recordUsage, recordUsageBatch, usageReport } from "../support/usage-client.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const TOKEN = randomBytes(32).toString("hex");
const AUTH_CACHE_TTL_MS = 1000;

interface Replicas {
  /** gRPC clients; with Redis, one per sidecar. */
  clients: grpc.Client[];
  admin: ReturnType<typeof adminFetch>;
  quota: QuotaStore;
}

function quotaSuite(kind: "redis" | "memory") {
  describe(`Reserve and settlement over gRPC (${kind})`, () => {
    let schema: TestSchema;
    let redisKeys: TestKeyPrefix | undefined;
    let db: Db;
    const sidecars: Sidecar[] = [];
    const stores: QuotaStore[] = [];
    let r: Replicas;
    let dataDir: string;
    let tenants = 0;

    /** A new tenant with these limits (PATCH /limits), and one key; returns both ids. */
    async function tenantWith(limits: Record<string, unknown>, keyLimits?: Record<string, unknown>): Promise<{ tenant: string; key: string }> {
      const id = `q-${kind}-${++tenants}`;
      assert.equal((await r.admin("POST", "/tenants", { name: id, id })).status, 201);
      if (Object.keys(limits).length > 0) assert.equal((await r.admin("PATCH", `/tenants/${id}/limits`, limits)).status, 200);
      const key = await r.admin("POST", `/tenants/${id}/keys`, keyLimits ? { limits: keyLimits } : {});
      assert.equal(key.status, 201);
      return { tenant: id, key: key.json.key_id };
    }

    const client = (i: number) => r.clients[i % r.clients.length]!;

    before(async () => {
      schema = await createTestSchema(`quota_${kind}`, RUN);
      db = await schema.openMigrated();
      dataDir = mkdtempSync(join(tmpdir(), "leash-quota-"));
      const config = sidecarTestConfig({
        sidecar: { database_url: TEST_DATABASE_URL, redis_url: kind === "redis" ? TEST_REDIS_URL : "", data_dir: dataDir, auth_cache_ttl_ms: AUTH_CACHE_TTL_MS },
        providers: [{ name: "mock", api: "openai" }],
      });
      let openStore: () => Promise<QuotaStore>;
      if (kind === "redis") {
        const keys = (redisKeys = createTestKeyPrefix(`quota-${kind}`, RUN));
        openStore = () => createRedisQuotaStore({ url: TEST_REDIS_URL, keyPrefix: keys.prefix, commandTimeoutMs: 1000 });
      } else openStore = async () => createMemoryQuotaStore();
      for (let i = 0; i < (kind === "redis" ? 2 : 1); i++) {
        const quotaStore = await openStore();
        stores.push(quotaStore);
        const store = redisKeys ? await redisKeys.openStore() : createMemoryStore();
        sidecars.push(createSidecar({ db, store, quotaStore, registry: new Registry(), config, pepper: PEPPER, adminToken: TOKEN, usageLedger: { flushIntervalMs: 20 } }));
      }
      const ports = await Promise.all(sidecars.map((s) => s.start()));
      r = { clients: ports.map((p) => authorizeClient(p.grpcPort)), admin: adminFetch(`http://127.0.0.1:${ports[0]!.adminPort}/admin/v1`, TOKEN), quota: stores[0]! };
    });

    after(async () => {
      for (const c of r?.clients ?? []) c.close();
      for (const s of sidecars) await s.stop();
      for (const s of stores) await s.close();
      await redisKeys?.cleanup();
      await schema?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("a tenant and key without limits: ALLOW, no headers, nothing counted, and the filter may skip Reserve", async () => {
      const { tenant, key } = await tenantWith({});
      const res = await reserve(client(0), reserveRequest({ tenant_id: tenant, key_id: key }));
      assert.equal(res.decision, "ALLOW");
      assert.equal(res.has_request_limit, false);
      assert.equal(res.has_token_limit, false);
      assert.ok(res.no_limits_ttl_ms > 0 && res.no_limits_ttl_ms <= AUTH_CACHE_TTL_MS, `no_limits_ttl_ms ${res.no_limits_ttl_ms}`);
      assert.equal((await r.quota.read(tenant, "", Date.now())).dayRequests, 0);
    });

    it("RPM N with 4N concurrent Reserves over every replica: exactly N ALLOW, each with its own remaining count", async () => {
      const N = 10;
      const { tenant, key } = await tenantWith({ rpm: N });
      const answers = await Promise.all(Array.from({ length: 4 * N }, (_, i) => reserve(client(i), reserveRequest({ tenant_id: tenant, key_id: key }))));
      const allowed = answers.filter((a) => a.decision === "ALLOW");
      assert.equal(allowed.length, N);
      // Exact, not approximately right: the N answers saw N distinct states.
      assert.deepEqual(allowed.map((a) => Number(a.remaining_requests)).sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i));
      for (const a of allowed) assert.equal(Number(a.limit_requests), N);
      for (const d of answers.filter((a) => a.decision === "DENY")) {
        assert.deepEqual([d.code, d.http_status, Number(d.remaining_requests)], ["quota.rpm_exceeded", 429, 0]);
        assert.ok(d.retry_after_s >= 1 && d.retry_after_s <= 60, `retry_after_s ${d.retry_after_s}`);
        assert.match(d.message, /tenant: 10 requests per minute/);
      }
      const usage = await r.quota.read(tenant, "", Date.now());
      assert.equal(usage.minuteRequests, N);
    });

    it("TPM with known tokens: prompt estimate + max_output_tokens reserved, exactly limit / tokens ALLOW", async () => {
      const { tenant, key } = await tenantWith({ tpm: 1000 });
      const req = () => reserveRequest({ tenant_id: tenant, key_id: key, estimated_prompt_tokens: "80", max_output_tokens: "20" });
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => reserve(client(i), req())));
      const allowed = answers.filter((a) => a.decision === "ALLOW");
      assert.equal(allowed.length, 10);
      assert.deepEqual(allowed.map((a) => Number(a.remaining_tokens)).sort((x, y) => x - y), Array.from({ length: 10 }, (_, i) => i * 100));
      assert.ok(answers.filter((a) => a.decision === "DENY").every((a) => a.code === "quota.tpm_exceeded"));
      assert.equal((await r.quota.read(tenant, "", Date.now())).minuteTokens, 1000);
    });

    it("the headers of an ALLOW match the counters in the store; the tightest limit of tenant and key is shown", async () => {
      const { tenant, key } = await tenantWith({ rpm: 100, tpd: 100_000 }, { rpm: 5, tpm: 2000 });
      const res = await reserve(client(1), reserveRequest({ tenant_id: tenant, key_id: key, estimated_prompt_tokens: "100", max_output_tokens: "50" }));
      const now = Date.now();
      const keyUsage = await r.quota.read(tenant, key, now);
      assert.equal(res.decision, "ALLOW");
      // Requests: the key's rpm 5 (4 left) is tighter than the tenant's 100 (99 left).
      assert.deepEqual([Number(res.limit_requests), Number(res.remaining_requests)], [5, 5 - keyUsage.minuteRequests]);
      // Tokens: the key's tpm 2000 (1850 left) is tighter than the tenant's tpd 100000.
      assert.deepEqual([Number(res.limit_tokens), Number(res.remaining_tokens)], [2000, 2000 - keyUsage.minuteTokens]);
      assert.equal(keyUsage.minuteTokens, 150);
      // Rolling minute: full again once this second's bucket leaves, at most 60 s away.
      assert.ok(Number(res.reset_requests_ms) > 59_000 && Number(res.reset_requests_ms) <= 60_000, `reset ${res.reset_requests_ms}`);
    });

    it("max_output_tokens 0 reserves the configured default_output_tokens (1024)", async () => {
      const { tenant, key } = await tenantWith({ tpd: 1_000_000 });
      await reserve(client(0), reserveRequest({ tenant_id: tenant, key_id: key, estimated_prompt_tokens: "7", max_output_tokens: "0" }));
      assert.equal((await r.quota.read(tenant, "", Date.now())).dayTokens, 1031);
    });

    it("RecordUsage settles: counters move by actual − reserved, once, whichever replica gets the report", async () => {
      const { tenant, key } = await tenantWith({ tpd: 1_000_000 });
      const req = reserveRequest({ tenant_id: tenant, key_id: key, estimated_prompt_tokens: "100", max_output_tokens: "200" });
      assert.equal((await reserve(client(0), req)).decision, "ALLOW");
      assert.equal((await r.quota.read(tenant, key, Date.now())).dayTokens, 300);
      const report = usageReport({ request_id: req.request_id, reservation_id: req.reservation_id, tenant_id: tenant, key_id: key, prompt_tokens: "100", completion_tokens: "25" });
      assert.deepEqual(await recordUsage(client(1), report), { accepted: true });
      assert.deepEqual(await recordUsage(client(0), report), { accepted: true });
      for (const scope of ["", key]) {
        const u = await r.quota.read(tenant, scope, Date.now());
        assert.deepEqual([u.dayRequests, u.dayTokens, u.minuteTokens], [1, 125, 125], `scope ${scope || "tenant"}`);
      }
    });

    it("no upstream answer or a provider 5xx releases the reservation (RecordUsageBatch)", async () => {
      const { tenant, key } = await tenantWith({ rpm: 2 });
      const a = reserveRequest({ tenant_id: tenant, key_id: key });
      const b = reserveRequest({ tenant_id: tenant, key_id: key });
      for (const q of [a, b]) assert.equal((await reserve(client(0), q)).decision, "ALLOW");
      assert.equal((await reserve(client(1), reserveRequest({ tenant_id: tenant, key_id: key }))).code, "quota.rpm_exceeded");
      const ack = await recordUsageBatch(client(1), [
        usageReport({ reservation_id: a.reservation_id, tenant_id: tenant, key_id: key, status: 504, upstream_responded: false, prompt_tokens: "0", completion_tokens: "0" }),
        usageReport({ reservation_id: b.reservation_id, tenant_id: tenant, key_id: key, status: 502, upstream_responded: true }),
      ]);
      assert.deepEqual(ack, { accepted: 2, rejected: 0 });
      const u = await r.quota.read(tenant, "", Date.now());
      assert.deepEqual([u.minuteRequests, u.minuteTokens, u.dayRequests], [0, 0, 0]);
      assert.equal((await reserve(client(1), reserveRequest({ tenant_id: tenant, key_id: key }))).decision, "ALLOW");
    });

    it("only the reservation id settles: the request id, an unknown id or another tenant's settle nothing", async () => {
      const { tenant, key } = await tenantWith({ tpd: 1_000_000 });
      const other = await tenantWith({ tpd: 1_000_000 });
      const a = reserveRequest({ tenant_id: tenant, key_id: key, estimated_prompt_tokens: "100", max_output_tokens: "20" });
      assert.equal((await reserve(client(0), a)).decision, "ALLOW");
      // Releases (no upstream answer, 503) that name the reservation in every way but its own id.
      const release = { tenant_id: tenant, key_id: key, status: 503, upstream_responded: false, prompt_tokens: "0", completion_tokens: "0" };
      for (const forged of [
        usageReport({ ...release, request_id: a.request_id }),
        usageReport({ ...release, request_id: a.request_id, reservation_id: randomBytes(16).toString("hex") }),
        usageReport({ ...release, request_id: a.request_id, reservation_id: a.reservation_id.toUpperCase() }),
        usageReport({ ...release, tenant_id: other.tenant, key_id: other.key, reservation_id: a.reservation_id }),
      ]) {
        assert.deepEqual(await recordUsage(client(1), forged), { accepted: true });
      }
      let u = await r.quota.read(tenant, "", Date.now());
      assert.deepEqual([u.dayRequests, u.dayTokens], [1, 120]);
      await recordUsage(client(0), usageReport({ tenant_id: tenant, key_id: key, reservation_id: a.reservation_id, prompt_tokens: "100", completion_tokens: "5" }));
      u = await r.quota.read(tenant, "", Date.now());
      assert.deepEqual([u.dayRequests, u.dayTokens], [1, 105], "its own report settles");
    });

    it("a local reply after quota (no upstream answer, any status) releases; a client gone before any answer keeps the estimate", async () => {
      const { tenant, key } = await tenantWith({ tpd: 1_000_000 });
      const refused = reserveRequest({ tenant_id: tenant, key_id: key, estimated_prompt_tokens: "100", max_output_tokens: "20" });
      const gone = reserveRequest({ tenant_id: tenant, key_id: key, estimated_prompt_tokens: "10", max_output_tokens: "20" });
      for (const q of [refused, gone]) assert.equal((await reserve(client(0), q)).decision, "ALLOW");
      const local = { tenant_id: tenant, key_id: key, upstream_responded: false, prompt_tokens: "0", completion_tokens: "0" };
      await recordUsage(client(1), usageReport({ ...local, reservation_id: refused.reservation_id, status: 403 }));
      await recordUsage(client(1), usageReport({ ...local, reservation_id: gone.reservation_id, status: 0 }));
      const u = await r.quota.read(tenant, "", Date.now());
      assert.deepEqual([u.dayRequests, u.dayTokens], [1, 30], "the 403 released; the abandoned request stays at its estimate");
    });

    it("a USD budget stops the next request once it is spent", async () => {
      // mock/gpt-4o-mini: 100 prompt × $0.15/M + 20 completion × $0.60/M = 27 µ$ per request.
      const { tenant, key } = await tenantWith({ usd_per_day: 0.00005 });
      const spend = async () => {
        const q = reserveRequest({ tenant_id: tenant, key_id: key });
        const res = await reserve(client(0), q);
        if (res.decision === "ALLOW") await recordUsage(client(1), usageReport({ reservation_id: q.reservation_id, tenant_id: tenant, key_id: key }));
        return res;
      };
      assert.equal((await spend()).decision, "ALLOW");
      assert.equal((await spend()).decision, "ALLOW", "27 µ$ spent of 50: still under the budget");
      const denied = await spend();
      assert.deepEqual([denied.decision, denied.code, denied.http_status], ["DENY", "quota.budget_exhausted", 429]);
      assert.ok(denied.retry_after_s > 0 && denied.retry_after_s <= 86_400);
      assert.equal((await r.quota.read(tenant, "", Date.now())).dayUsdMicro, 54);
    });

    it("a report without a reservation changes nothing", async () => {
      const { tenant, key } = await tenantWith({ rpm: 100 });
      await recordUsage(client(0), usageReport({ tenant_id: tenant, key_id: key, prompt_tokens: "999" }));
      const u = await r.quota.read(tenant, "", Date.now());
      assert.deepEqual([u.minuteRequests, u.dayTokens], [0, 0]);
    });

    it("malformed or unknown requests are refused with quota.invalid_request (400), never counted", async () => {
      const { tenant } = await tenantWith({ rpm: 100 });
      const cases = [
        reserveRequest({ tenant_id: tenant, request_id: "" }),
        reserveRequest({ tenant_id: tenant, request_id: "x".repeat(201) }),
        reserveRequest({ tenant_id: tenant, request_id: "line\nbreak" }),
        reserveRequest({ tenant_id: tenant, reservation_id: "" }),
        reserveRequest({ tenant_id: tenant, reservation_id: "A".repeat(32) }),
        reserveRequest({ tenant_id: tenant, reservation_id: "0".repeat(31) }),
        reserveRequest({ tenant_id: "Not A Tenant" }),
        reserveRequest({ tenant_id: tenant, key_id: "short" }),
        reserveRequest({ tenant_id: `nobody-${RUN}` }),
        reserveRequest({ tenant_id: tenant, estimated_prompt_tokens: "99999999999" }),
      ];
      for (const q of cases) {
        const res: ReserveResponse = await reserve(client(0), q);
        assert.deepEqual([res.decision, res.code, res.http_status], ["DENY", "quota.invalid_request", 400], JSON.stringify(q).slice(0, 120));
      }
      assert.equal((await r.quota.read(tenant, "", Date.now())).minuteRequests, 0);
    });
  });
}

quotaSuite("redis");
quotaSuite("memory");

describe("bootstrap wiring: the quota store of startSidecar uses redis_url and the store key prefix", () => {
  let running: RunningSidecar | undefined;
  let redisKeys: TestKeyPrefix;
  let dataDir: string;

  before(async () => {
    redisKeys = createTestKeyPrefix("quota-boot", RUN);
    dataDir = mkdtempSync(join(tmpdir(), "leash-quota-boot-"));
  });
  after(async () => {
    await running?.stop();
    await redisKeys?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("counts a demo tenant's request in the shared Redis under the prefix", async () => {
    // Embedded PGlite (no database to share) but a Redis URL: the two settings are independent.
    const config = sidecarTestConfig({ sidecar: { redis_url: TEST_REDIS_URL, data_dir: dataDir }, providers: [{ name: "mock", api: "openai" }] });
    running = await startSidecar({ config, env: {}, storeKeyPrefix: redisKeys.prefix });
    await running.db.query(`UPDATE tenants SET module_settings = '{"quota": {"rpm": 5}}' WHERE id = 'demo'`);
    const c = authorizeClient(running.grpcPort);
    try {
      const res = await reserve(c, reserveRequest({ tenant_id: "demo" }));
      assert.deepEqual([res.decision, Number(res.remaining_requests)], ["ALLOW", 4]);
    } finally {
      c.close();
    }
    assert.equal((await quotaState(redisKeys.redis, redisKeys.prefix, "demo")).minuteRequests, 1);
  });
});
