// The sidecar over real gRPC against real PostgreSQL and Redis (scripts/services.sh starts them):
// decisions and codes, provider credential injection, hostile inputs, metrics, /health, the Redis
// request counter and request_log rows.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
//   LEASH_TEST_REDIS_URL     default redis://127.0.0.1:6379/0
//
// Isolation: a fresh Postgres schema and a fresh Redis key prefix per run, both removed afterwards
// (test/support/pg-schema.ts, test/support/redis-prefix.ts).
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { generateApiKey } from "../../sidecar-services/src/api-key.ts";
import type { Db } from "../../sidecar-services/src/db.ts";
import { createApiKey, createTenant, revokeApiKey } from "../../sidecar-services/src/keys.ts";
import type { KvStore } from "../../sidecar-services/src/kv-store.ts";
import { loadMigrations, migrate } from "../../sidecar-services/src/migrate.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { authorize, authorizeClient, authorizeRaw, type AuthorizeResponse } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const ENV = { LEASH_TEST_OPENAI_KEY: "sk-test-123", LEASH_TEST_ANTHROPIC_KEY: "sk-ant-test-456" };

function testConfig() {
  return sidecarTestConfig({
    sidecar: { database_url: TEST_DATABASE_URL, redis_url: TEST_REDIS_URL },
    providers: [
      { name: "openai", api: "openai", api_key_env: "LEASH_TEST_OPENAI_KEY" },
      { name: "anthropic", api: "anthropic", api_key_env: "LEASH_TEST_ANTHROPIC_KEY" },
      { name: "mock", api: "openai" },
      { name: "unset", api: "openai", api_key_env: "LEASH_TEST_NOT_SET" },
    ],
  });
}

function call(client: grpc.Client, req: Record<string, string>): Promise<AuthorizeResponse> {
  return authorize(client, { provider: "openai", request_id: `req-${randomBytes(6).toString("hex")}`, ...req });
}

/** Protobuf string field (wire type 2) from raw bytes, so a test can send bytes that are not UTF-8. */
function lengthDelimited(field: number, bytes: Buffer): Buffer {
  const len: number[] = [];
  let n = bytes.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...len]), bytes]);
}

/** Polls `check` until it returns a value, for at most `timeoutMs`. */
async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{")) continue;
    const labelPart = line.slice(name.length + 1, line.indexOf("}"));
    const have = labelPart.split(",");
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.indexOf("}") + 1).trim());
  }
  return 0;
}

describe("sidecar gRPC Authorize (PostgreSQL + Redis)", () => {
  let schema: TestSchema;
  let redisKeys: TestKeyPrefix;
  let db: Db;
  let store: KvStore;
  let sidecar: Sidecar;
  let client: grpc.Client;
  let httpBase: string;
  let tenantId: string;
  let validKey: string;
  let validKeyId: string;
  let revokedKey: string;

  before(async () => {
    schema = await createTestSchema("grpc", RUN);
    db = await schema.openMigrated();
    redisKeys = createTestKeyPrefix("grpc", RUN);
    store = await redisKeys.openStore();

    tenantId = (await createTenant(db, `Grpc Test ${RUN}`)).id;
    ({ key: validKey, keyId: validKeyId } = await createApiKey(db, tenantId, PEPPER));
    const revoked = await createApiKey(db, tenantId, PEPPER);
    revokedKey = revoked.key;
    assert.equal(await revokeApiKey(db, revoked.keyId), true);

    sidecar = createSidecar({ db, store, registry: new Registry(), config: testConfig(), env: ENV, pepper: PEPPER });
    const ports = await sidecar.start();
    assert.ok(ports.grpcPort > 0 && ports.httpPort > 0);
    client = authorizeClient(ports.grpcPort);
    httpBase = `http://127.0.0.1:${ports.httpPort}`;
  });

  after(async () => {
    client?.close();
    await sidecar?.stop();
    await redisKeys?.cleanup();
    await schema?.drop();
  });

  it("allows a valid key and injects the OpenAI credential", async () => {
    const res = await call(client, { api_key: validKey, provider: "openai" });
    assert.equal(res.decision, "ALLOW");
    assert.equal(res.code, "");
    assert.equal(res.tenant_id, tenantId);
    assert.equal(res.key_id, validKeyId);
    assert.equal(res.upstream_auth_header, "authorization");
    assert.equal(res.upstream_auth_value, "Bearer sk-test-123");
    // Fields 9 and 10 on the wire: the configured reuse time, and no model restriction.
    assert.equal(res.cache_ttl_ms, 1000);
    assert.deepEqual(res.allowed_models, []);
  });

  it("injects x-api-key for an anthropic provider", async () => {
    const res = await call(client, { api_key: validKey, provider: "anthropic" });
    assert.equal(res.decision, "ALLOW");
    assert.equal(res.upstream_auth_header, "x-api-key");
    assert.equal(res.upstream_auth_value, "sk-ant-test-456");
  });

  it("injects nothing for providers without a credential", async () => {
    for (const provider of ["mock", "unset"]) {
      const res = await call(client, { api_key: validKey, provider });
      assert.equal(res.decision, "ALLOW");
      assert.equal(res.upstream_auth_header, "");
      assert.equal(res.upstream_auth_value, "");
    }
  });

  const denials: [string, () => string, string][] = [
    ["missing key", () => "", "auth.missing_key"],
    ["garbage", () => "not-a-key", "auth.invalid_key"],
    ["unknown key", () => generateApiKey().key, "auth.invalid_key"],
    ["wrong secret", () => `lsh_${validKeyId}_${generateApiKey().secret}`, "auth.invalid_key"],
    ["revoked key", () => revokedKey, "auth.key_revoked"],
  ];
  for (const [name, key, code] of denials) {
    it(`denies ${name} with 401 ${code}`, async () => {
      const api_key = key();
      const res = await call(client, { api_key });
      assert.equal(res.decision, "DENY");
      assert.equal(res.code, code);
      assert.equal(res.http_status, 401);
      assert.ok(res.message.length > 0);
      if (api_key !== "") assert.ok(!res.message.includes(api_key), "message must not echo the key");
      assert.equal(res.upstream_auth_header, "");
      assert.equal(res.upstream_auth_value, "");
    });
  }

  it("applies a revocation at once when the cache is invalidated", async () => {
    const k = await createApiKey(db, tenantId, PEPPER);
    assert.equal((await call(client, { api_key: k.key })).decision, "ALLOW");
    assert.equal(await revokeApiKey(db, k.keyId, store), true);
    const res = await call(client, { api_key: k.key });
    assert.equal(res.code, "auth.key_revoked");
  });

  it("denies an unknown provider with 400 gateway.unknown_provider", async () => {
    const res = await call(client, { api_key: validKey, provider: "no-such-provider" });
    assert.equal(res.decision, "DENY");
    assert.equal(res.code, "gateway.unknown_provider");
    assert.equal(res.http_status, 400);
  });

  it("answers hostile keys with auth.invalid_key and keeps serving", async () => {
    const hostile = [
      "' OR '1'='1",
      "lsh_' OR 1=1; --_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      `lsh_${validKeyId}_'; DROP TABLE api_keys; --aaaaaaa`,
      `${validKey}' OR '1'='1`,
      "lsh_" + "a".repeat(64 * 1024),
      validKey.slice(0, 20) + "\0" + validKey.slice(21),
      "\0".repeat(49),
    ];
    for (const api_key of hostile) {
      const res = await call(client, { api_key });
      assert.equal(res.code, "auth.invalid_key", `input starting ${JSON.stringify(api_key.slice(0, 30))}`);
    }
    // Bytes that are not UTF-8 cannot be sent through a JS string; encode the message by hand.
    const invalidUtf8 = [
      Buffer.concat([Buffer.from(`lsh_${validKeyId}_`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.alloc(28, 0x61)]),
      Buffer.from([0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80]),
    ];
    for (const bytes of invalidUtf8) {
      const body = Buffer.concat([lengthDelimited(1, bytes), lengthDelimited(2, Buffer.from("openai"))]);
      const res = await authorizeRaw(client, body);
      assert.equal(res.code, "auth.invalid_key");
    }
    // Still up, and the table the SQL fragments aimed at is intact.
    assert.equal((await call(client, { api_key: validKey })).decision, "ALLOW");
    const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM api_keys");
    assert.ok(Number(rows[0]!.n) >= 2);
  });

  it("survives a hostile request_id and still logs the request", async () => {
    const request_id = "rid\0" + "x".repeat(64 * 1024);
    const res = await call(client, { api_key: validKey, request_id });
    assert.equal(res.decision, "ALLOW");
    const row = await eventually(async () => {
      const { rows } = await db.query<{ request_id: string }>(
        "SELECT request_id FROM request_log WHERE request_id LIKE 'ridxxx%' LIMIT 1",
      );
      return rows[0];
    });
    assert.ok(row.request_id.length <= 128, "request_id is capped");
  });

  it("writes request_log rows asynchronously", async () => {
    const allowId = `allow-${RUN}`;
    const denyId = `deny-${RUN}`;
    await call(client, { api_key: validKey, request_id: allowId, provider: "mock" });
    await call(client, { api_key: "garbage", request_id: denyId, provider: "mock" });
    const rows = await eventually(async () => {
      const res = await db.query<Record<string, string | null>>(
        "SELECT request_id, tenant_id, key_id, provider, decision, code FROM request_log WHERE request_id = ANY($1::text[]) ORDER BY id",
        [[allowId, denyId]],
      );
      return res.rows.length === 2 ? res.rows : undefined;
    });
    assert.deepEqual(rows, [
      { request_id: allowId, tenant_id: tenantId, key_id: validKeyId, provider: "mock", decision: "ALLOW", code: null },
      { request_id: denyId, tenant_id: null, key_id: null, provider: "mock", decision: "DENY", code: "auth.invalid_key" },
    ]);
    await eventually(async () => {
      const { rows: keys } = await db.query("SELECT 1 FROM api_keys WHERE key_id = $1 AND last_used_at IS NOT NULL", [
        validKeyId,
      ]);
      return keys[0];
    });
  });

  it("counts requests per tenant per minute in Redis", async () => {
    const counterSum = async (fromMinute: number, toMinute: number) => {
      let sum = 0;
      for (let m = fromMinute; m <= toMinute; m++) sum += Number((await redisKeys.redis.get(`${redisKeys.prefix}req:${tenantId}:${m}`)) ?? 0);
      return sum;
    };
    const m0 = Math.floor(Date.now() / 60_000);
    const beforeCount = await counterSum(m0, m0);
    await call(client, { api_key: validKey });
    const m1 = Math.floor(Date.now() / 60_000);
    assert.equal(await counterSum(m0, m1), beforeCount + 1);
    const ttl = await redisKeys.redis.ttl(`${redisKeys.prefix}req:${tenantId}:${m1}`);
    assert.ok(ttl > 0 && ttl <= 120, `counter expires (ttl ${ttl})`);
  });

  it("serves /health", async () => {
    const res = await fetch(`${httpBase}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok", db: "ok", store: "ok" });
  });

  it("exposes moving counters on /metrics", async () => {
    const scrape = async () => (await fetch(`${httpBase}/metrics`)).text();
    const beforeText = await scrape();
    await call(client, { api_key: validKey });
    await call(client, { api_key: "" });
    const text = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      metricValue(text, name, labels) - metricValue(beforeText, name, labels);
    assert.equal(delta("leash_sidecar_grpc_requests_total", { method: "Authorize", code: "OK" }), 2);
    assert.equal(delta("leash_sidecar_auth_decisions_total", { decision: "ALLOW", code: "ok" }), 1);
    assert.equal(delta("leash_sidecar_auth_decisions_total", { decision: "DENY", code: "auth.missing_key" }), 1);
    assert.equal(delta("leash_sidecar_grpc_duration_seconds_count", { method: "Authorize" }), 2);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  it("migrates safely when two sidecars start at once", async () => {
    const race = await createTestSchema("grpc_race", RUN);
    const a = race.open();
    const b = race.open();
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      // Exactly one of them applied the migrations; the other waited on the lock and found none left.
      const all = loadMigrations().map((m) => m.version);
      assert.deepEqual([ra, rb].map((r) => r.length).sort(), [0, all.length]);
      const { rows } = await a.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      assert.deepEqual(rows.map((r) => r.version), all);
      assert.deepEqual(await migrate(a), []);
    } finally {
      await race.drop(); // closes a and b first
    }
  });

  it("answers UNAVAILABLE when the database fails, and counts it", async () => {
    const failingDb: Db = {
      kind: "postgres",
      query: () => Promise.reject(new Error("connection refused")),
      exec: () => Promise.reject(new Error("connection refused")),
      transaction: () => Promise.reject(new Error("connection refused")),
      ping: () => Promise.reject(new Error("connection refused")),
      close: async () => {},
    };
    const registry = new Registry();
    const broken = createSidecar({ db: failingDb, store, registry, config: testConfig(), env: ENV, pepper: PEPPER });
    const ports = await broken.start();
    const c = authorizeClient(ports.grpcPort);
    try {
      // A key id never seen before, so the cache cannot answer and the database is asked.
      await assert.rejects(call(c, { api_key: generateApiKey().key }), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.UNAVAILABLE);
        assert.match(err.details, /^sidecar\.db_unavailable/);
        assert.ok(!err.details.includes("connection refused"), "cause stays in the log");
        return true;
      });
      const health = await fetch(`http://127.0.0.1:${ports.httpPort}/health`);
      assert.equal(health.status, 503);
      assert.equal(((await health.json()) as { db: string }).db, "unavailable");
      const text = await registry.metrics();
      assert.equal(metricValue(text, "leash_sidecar_grpc_requests_total", { method: "Authorize", code: "UNAVAILABLE" }), 1);
    } finally {
      c.close();
      await broken.stop();
    }
  });
});
