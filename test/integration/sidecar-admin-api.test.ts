// The admin API (sidecar-services/src/admin-api.ts) over real HTTP, against real PostgreSQL and
// Redis: authentication, every endpoint's happy path, validation errors naming the field, 404s,
// hostile inputs (huge bodies, non-JSON, SQL fragments, control characters) that must never give a
// 5xx, full keys shown only at creation and rotation, credentials never returned, and revocation
// through the admin API seen at once by another sidecar that had the key cached (shared Redis).
// Finally, every log line written by both sidecars is scanned for the secrets used.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
//   LEASH_TEST_REDIS_URL     default redis://127.0.0.1:6379/0
//
// Isolation: a fresh Postgres schema and a fresh Redis key prefix per run, both removed afterwards
// (test/support/pg-schema.ts, test/support/redis-prefix.ts).
import type * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { createAdminServer } from "../../sidecar-services/src/admin-api.ts";
import type { Db } from "../../sidecar-services/src/db.ts";
import { ADMIN_ERRORS } from "../../sidecar-services/src/errors.ts";
import type { KvStore } from "../../sidecar-services/src/kv-store.ts";
import { createJsonLogger, silentLogger } from "../../sidecar-services/src/logger.ts";
import { createKeyRing, type KeyRing } from "../../sidecar-services/src/master-key.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { authorize, authorizeClient, type AuthorizeResponse } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";
import { waitFor } from "./envoy-harness.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const TOKEN = randomBytes(32).toString("hex");
const MASTER_KEY = randomBytes(32);
const ENV = { ADMIN_TEST_OPENAI_KEY: "sk-env-openai-admin-test-000001" };
const SHARED_CRED = "sk-proj-SHAREDsharedSHARED0001abcd";
const TENANT_CRED = "sk-ant-api03-TENANTtenantTENANT0002wxyz";

function testConfig() {
  return sidecarTestConfig({
    sidecar: { database_url: TEST_DATABASE_URL, redis_url: TEST_REDIS_URL },
    providers: [
      { name: "openai", api: "openai", api_key_env: "ADMIN_TEST_OPENAI_KEY" },
      { name: "anthropic", api: "anthropic" },
      { name: "mock", api: "openai" },
    ],
  });
}

interface ApiResponse {
  status: number;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
  headers: Headers;
}

describe("admin API (PostgreSQL + Redis)", () => {
  let schema: TestSchema;
  let redisKeys: TestKeyPrefix;
  let dbA: Db;
  let dbB: Db;
  let storeA: KvStore;
  let storeB: KvStore;
  let sidecarA: Sidecar;
  let sidecarB: Sidecar;
  let clientB: grpc.Client;
  let base: string;
  const logLines: string[] = [];
  /** Every secret this file creates or uses; none may ever appear in a log line. */
  const secrets: string[] = [TOKEN, PEPPER, MASTER_KEY.toString("hex"), MASTER_KEY.toString("base64"), SHARED_CRED, TENANT_CRED, ENV.ADMIN_TEST_OPENAI_KEY];
  let clock = Date.now();

  async function api(
    method: string,
    path: string,
    body?: unknown,
    opts: { token?: string | null; raw?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? TOKEN : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | Blob | undefined = typeof opts.raw === "string" || opts.raw === undefined ? opts.raw : new Blob([Uint8Array.from(opts.raw)]);
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(base + path, { method, headers, body: payload });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, headers: res.headers };
  }

  function expectError(res: ApiResponse, status: number, code: string, messagePattern?: RegExp): void {
    assert.equal(res.status, status, res.text);
    assert.equal(res.json?.error?.code, code, res.text);
    assert.equal(typeof res.json.error.message, "string");
    if (messagePattern) assert.match(res.json.error.message, messagePattern);
  }

  function authorizeB(api_key: string, providerName = "openai"): Promise<AuthorizeResponse> {
    return authorize(clientB, { api_key, provider: providerName, request_id: `adm-${randomBytes(4).toString("hex")}` });
  }

  before(async () => {
    schema = await createTestSchema("admin", RUN);
    dbA = await schema.openMigrated();
    dbB = schema.open();
    // Two connections with one prefix: the two sidecars share Redis the way two replicas do.
    redisKeys = createTestKeyPrefix("admin", RUN);
    storeA = await redisKeys.openStore();
    storeB = await redisKeys.openStore();
    const log = createJsonLogger({ level: "debug", write: (line) => logLines.push(line) });
    const ring = createKeyRing([{ id: "test-key", key: MASTER_KEY }]);
    const common = { registry: new Registry(), config: testConfig(), env: ENV, pepper: PEPPER, ring, log, now: () => clock };
    sidecarA = createSidecar({ ...common, db: dbA, store: storeA, adminToken: TOKEN });
    sidecarB = createSidecar({ ...common, registry: new Registry(), db: dbB, store: storeB });
    const portsA = await sidecarA.start();
    const portsB = await sidecarB.start();
    assert.ok(portsA.adminPort !== null && portsA.adminPort > 0);
    assert.equal(portsB.adminPort, null, "no admin API without a token");
    base = `http://127.0.0.1:${portsA.adminPort}/admin/v1`;
    clientB = authorizeClient(portsB.grpcPort);
  });

  after(async () => {
    clientB?.close();
    await sidecarA?.stop();
    await sidecarB?.stop();
    await redisKeys?.cleanup();
    await schema?.drop();
  });

  describe("authentication", () => {
    it("refuses a missing, wrong or malformed token with 401 admin.unauthorized, before routing", async () => {
      const attempts: [string, Record<string, string>][] = [
        ["missing", {}],
        ["wrong", { authorization: `Bearer ${randomBytes(32).toString("hex")}` }],
        ["prefix of the token", { authorization: `Bearer ${TOKEN.slice(0, 32)}` }],
        ["token plus a byte", { authorization: `Bearer ${TOKEN}0` }],
        ["Basic scheme", { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString("base64")}` }],
        ["token without scheme", { authorization: TOKEN }],
        ["token in another header", { "x-api-key": TOKEN }],
      ];
      for (const [name, headers] of attempts) {
        for (const [method, path] of [
          ["GET", "/tenants"],
          ["POST", "/tenants"],
          ["GET", "/no/such/route"],
          ["DELETE", "/credentials"],
        ] as const) {
          const res = await api(method, path, undefined, { token: null, headers });
          expectError(res, 401, "admin.unauthorized");
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/, name);
        }
      }
    });

    it("is not served on the sidecar's public ports", async () => {
      const addr = sidecarA.http.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${addr.port}/admin/v1/tenants`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 404);
      await res.arrayBuffer();
    });
  });

  describe("tenants", () => {
    it("POST /tenants creates a tenant (id derived from the name or given) → 201", async () => {
      const res = await api("POST", "/tenants", { name: `Acme ${RUN}`, allowed_providers: ["openai", "anthropic"], allowed_models: ["gpt-4o*"] });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.id, `acme-${RUN}`);
      assert.equal(res.json.name, `Acme ${RUN}`);
      assert.equal(res.json.status, "active");
      assert.deepEqual(res.json.allowed_providers, ["openai", "anthropic"]);
      assert.deepEqual(res.json.allowed_models, ["gpt-4o*"]);
      assert.deepEqual(res.json.module_settings, {});
      assert.ok(!Number.isNaN(Date.parse(res.json.created_at)));

      const explicit = await api("POST", "/tenants", { name: "Globex Corporation", id: `globex-${RUN}` });
      assert.equal(explicit.status, 201);
      assert.deepEqual([explicit.json.id, explicit.json.allowed_providers, explicit.json.allowed_models], [`globex-${RUN}`, [], []]);
    });

    it("POST /tenants refuses duplicates (409) and invalid fields (400 naming the field)", async () => {
      expectError(await api("POST", "/tenants", { name: `Acme ${RUN}` }), 409, "admin.conflict", /already exists/);
      const cases: [unknown, RegExp][] = [
        [{}, /^name: is required/],
        [{ name: "" }, /^name: must be 1-200 characters/],
        [{ name: 42 }, /^name: must be a string/],
        [{ name: "x".repeat(201) }, /^name: must be 1-200/],
        [{ name: "bad\u0000name" }, /^name: must not contain control characters/],
        [{ name: "ok", id: "Not_An_Id" }, /^id: must match/],
        [{ name: "ok", id: "x'; DROP TABLE tenants; --" }, /^id: must match/],
        [{ name: "!!!" }, /^id: cannot be derived from name/],
        [{ name: "ok", allowed_providers: "openai" }, /^allowed_providers: must be a list/],
        [{ name: "ok", allowed_providers: ["openai", "nope"] }, /^allowed_providers\[1\]: unknown provider "nope"/],
        [{ name: "ok", allowed_providers: ["Open AI"] }, /^allowed_providers\[0\]: must be a provider name/],
        [{ name: "ok", allowed_models: ["gpt-4o", "bad model"] }, /^allowed_models\[1\]: must be a model name/],
        [{ name: "ok", allowed_models: ["a*b"] }, /^allowed_models\[0\]:/],
        [{ name: "ok", allowed_models: Array.from({ length: 1001 }, (_, i) => `m${i}`) }, /^allowed_models: must have at most 1000/],
        [{ name: "ok", status: "active" }, /^"status": unknown field/],
        [["name", "ok"], /^body: must be a JSON object/],
        ["just a string", /^body: must be a JSON object/],
      ];
      for (const [body, pattern] of cases) expectError(await api("POST", "/tenants", body), 400, "admin.invalid_request", pattern);
    });

    it("GET /tenants lists, GET /tenants/:id reads, unknown ids are 404", async () => {
      const list = await api("GET", "/tenants");
      assert.equal(list.status, 200);
      const ids = (list.json.tenants as { id: string }[]).map((t) => t.id);
      assert.ok(ids.includes(`acme-${RUN}`) && ids.includes(`globex-${RUN}`));
      assert.deepEqual([...ids].sort(), ids, "ordered by id");

      const one = await api("GET", `/tenants/acme-${RUN}`);
      assert.equal(one.status, 200);
      assert.equal(one.json.id, `acme-${RUN}`);
      for (const id of ["nope", "x' OR '1'='1", "%00", "a".repeat(300), "ACME", "..%2F..%2Fetc"]) {
        expectError(await api("GET", `/tenants/${encodeURIComponent(id)}`), 404, "admin.not_found");
      }
    });

    it("PATCH /tenants/:id changes status and policy; invalid fields are 400, unknown tenants 404", async () => {
      const res = await api("PATCH", `/tenants/globex-${RUN}`, {
        allowed_providers: ["mock"],
        allowed_models: ["llama3:8b", "claude-3-5*"],
        module_settings: { quota: { rpm: 60 } },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.allowed_providers, ["mock"]);
      assert.deepEqual(res.json.allowed_models, ["llama3:8b", "claude-3-5*"]);
      assert.deepEqual(res.json.module_settings, { quota: { rpm: 60 } });
      assert.equal(res.json.status, "active", "absent fields stay");

      const cleared = await api("PATCH", `/tenants/globex-${RUN}`, { allowed_providers: [] });
      assert.deepEqual(cleared.json.allowed_providers, []);
      assert.deepEqual(cleared.json.allowed_models, ["llama3:8b", "claude-3-5*"]);
      assert.equal(cleared.json.retention_days, null, "no retention of its own: the gateway default");

      // Ledger retention: days, 0 = forever, null = back to the default; other fields keep theirs.
      assert.equal((await api("PATCH", `/tenants/globex-${RUN}`, { retention_days: 30 })).json.retention_days, 30);
      const forever = await api("PATCH", `/tenants/globex-${RUN}`, { retention_days: 0 });
      assert.equal(forever.json.retention_days, 0);
      assert.deepEqual(forever.json.allowed_models, ["llama3:8b", "claude-3-5*"]);
      assert.equal((await api("PATCH", `/tenants/globex-${RUN}`, { status: "active" })).json.retention_days, 0, "absent: unchanged");
      assert.equal((await api("PATCH", `/tenants/globex-${RUN}`, { retention_days: null })).json.retention_days, null);

      const cases: [unknown, RegExp][] = [
        [{}, /^body: give at least one of/],
        [{ status: "paused" }, /^status: must be "active" or "disabled"/],
        [{ module_settings: [1, 2] }, /^module_settings: must be a JSON object/],
        [{ module_settings: { deep: JSON.parse("[".repeat(40) + "]".repeat(40)) } }, /^module_settings: must be nested at most/],
        [{ module_settings: { nul: "a\u0000b" } }, /^module_settings: must not contain NUL/],
        [{ module_settings: { redact: { entities: { email: "drop" } } } }, /^module_settings: redact\.entities\.email: action must be one of/],
        [{ module_settings: { injection: { threshold: 2 } } }, /^module_settings: injection\.threshold: must be a number in 0\.\.1/],
        [{ name: "renamed" }, /^"name": unknown field/],
        [{ retention_days: 3651 }, /^retention_days: must be an integer in 0\.\.3650/],
        [{ retention_days: "30" }, /^retention_days: must be an integer/],
      ];
      for (const [body, pattern] of cases) expectError(await api("PATCH", `/tenants/globex-${RUN}`, body), 400, "admin.invalid_request", pattern);
      expectError(await api("PATCH", "/tenants/no-such-tenant", { status: "disabled" }), 404, "admin.not_found");
    });
  });

  describe("keys", () => {
    let created: { key: string; key_id: string };

    it("POST /tenants/:id/keys → 201 with the full key, shown only here", async () => {
      const expiresAt = new Date(clock + 30 * 86_400_000).toISOString();
      const res = await api("POST", `/tenants/acme-${RUN}/keys`, { expires_at: expiresAt, limits: { rpm: 60 } });
      assert.equal(res.status, 201, res.text);
      assert.match(res.json.key, /^lsh_[a-z0-9]{12}_[A-Za-z0-9]{32}$/);
      assert.equal(res.json.key.slice(4, 16), res.json.key_id);
      assert.equal(res.json.tenant_id, `acme-${RUN}`);
      assert.equal(res.json.status, "active");
      assert.equal(res.json.expires_at, expiresAt);
      assert.deepEqual(res.json.limits, { rpm: 60 });
      created = res.json;
      secrets.push(created.key, created.key.slice(17));

      const plain = await api("POST", `/tenants/acme-${RUN}/keys`);
      assert.equal(plain.status, 201);
      assert.equal(plain.json.expires_at, null);
      assert.deepEqual(plain.json.limits, {});
      secrets.push(plain.json.key, plain.json.key.slice(17));

      const auth = await authorizeB(created.key, "openai");
      assert.equal(auth.decision, "ALLOW");
      assert.equal(auth.tenant_id, `acme-${RUN}`);
      assert.deepEqual(auth.allowed_models, ["gpt-4o*"]);
      assert.equal(auth.module_policy, "");
    });

    it("a tenant's guard policy reaches Authorize as module_policy at once, other module_settings keys left out", async () => {
      const settings = { quota: { rpm: 5 }, redact: { entities: { email: "block" } }, injection: { action: "flag", threshold: 0.4 } };
      const res = await api("PATCH", `/tenants/acme-${RUN}`, { module_settings: settings });
      assert.equal(res.status, 200, res.text);
      const auth = await authorizeB(created.key, "openai");
      assert.equal(auth.decision, "ALLOW");
      assert.deepEqual(JSON.parse(auth.module_policy), { redact: settings.redact, injection: settings.injection });
      // module_settings is a merge patch: null removes a section ({} would change nothing).
      const cleared = await api("PATCH", `/tenants/acme-${RUN}`, { module_settings: { quota: null, redact: null, injection: null } });
      assert.deepEqual(cleared.json.module_settings, {});
      assert.equal((await authorizeB(created.key, "openai")).module_policy, "");
    });

    it("a tenant's audit policy reaches Authorize as audit.enabled in module_policy, only while it is on", async () => {
      const redact = { entities: { email: "block" } };
      let res = await api("PATCH", `/tenants/acme-${RUN}`, { module_settings: { redact, audit: { enabled: true, retention_days: 7 } } });
      assert.equal(res.status, 200, res.text);
      // retention_days stays in the sidecar: the filters only need to know whether to capture.
      assert.deepEqual(JSON.parse((await authorizeB(created.key, "openai")).module_policy), { redact, audit: { enabled: true } });
      res = await api("PATCH", `/tenants/acme-${RUN}`, { module_settings: { redact: null } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.module_settings, { audit: { enabled: true, retention_days: 7 } });
      assert.deepEqual(JSON.parse((await authorizeB(created.key, "openai")).module_policy), { audit: { enabled: true } });
      res = await api("PATCH", `/tenants/acme-${RUN}`, { module_settings: { audit: { enabled: false } } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.module_settings, { audit: { enabled: false, retention_days: 7 } }, "merged field by field");
      assert.equal((await authorizeB(created.key, "openai")).module_policy, "", "audit off adds nothing");
      await api("PATCH", `/tenants/acme-${RUN}`, { module_settings: { audit: null } });
    });

    it("POST /tenants/:id/keys validates expires_at and limits, 404 for unknown tenants", async () => {
      const path = `/tenants/acme-${RUN}/keys`;
      const cases: [unknown, RegExp][] = [
        [{ expires_at: new Date(clock - 1000).toISOString() }, /^expires_at: must be in the future/],
        [{ expires_at: "2030-01-01" }, /^expires_at: must be an RFC 3339 timestamp/],
        [{ expires_at: "2030-01-01T00:00:00" }, /^expires_at: must be an RFC 3339 timestamp with a time zone/],
        [{ expires_at: "2030-13-45T99:99:99Z" }, /^expires_at: is not a valid date/],
        [{ expires_at: 1893456000 }, /^expires_at:/],
        [{ limits: "rpm=60" }, /^limits: must be a JSON object/],
        [{ limits: { big: "x".repeat(17_000) } }, /^limits: must be at most/],
        [{ tenant_id: "other" }, /^"tenant_id": unknown field/],
      ];
      for (const [body, pattern] of cases) expectError(await api("POST", path, body), 400, "admin.invalid_request", pattern);
      expectError(await api("POST", "/tenants/no-such-tenant/keys", {}), 404, "admin.not_found");
      expectError(await api("POST", `/tenants/${encodeURIComponent("x' OR 1=1 --")}/keys`, {}), 404, "admin.not_found");
    });

    it("GET /tenants/:id/keys lists metadata only; GET /keys/:id reads one", async () => {
      const res = await api("GET", `/tenants/acme-${RUN}/keys`);
      assert.equal(res.status, 200);
      assert.ok(res.json.keys.length >= 2);
      for (const k of res.json.keys) {
        assert.deepEqual(Object.keys(k).sort(), [
          "created_at",
          "expired",
          "expires_at",
          "key_id",
          "last_used_at",
          "limits",
          "previous_secret_expires_at",
          "revoked_at",
          "rotated_at",
          "status",
          "tenant_id",
        ]);
      }
      assert.ok(!res.text.includes(created.key.slice(17)), "no secret in a listing");
      const one = await api("GET", `/keys/${created.key_id}`);
      assert.equal(one.status, 200);
      assert.equal(one.json.key_id, created.key_id);
      assert.equal(one.json.key, undefined);
      expectError(await api("GET", "/tenants/no-such-tenant/keys"), 404, "admin.not_found");
      expectError(await api("GET", "/keys/aaaaaaaaaaaa"), 404, "admin.not_found");
      expectError(await api("GET", `/keys/${encodeURIComponent("'; DELETE FROM api_keys; --")}`), 404, "admin.not_found");
    });

    it("POST /keys/:id/rotate → new secret, same key id, old one valid during the grace", async () => {
      const res = await api("POST", `/keys/${created.key_id}/rotate`, { grace_seconds: 120 });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.key_id, created.key_id);
      assert.notEqual(res.json.key, created.key);
      assert.equal(res.json.key.slice(4, 16), created.key_id);
      assert.equal(res.json.previous_secret_expires_at, new Date(clock + 120_000).toISOString());
      assert.ok(res.json.rotated_at);
      secrets.push(res.json.key, res.json.key.slice(17));
      assert.equal((await authorizeB(res.json.key)).decision, "ALLOW");
      const viaOld = await authorizeB(created.key);
      assert.equal(viaOld.decision, "ALLOW");
      assert.ok(viaOld.cache_ttl_ms <= 1000);

      clock += 121_000;
      assert.equal((await authorizeB(created.key)).code, "auth.invalid_key", "old secret refused after the grace");
      assert.equal((await authorizeB(res.json.key)).decision, "ALLOW");
      created = res.json;

      const defaulted = await api("POST", `/keys/${created.key_id}/rotate`);
      assert.equal(defaulted.status, 200);
      assert.equal(defaulted.json.previous_secret_expires_at, new Date(clock + 3600_000).toISOString(), "default grace is 1 h");
      secrets.push(defaulted.json.key, defaulted.json.key.slice(17));
      created = defaulted.json;
    });

    it("POST /keys/:id/rotate validates grace_seconds and answers 404 / 409", async () => {
      for (const grace of [-1, 30 * 86_400 + 1, 1.5, "60"]) {
        expectError(await api("POST", `/keys/${created.key_id}/rotate`, { grace_seconds: grace }), 400, "admin.invalid_request", /^grace_seconds:/);
      }
      expectError(await api("POST", "/keys/aaaaaaaaaaaa/rotate", {}), 404, "admin.not_found");
      expectError(await api("POST", "/keys/not-a-key-id/rotate", {}), 404, "admin.not_found");
    });

    it("POST /keys/:id/revoke is seen at once by another sidecar that had the key cached (shared Redis)", async () => {
      // Sidecar B answers (and caches the record for 1 s) …
      assert.equal((await authorizeB(created.key)).decision, "ALLOW");
      assert.ok(await redisKeys.redis.exists(`${redisKeys.prefix}key:${created.key_id}`), "B has cached the record");
      // … sidecar A's admin API revokes …
      const res = await api("POST", `/keys/${created.key_id}/revoke`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.status, "revoked");
      assert.ok(res.json.revoked_at);
      // … and B refuses the very next request, well inside the cache TTL.
      const denied = await authorizeB(created.key);
      assert.equal(denied.code, "auth.key_revoked");
      assert.equal(denied.http_status, 401);

      const again = await api("POST", `/keys/${created.key_id}/revoke`);
      assert.equal(again.status, 200, "idempotent");
      assert.equal(again.json.revoked_at, res.json.revoked_at);
      expectError(await api("POST", `/keys/${created.key_id}/rotate`, {}), 409, "admin.conflict", /revoked/);
      expectError(await api("POST", "/keys/aaaaaaaaaaaa/revoke"), 404, "admin.not_found");
      expectError(await api("POST", `/keys/${created.key_id}/revoke`, { reason: "x" }), 400, "admin.invalid_request", /unknown field/);
    });

    it("PATCH status=disabled is seen at once by the other sidecar (403), and re-enabling restores the keys", async () => {
      const k = await api("POST", `/tenants/globex-${RUN}/keys`, {});
      secrets.push(k.json.key, k.json.key.slice(17));
      assert.equal((await authorizeB(k.json.key, "mock")).decision, "ALLOW");
      assert.equal((await api("PATCH", `/tenants/globex-${RUN}`, { status: "disabled" })).status, 200);
      const denied = await authorizeB(k.json.key, "mock");
      assert.equal(denied.code, "auth.tenant_disabled");
      assert.equal(denied.http_status, 403);
      assert.equal((await api("PATCH", `/tenants/globex-${RUN}`, { status: "active", allowed_providers: ["anthropic"] })).status, 200);
      assert.equal((await authorizeB(k.json.key, "mock")).code, "auth.provider_not_allowed");
      assert.equal((await authorizeB(k.json.key, "anthropic")).decision, "ALLOW");
    });
  });

  describe("module_settings patches (merged on the server, per section and field)", () => {
    const tenant = `merge-${RUN}`;
    const path = `/tenants/${tenant}`;
    let key: string;
    const patch = (moduleSettings: unknown, extra: Record<string, unknown> = {}) => api("PATCH", path, { ...extra, module_settings: moduleSettings });
    const policyB = async (): Promise<Record<string, unknown>> => {
      const res = await authorizeB(key, "openai");
      assert.equal(res.decision, "ALLOW");
      return res.module_policy === "" ? {} : JSON.parse(res.module_policy);
    };

    before(async () => {
      assert.equal((await api("POST", "/tenants", { name: "Merge", id: tenant })).status, 201);
      key = (await api("POST", `${path}/keys`, {})).json.key;
      secrets.push(key, key.slice(17));
    });

    it("a section PATCH changes that section only; fields merge, null removes a field or a section; seen at once by another sidecar", async () => {
      let res = await patch({ redact: { entities: { email: "block" }, responses: false }, quota: { rpm: 5 }, vendor_x: { list: [1, 2] } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(await policyB(), { redact: { entities: { email: "block" }, responses: false } });
      res = await patch({ audit: { enabled: true } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.module_settings, {
        redact: { entities: { email: "block" }, responses: false }, quota: { rpm: 5 }, vendor_x: { list: [1, 2] }, audit: { enabled: true },
      });
      // The PATCH drops the tenant's entry in the shared cache: the other sidecar answers with the new policy.
      assert.deepEqual(await policyB(), { redact: { entities: { email: "block" }, responses: false }, audit: { enabled: true } });

      res = await patch({ redact: { entities: { card: "mask", email: null }, responses: null, enabled: false } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.module_settings.redact, { entities: { card: "mask" }, enabled: false });
      assert.deepEqual((await policyB()).redact, { entities: { card: "mask" }, enabled: false });

      res = await patch({ vendor_x: { list: [3] }, quota: null });
      assert.equal(res.status, 200, res.text);
      const expected = { redact: { entities: { card: "mask" }, enabled: false }, vendor_x: { list: [3] }, audit: { enabled: true } };
      assert.deepEqual(res.json.module_settings, expected, "arrays replace whole; null removes a section");
      for (const nothing of [{}, null]) {
        res = await patch(nothing, { retention_days: 9 });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.json.module_settings, expected, `${JSON.stringify(nothing)} changes no section`);
      }
      assert.deepEqual([res.json.status, res.json.retention_days], ["active", 9], "other fields of the same PATCH apply");
      assert.deepEqual((await patch({ redact: null, vendor_x: null, audit: null })).json.module_settings, {});
    });

    it("concurrent PATCHes of different sections, and of one section's fields, all survive while they queue on the tenant row", async () => {
      assert.equal((await patch({ redact: { entities: { email: "block" } } })).status, 200);
      // Hold the tenant's row so that every PATCH below has read (or tried to) before any of them
      // writes: a server that merges outside the lock, or a PATCH that replaces module_settings
      // whole, would keep only the last writer's change.
      const blocker = schema.open();
      let pending: Promise<ApiResponse>[] = [];
      await blocker.transaction(async (tx) => {
        await tx.query("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE", [tenant]);
        const pid = (await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        pending = [
          patch({ audit: { enabled: true, retention_days: 9 } }),
          patch({ injection: { action: "flag", threshold: 0.3 } }),
          patch({ redact: { entities: { card: "mask" } } }),
          // The /limits route writes module_settings.quota in one statement; it queues on the same row.
          api("PATCH", `${path}/limits`, { rpm: 42 }),
        ];
        await waitFor("4 PATCHes waiting on the locked tenant row", async () => {
          // Sessions blocked by the blocker, directly or behind another waiter in the row's queue.
          const { rows } = await dbB.query<{ n: number }>(
            `WITH RECURSIVE waiting(pid) AS (
               SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
               UNION SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY(pg_blocking_pids(a.pid)))
             SELECT count(*)::int AS n FROM waiting`, [pid]);
          return rows[0]!.n >= pending.length ? true : undefined;
        });
      });
      for (const res of await Promise.all(pending)) assert.equal(res.status, 200, res.text);
      const settings = (await api("GET", path)).json.module_settings;
      assert.deepEqual(settings, {
        redact: { entities: { email: "block", card: "mask" } },
        injection: { action: "flag", threshold: 0.3 },
        audit: { enabled: true, retention_days: 9 },
        quota: { rpm: 42 },
      });
      assert.deepEqual(await policyB(), { redact: settings.redact, injection: settings.injection, audit: { enabled: true } });
      assert.deepEqual((await patch({ redact: null, injection: null, audit: null, quota: null })).json.module_settings, {});
    });

    it("an invalid section is a 400 in the same words as before, and nothing of that PATCH is applied", async () => {
      assert.equal((await patch({ audit: { enabled: true } })).status, 200);
      const before = (await api("GET", path)).json;
      const cases: [unknown, RegExp][] = [
        [{ redact: { entities: { email: "drop" } } }, /^module_settings: redact\.entities\.email: action must be one of mask, hash, block, allow$/],
        [{ redact: "on" }, /^module_settings: redact: must be an object$/],
        [{ redact: { enabled: null, colour: "red" } }, /^module_settings: redact\.colour: unknown key/],
        [{ injection: { action: null, threshold: 7 } }, /^module_settings: injection\.threshold: must be a number in 0\.\.1$/],
        [{ audit: { retention_days: 0 } }, /^module_settings: audit\.retention_days: must be an integer in 1\.\.3650$/],
        [{ quota: { rpm: null, tpm: -1 } }, /^module_settings\.quota\.tpm: /],
        [{ audit: [true] }, /^module_settings: audit: must be an object$/],
        [[{ audit: null }], /^module_settings: must be a JSON object$/],
      ];
      for (const [body, pattern] of cases) {
        expectError(await patch(body, { status: "disabled" }), 400, "admin.invalid_request", pattern);
      }
      assert.deepEqual((await api("GET", path)).json, before, "a refused PATCH changes nothing, not even its valid fields");

      // The size limit holds for the merged settings too, not only for one patch.
      assert.equal((await patch({ blob_a: "a".repeat(9000) })).status, 200);
      expectError(await patch({ blob_b: "b".repeat(9000) }), 400, "admin.invalid_request", /^module_settings: must be at most 16384 bytes once merged/);
      assert.equal((await patch({ blob_a: null, blob_b: "b".repeat(9000) })).status, 200, "replacing one fits");

      // A stored section that an older sidecar let through does not block changes to other
      // sections; changing that section checks what it would become.
      await dbA.query(`UPDATE tenants SET module_settings = module_settings || '{"injection": {"action": "warn"}}' WHERE id = $1`, [tenant]);
      assert.equal((await patch({ audit: { enabled: false } })).status, 200);
      expectError(await patch({ injection: { threshold: 0.5 } }), 400, "admin.invalid_request", /^module_settings: injection\.action: must be one of flag, block$/);
      assert.equal((await patch({ injection: { action: "block" } })).status, 200);
      assert.deepEqual((await patch({ blob_b: null, injection: null, audit: null })).json.module_settings, {});
    });
  });

  describe("credentials", () => {
    it("PUT /credentials stores shared and per-tenant credentials encrypted; answers metadata only", async () => {
      const shared = await api("PUT", "/credentials", { tenant_id: null, provider: "openai", api_key: SHARED_CRED });
      assert.equal(shared.status, 200, shared.text);
      assert.deepEqual(
        { ...shared.json, created_at: undefined, updated_at: undefined },
        { tenant_id: null, provider: "openai", master_key_id: "test-key", hint: "sk-…abcd", created_at: undefined, updated_at: undefined },
      );
      assert.ok(!shared.text.includes(SHARED_CRED.slice(0, -4)));

      const own = await api("PUT", "/credentials", { tenant_id: `acme-${RUN}`, provider: "anthropic", api_key: TENANT_CRED });
      assert.equal(own.status, 200);
      assert.equal(own.json.hint, "sk-…wxyz");

      const { rows } = await dbA.query<{ ciphertext: Uint8Array }>("SELECT ciphertext FROM provider_credentials");
      for (const r of rows) {
        const stored = Buffer.from(r.ciphertext).toString("latin1");
        assert.ok(!stored.includes(SHARED_CRED) && !stored.includes(TENANT_CRED), "stored encrypted");
      }

      const k = await api("POST", `/tenants/acme-${RUN}/keys`, {});
      secrets.push(k.json.key, k.json.key.slice(17));
      assert.equal((await authorizeB(k.json.key, "openai")).upstream_auth_value, `Bearer ${SHARED_CRED}`);
      assert.equal((await authorizeB(k.json.key, "anthropic")).upstream_auth_value, TENANT_CRED);

      // Replacing is an upsert, seen at once through the shared cache.
      const replaced = `${SHARED_CRED.slice(0, -4)}efgh`;
      secrets.push(replaced);
      assert.equal((await api("PUT", "/credentials", { tenant_id: null, provider: "openai", api_key: replaced })).status, 200);
      assert.equal((await authorizeB(k.json.key, "openai")).upstream_auth_value, `Bearer ${replaced}`);
    });

    it("GET /credentials lists metadata only: all, shared (tenant_id=) or one tenant's", async () => {
      const all = await api("GET", "/credentials");
      assert.equal(all.status, 200);
      assert.deepEqual(
        (all.json.credentials as { tenant_id: string | null; provider: string }[]).map((c) => [c.tenant_id, c.provider]),
        [
          [null, "openai"],
          [`acme-${RUN}`, "anthropic"],
        ],
      );
      for (const secret of [SHARED_CRED, TENANT_CRED]) assert.ok(!all.text.includes(secret.slice(0, 12)), "no credential in a listing");
      for (const c of all.json.credentials) {
        assert.deepEqual(Object.keys(c).sort(), ["created_at", "hint", "master_key_id", "provider", "tenant_id", "updated_at"]);
      }
      assert.deepEqual((await api("GET", "/credentials?tenant_id=")).json.credentials.map((c: { provider: string }) => c.provider), ["openai"]);
      assert.deepEqual(
        (await api("GET", `/credentials?tenant_id=acme-${RUN}`)).json.credentials.map((c: { provider: string }) => c.provider),
        ["anthropic"],
      );
      expectError(await api("GET", "/credentials?tenant_id=no-such-tenant"), 404, "admin.not_found");
      expectError(await api("GET", `/credentials?tenant_id=${encodeURIComponent("' OR 1=1 --")}`), 404, "admin.not_found");
      expectError(await api("GET", "/credentials?tenant=x"), 400, "admin.invalid_request", /unknown query parameter/);
    });

    it("PUT /credentials validates every field and never echoes the credential", async () => {
      const hostileKey = "sk-abc\r\nx-injected: yes";
      const cases: [unknown, RegExp][] = [
        [{ provider: "openai", api_key: "sk-x" }, /^tenant_id: is required/],
        [{ tenant_id: null, api_key: "sk-x" }, /^provider: is required/],
        [{ tenant_id: null, provider: "nope", api_key: "sk-x" }, /^provider: unknown provider "nope"/],
        [{ tenant_id: null, provider: "openai" }, /^api_key: is required/],
        [{ tenant_id: null, provider: "openai", api_key: "" }, /^api_key: must be 1-4096 visible ASCII/],
        [{ tenant_id: null, provider: "openai", api_key: hostileKey }, /^api_key: must be 1-4096 visible ASCII/],
        [{ tenant_id: null, provider: "openai", api_key: "sk with space" }, /^api_key:/],
        [{ tenant_id: null, provider: "openai", api_key: "x".repeat(4097) }, /^api_key:/],
        [{ tenant_id: null, provider: "openai", api_key: 12345 }, /^api_key:/],
        [{ tenant_id: "Bad Id", provider: "openai", api_key: "sk-x" }, /^tenant_id: must match/],
        [{ tenant_id: 7, provider: "openai", api_key: "sk-x" }, /^tenant_id: must be a string/],
        [{ tenant_id: null, provider: "openai", api_key: "sk-x", extra: 1 }, /^"extra": unknown field/],
      ];
      for (const [body, pattern] of cases) {
        const res = await api("PUT", "/credentials", body);
        expectError(res, 400, "admin.invalid_request", pattern);
        assert.ok(!res.text.includes("injected"), "the credential is never echoed");
      }
      expectError(await api("PUT", "/credentials", { tenant_id: "no-such-tenant", provider: "openai", api_key: "sk-x" }), 404, "admin.not_found");
    });

    it("DELETE /credentials removes one (then 404); Authorize falls back to the env credential", async () => {
      expectError(await api("DELETE", "/credentials", { tenant_id: null }), 400, "admin.invalid_request", /^provider: is required/);
      expectError(await api("DELETE", "/credentials", { provider: "openai" }), 400, "admin.invalid_request", /^tenant_id: is required/);
      const res = await api("DELETE", "/credentials", { tenant_id: null, provider: "openai" });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { deleted: true, tenant_id: null, provider: "openai" });
      expectError(await api("DELETE", "/credentials", { tenant_id: null, provider: "openai" }), 404, "admin.not_found");
      const k = await api("POST", `/tenants/acme-${RUN}/keys`, {});
      secrets.push(k.json.key, k.json.key.slice(17));
      assert.equal((await authorizeB(k.json.key, "openai")).upstream_auth_value, `Bearer ${ENV.ADMIN_TEST_OPENAI_KEY}`);
    });

    /** Runs `fn` against a second admin server on the same database with another key ring. */
    async function withAdminServer(ring: KeyRing | null, fn: (call: (method: string, path: string, body?: unknown) => Promise<ApiResponse>) => Promise<void>) {
      const server = createAdminServer({ db: dbA, store: storeA, pepper: PEPPER, ring, token: TOKEN, providers: ["openai", "anthropic", "mock"], log: silentLogger });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const saved = base;
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/v1`;
      try {
        await fn(api);
      } finally {
        base = saved;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }

    it("without a master key, PUT /credentials and POST /credentials/reencrypt are 409 admin.no_master_key", async () => {
      await withAdminServer(null, async (call) => {
        expectError(await call("PUT", "/credentials", { tenant_id: null, provider: "openai", api_key: "sk-nomasterkey-000000000" }), 409, "admin.no_master_key");
        expectError(await call("POST", "/credentials/reencrypt"), 409, "admin.no_master_key");
      });
    });

    it("POST /credentials/reencrypt rewraps every credential under the current master key", async () => {
      const newKey = { id: "rotated-key", key: randomBytes(32) };
      secrets.push(newKey.key.toString("hex"), newKey.key.toString("base64"));
      const old = { id: "test-key", key: MASTER_KEY };
      await withAdminServer(createKeyRing([newKey, old]), async (call) => {
        const res = await call("POST", "/credentials/reencrypt");
        assert.equal(res.status, 200, res.text);
        assert.ok(res.json.total >= 1);
        assert.equal(res.json.rewrapped, res.json.total);
        assert.equal(res.json.master_key_id, "rotated-key");
        const listed = await call("GET", "/credentials");
        assert.ok(listed.json.credentials.every((c: { master_key_id: string }) => c.master_key_id === "rotated-key"));
        assert.equal((await call("POST", "/credentials/reencrypt", {})).json.rewrapped, 0, "idempotent");
      });
      // A ring that lacks the key the rows are under refuses, and changes nothing.
      await withAdminServer(createKeyRing([old]), async (call) => {
        expectError(await call("POST", "/credentials/reencrypt"), 409, "admin.conflict", /rotated-key, which is not in the key ring; nothing was re-encrypted/);
      });
      // Back under the key the running sidecars hold.
      await withAdminServer(createKeyRing([old, newKey]), async (call) => {
        assert.equal((await call("POST", "/credentials/reencrypt")).status, 200);
      });
      const k = await api("POST", `/tenants/acme-${RUN}/keys`, {});
      secrets.push(k.json.key, k.json.key.slice(17));
      assert.equal((await authorizeB(k.json.key, "anthropic")).upstream_auth_value, TENANT_CRED);
    });
  });

  describe("hostile and malformed requests never give a 5xx", () => {
    it("a body over the limit is 413 admin.payload_too_large (declared or streamed)", async () => {
      const huge = JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) });
      expectError(await api("POST", "/tenants", undefined, { raw: huge, headers: { "content-type": "application/json" } }), 413, "admin.payload_too_large");
      // Chunked (no content-length): the limit is enforced while reading.
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode("x".repeat(4096)));
          controller.close();
        },
      });
      const res = await fetch(`${base}/tenants`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: stream,
        duplex: "half",
      } as RequestInit & { duplex: "half" });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "admin.payload_too_large");
    });

    it("non-JSON, invalid UTF-8 and wrong JSON types are 400 admin.invalid_request", async () => {
      for (const raw of ["name=acme", "{", "{'name': 'x'}", "[1,2", Buffer.from([0x7b, 0x22, 0x6e, 0xff, 0xfe, 0x22, 0x7d]), "null", "42", '"s"']) {
        const res = await api("POST", "/tenants", undefined, { raw, headers: { "content-type": "application/json" } });
        expectError(res, 400, "admin.invalid_request", /^body: must be/);
      }
      // Deep nesting is refused cleanly, whatever the parser makes of it.
      const deep = `{"name":"x","allowed_models":${"[".repeat(5000)}${"]".repeat(5000)}}`;
      const res = await api("POST", "/tenants", undefined, { raw: deep });
      assert.equal(res.status, 400);
    });

    it("SQL fragments, NUL and odd bytes in path ids are 404, never 500", async () => {
      const ids = ["' OR '1'='1", "1; DROP TABLE tenants; --", "\u0000", "%", "é", "../../etc/passwd", "a".repeat(2000), "tenants"];
      for (const id of ids) {
        const enc = encodeURIComponent(id);
        for (const [method, path, body] of [
          ["GET", `/tenants/${enc}`, undefined],
          ["PATCH", `/tenants/${enc}`, { status: "disabled" }],
          ["GET", `/tenants/${enc}/keys`, undefined],
          ["POST", `/tenants/${enc}/keys`, {}],
          ["GET", `/keys/${enc}`, undefined],
          ["POST", `/keys/${enc}/rotate`, {}],
          ["POST", `/keys/${enc}/revoke`, undefined],
        ] as const) {
          const res = await api(method, path, body);
          assert.ok(res.status === 404 || res.status === 400, `${method} ${path.slice(0, 60)} → ${res.status} ${res.text.slice(0, 200)}`);
          assert.ok(res.json?.error?.code, "JSON error");
        }
      }
      // Malformed percent-encoding in the path.
      expectError(await api("GET", "/tenants/%E0%A4%A"), 404, "admin.not_found");
      // The tables the fragments aimed at are intact.
      assert.equal((await api("GET", `/tenants/acme-${RUN}`)).status, 200);
    });

    it("unknown routes are 404, wrong methods 405 with Allow, unknown query parameters 400", async () => {
      expectError(await api("GET", "/nope"), 404, "admin.not_found");
      expectError(await api("GET", ""), 404, "admin.not_found");
      expectError(await api("GET", "/tenants/a/b/c/d"), 404, "admin.not_found");
      const wrong = await api("DELETE", "/tenants");
      expectError(wrong, 405, "admin.method_not_allowed");
      assert.equal(wrong.headers.get("allow"), "POST, GET");
      expectError(await api("PUT", `/keys/aaaaaaaaaaaa/revoke`), 405, "admin.method_not_allowed");
      expectError(await api("GET", "/tenants?limit=5"), 400, "admin.invalid_request", /"limit": unknown query parameter/);
      const outside = await fetch(base.replace("/admin/v1", "/other"), { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(outside.status, 404);
      await outside.arrayBuffer();
    });

    it("answers JSON with no-store on every response", async () => {
      const res = await api("GET", "/tenants");
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(res.headers.get("cache-control"), "no-store");
    });
  });

  describe("registry", () => {
    it("every admin error code has a 4xx/5xx status and a message", () => {
      for (const [code, spec] of Object.entries(ADMIN_ERRORS)) {
        assert.match(code, /^admin\.[a-z_]+$/);
        assert.ok(spec.httpStatus >= 400 && spec.httpStatus <= 599, code);
        assert.ok(spec.message.length > 0);
      }
    });
  });

  describe("logs", () => {
    it("record admin mutations and where the admin API listens, and never a key, credential, token or pepper", async () => {
      await sidecarA.stop(); // flushes request_log and writes the last lines
      const text = logLines.join("");
      assert.ok(logLines.length > 20, "something was logged");
      assert.match(text, /"msg":"admin API listening","url":"http:\/\/127\.0\.0\.1:\d+\/admin\/v1"/);
      assert.match(text, /"msg":"admin: key revoked"/);
      assert.match(text, /"msg":"admin: provider credential set","tenant_id":"\*","provider":"openai","master_key_id":"test-key"/);
      for (const secret of secrets) {
        assert.ok(secret.length >= 16, "only distinctive strings are scanned");
        assert.ok(!text.includes(secret), `a log line contains a secret (${secret.slice(0, 6)}…)`);
      }
    });
  });
});
