// The Authorize decision (sidecar-services/src/authorize.ts) against real PostgreSQL and Redis, with
// an injected clock so expiry and rotation grace are driven without sleeping: expiry, rotation
// grace, disabled tenants, allowed providers, provider credential precedence (tenant > shared > env),
// cache_ttl_ms, allowed_models, the work done for unknown keys vs wrong secrets, cache invalidation,
// and re-encryption of stored credentials under a rotated master key.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
//   LEASH_TEST_REDIS_URL     default redis://127.0.0.1:6379/0
//
// Isolation: a fresh Postgres schema and a fresh Redis key prefix per run, both removed afterwards
// (test/support/pg-schema.ts, test/support/redis-prefix.ts).
import assert from "node:assert/strict";
import crypto, { randomBytes } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import { formatApiKey, generateApiKey, hashSecret } from "../../sidecar-services/src/api-key.ts";
import { createAuthorizer, type AuthorizeRequest, type AuthorizeResponse } from "../../sidecar-services/src/authorize.ts";
import { deleteCredential, putCredential, reencryptCredentials } from "../../sidecar-services/src/credential-store.ts";
import type { Db } from "../../sidecar-services/src/db.ts";
import { CredentialUnavailableError, failureCodeOf } from "../../sidecar-services/src/errors.ts";
import { createApiKey, revokeApiKey, rotateApiKey } from "../../sidecar-services/src/keys.ts";
import type { KvStore } from "../../sidecar-services/src/kv-store.ts";
import { createKeyRing, type KeyRing } from "../../sidecar-services/src/master-key.ts";
import { buildProviderTable } from "../../sidecar-services/src/provider-credentials.ts";
import type { RequestLog, RequestLogEntry } from "../../sidecar-services/src/request-log.ts";
import { createTenant, updateTenant } from "../../sidecar-services/src/tenants.ts";
import { createTestSchema, type TestSchema } from "../support/pg-schema.ts";
import { createTestKeyPrefix, type TestKeyPrefix } from "../support/redis-prefix.ts";
import { testProviders } from "../support/sidecar-config.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const ENV = { AUTHZ_OPENAI_KEY: "sk-env-openai-0000000000000001", AUTHZ_ANTHROPIC_KEY: "sk-ant-env-0000000000000002" };
const MASTER_1 = { id: "m1", key: randomBytes(32) };
const MASTER_2 = { id: "m2", key: randomBytes(32) };

const PROVIDERS = testProviders([
  { name: "openai", api: "openai", api_key_env: "AUTHZ_OPENAI_KEY" },
  { name: "anthropic", api: "anthropic", api_key_env: "AUTHZ_ANTHROPIC_KEY" },
  { name: "mock", api: "openai" },
]);

const nullLog: RequestLog = { record() {}, flush: async () => {}, close: async () => {} };

describe("Authorize: lifecycle, policy and credentials (PostgreSQL + Redis)", () => {
  let schema: TestSchema;
  let redisKeys: TestKeyPrefix;
  let db: Db;
  let store: KvStore;
  /** The injected clock; tests move it instead of sleeping. */
  let clock = Date.now();
  const now = () => clock;
  /** HMACs computed by the authorizer, counted through the injected hash function. */
  let hmacs = 0;
  let ring: KeyRing;
  let authorize: (req: AuthorizeRequest) => Promise<AuthorizeResponse>;
  const logged: RequestLogEntry[] = [];

  const newAuthorizer = (over: { ring?: KeyRing | null; cacheTtlMs?: number } = {}) =>
    createAuthorizer({
      db,
      store,
      pepper: PEPPER,
      providers: buildProviderTable(PROVIDERS, ENV),
      ring: over.ring === undefined ? ring : over.ring,
      requestLog: { ...nullLog, record: (e) => logged.push(e) },
      cacheTtlMs: over.cacheTtlMs ?? 1000,
      now,
      hashSecret: (secret) => {
        hmacs += 1;
        return hashSecret(PEPPER, secret);
      },
    });
  const call = (api_key: string, providerName = "openai") =>
    authorize({ api_key, provider: providerName, request_id: `r-${randomBytes(4).toString("hex")}`, method: "POST", path: "/v1/chat/completions" });

  let n = 0;
  const tenant = async (policy: { allowedProviders?: string[]; allowedModels?: string[] } = {}) =>
    (await createTenant(db, `Authz ${RUN} ${++n}`, undefined, policy)).id;

  before(async () => {
    schema = await createTestSchema("authz", RUN);
    db = await schema.openMigrated();
    redisKeys = createTestKeyPrefix("authz", RUN);
    store = await redisKeys.openStore();
    ring = createKeyRing([MASTER_1]);
    authorize = newAuthorizer();
  });

  beforeEach(() => {
    clock = Date.now();
  });

  after(async () => {
    await redisKeys?.cleanup();
    await schema?.drop();
  });

  it("allows an active key: tenant, key id, env credential, cache_ttl_ms and allowed_models", async () => {
    const t = await tenant({ allowedModels: ["gpt-4o*", "o3-mini"] });
    const k = await createApiKey(db, t, PEPPER);
    const res = await call(k.key);
    assert.equal(res.decision, "ALLOW");
    assert.equal(res.tenant_id, t);
    assert.equal(res.key_id, k.keyId);
    assert.equal(res.upstream_auth_header, "authorization");
    assert.equal(res.upstream_auth_value, `Bearer ${ENV.AUTHZ_OPENAI_KEY}`);
    assert.equal(res.cache_ttl_ms, 1000);
    assert.deepEqual(res.allowed_models, ["gpt-4o*", "o3-mini"]);
    // A tenant without a model list may call any model: the list is empty.
    const open = await createApiKey(db, await tenant(), PEPPER);
    assert.deepEqual((await call(open.key)).allowed_models, []);
  });

  it("cache_ttl_ms follows sidecar.auth_cache_ttl_ms (0 disables the filter's cache)", async () => {
    const k = await createApiKey(db, await tenant(), PEPPER);
    for (const ttl of [0, 1, 2000]) {
      const res = await newAuthorizer({ cacheTtlMs: ttl })({ api_key: k.key, provider: "openai", request_id: "", method: "", path: "" });
      assert.equal(res.decision, "ALLOW");
      assert.equal(res.cache_ttl_ms, ttl);
    }
  });

  it("expiry: allowed until expires_at (cache_ttl_ms shrinks to it), then 401 auth.key_expired", async () => {
    const t = await tenant();
    const expiresAt = clock + 10 * 60_000;
    const k = await createApiKey(db, t, PEPPER, { expiresAt: new Date(expiresAt) });
    assert.equal((await call(k.key)).cache_ttl_ms, 1000);

    clock = expiresAt - 300;
    const late = await call(k.key);
    assert.equal(late.decision, "ALLOW");
    assert.equal(late.cache_ttl_ms, 300, "never cached past the expiry");

    clock = expiresAt;
    const expired = await call(k.key);
    assert.equal(expired.decision, "DENY");
    assert.equal(expired.code, "auth.key_expired");
    assert.equal(expired.http_status, 401);
    assert.equal(expired.tenant_id, t);
    assert.equal(expired.upstream_auth_value, "");

    // The secret is checked before expiry is revealed.
    const wrong = await call(formatApiKey(k.keyId, generateApiKey().secret));
    assert.equal(wrong.code, "auth.invalid_key");
  });

  it("rotation: old and new secrets both work inside the grace, the old one fails after it", async () => {
    const t = await tenant();
    const old = await createApiKey(db, t, PEPPER);
    assert.equal((await call(old.key)).decision, "ALLOW"); // caches the pre-rotation record
    const rotated = await rotateApiKey(db, old.keyId, PEPPER, 3600, store, now);
    const graceEnd = clock + 3600 * 1000;
    assert.equal(rotated.keyId, old.keyId, "the key id stays");
    assert.notEqual(rotated.key, old.key);
    assert.equal(rotated.info.previous_secret_expires_at, new Date(graceEnd).toISOString());

    clock += 1000;
    const viaNew = await call(rotated.key);
    const viaOld = await call(old.key);
    assert.equal(viaNew.decision, "ALLOW");
    assert.equal(viaOld.decision, "ALLOW");
    assert.equal(viaNew.key_id, old.keyId);
    assert.equal(viaOld.key_id, old.keyId);

    clock = graceEnd - 200;
    assert.equal((await call(old.key)).cache_ttl_ms, 200, "an answer for the old secret is not reused past the grace");
    assert.equal((await call(rotated.key)).cache_ttl_ms, 1000);

    clock = graceEnd;
    const after = await call(old.key);
    assert.equal(after.decision, "DENY");
    assert.equal(after.code, "auth.invalid_key");
    assert.equal((await call(rotated.key)).decision, "ALLOW");
  });

  it("rotation without grace retires the old secret at once; a second rotation ends the first grace", async () => {
    const t = await tenant();
    const k0 = await createApiKey(db, t, PEPPER);
    const k1 = await rotateApiKey(db, k0.keyId, PEPPER, 0, store, now);
    assert.equal((await call(k0.key)).code, "auth.invalid_key");
    assert.equal((await call(k1.key)).decision, "ALLOW");

    const k2 = await rotateApiKey(db, k0.keyId, PEPPER, 60, store, now);
    const k3 = await rotateApiKey(db, k0.keyId, PEPPER, 60, store, now);
    assert.equal((await call(k1.key)).code, "auth.invalid_key", "only one previous secret is kept");
    assert.equal((await call(k2.key)).decision, "ALLOW");
    assert.equal((await call(k3.key)).decision, "ALLOW");
  });

  it("revocation applies to both secrets of a grace, at once when the cache entry is dropped", async () => {
    const t = await tenant();
    const k0 = await createApiKey(db, t, PEPPER);
    const k1 = await rotateApiKey(db, k0.keyId, PEPPER, 3600, store, now);
    assert.equal((await call(k0.key)).decision, "ALLOW");
    assert.equal(await revokeApiKey(db, k0.keyId, store), true);
    assert.equal((await call(k0.key)).code, "auth.key_revoked");
    assert.equal((await call(k1.key)).code, "auth.key_revoked");
  });

  it("a disabled tenant's keys are refused with 403 auth.tenant_disabled, and work again when re-enabled", async () => {
    const t = await tenant();
    const k = await createApiKey(db, t, PEPPER);
    assert.equal((await call(k.key)).decision, "ALLOW");
    await updateTenant(db, t, { status: "disabled" }, store);
    const res = await call(k.key);
    assert.equal(res.code, "auth.tenant_disabled");
    assert.equal(res.http_status, 403);
    assert.equal(res.upstream_auth_value, "");
    // Authentication comes first: a wrong secret is still a 401.
    assert.equal((await call(formatApiKey(k.keyId, generateApiKey().secret))).code, "auth.invalid_key");
    await updateTenant(db, t, { status: "active" }, store);
    assert.equal((await call(k.key)).decision, "ALLOW");
  });

  it("allowed_providers: other providers get 403 auth.provider_not_allowed (checked before unknown provider)", async () => {
    const t = await tenant({ allowedProviders: ["anthropic"] });
    const k = await createApiKey(db, t, PEPPER);
    const denied = await call(k.key, "openai");
    assert.equal(denied.code, "auth.provider_not_allowed");
    assert.equal(denied.http_status, 403);
    const allowed = await call(k.key, "anthropic");
    assert.equal(allowed.decision, "ALLOW");
    assert.equal(allowed.upstream_auth_header, "x-api-key");
    assert.equal(allowed.upstream_auth_value, ENV.AUTHZ_ANTHROPIC_KEY);
    assert.equal((await call(k.key, "nope")).code, "auth.provider_not_allowed");

    // Empty list = every configured provider; an unconfigured one is still unknown.
    await updateTenant(db, t, { allowedProviders: [] }, store);
    assert.equal((await call(k.key, "openai")).decision, "ALLOW");
    const unknown = await call(k.key, "nope");
    assert.equal(unknown.code, "gateway.unknown_provider");
    assert.equal(unknown.http_status, 400);
  });

  it("credential precedence: the tenant's own, else the shared stored one, else the env variable", async () => {
    const a = await tenant();
    const b = await tenant();
    const ka = await createApiKey(db, a, PEPPER);
    const kb = await createApiKey(db, b, PEPPER);
    const value = async (key: string, p = "openai") => (await call(key, p)).upstream_auth_value;

    assert.equal(await value(ka.key), `Bearer ${ENV.AUTHZ_OPENAI_KEY}`, "env when nothing is stored");
    assert.equal(await value(ka.key, "mock"), "", "nothing for a provider without any credential");

    await putCredential(db, ring, { tenantId: null, provider: "openai" }, "sk-shared-openai-1111111111", store);
    assert.equal(await value(ka.key), "Bearer sk-shared-openai-1111111111");
    assert.equal(await value(kb.key), "Bearer sk-shared-openai-1111111111");

    await putCredential(db, ring, { tenantId: a, provider: "openai" }, "sk-tenant-a-openai-2222222222", store);
    assert.equal(await value(ka.key), "Bearer sk-tenant-a-openai-2222222222");
    assert.equal(await value(kb.key), "Bearer sk-shared-openai-1111111111", "B never gets A's credential");

    await putCredential(db, ring, { tenantId: a, provider: "anthropic" }, "sk-ant-tenant-a-3333333333", store);
    const anth = await call(ka.key, "anthropic");
    assert.equal(anth.upstream_auth_header, "x-api-key");
    assert.equal(anth.upstream_auth_value, "sk-ant-tenant-a-3333333333");
    assert.equal(await value(kb.key, "anthropic"), ENV.AUTHZ_ANTHROPIC_KEY);

    assert.equal(await deleteCredential(db, { tenantId: a, provider: "openai" }, store), true);
    assert.equal(await value(ka.key), "Bearer sk-shared-openai-1111111111");
    assert.equal(await deleteCredential(db, { tenantId: null, provider: "openai" }, store), true);
    assert.equal(await value(ka.key), `Bearer ${ENV.AUTHZ_OPENAI_KEY}`);
    await deleteCredential(db, { tenantId: a, provider: "anthropic" }, store);
  });

  it("fails closed when a stored credential cannot be decrypted (no ring, unknown key, row moved to another tenant)", async () => {
    const a = await tenant();
    const b = await tenant();
    const ka = await createApiKey(db, a, PEPPER);
    const kb = await createApiKey(db, b, PEPPER);
    await putCredential(db, ring, { tenantId: a, provider: "mock" }, "sk-mock-tenant-a-4444444444", store);

    const expectUnavailable = async (p: Promise<unknown>) =>
      assert.rejects(p, (err: Error) => {
        assert.ok(err instanceof CredentialUnavailableError);
        assert.equal(failureCodeOf(err), "sidecar.credential_unavailable");
        assert.ok(!err.message.includes("sk-mock-tenant-a"), "no plaintext in the error");
        return true;
      });
    const req = (key: string) => ({ api_key: key, provider: "mock", request_id: "", method: "", path: "" });
    await expectUnavailable(newAuthorizer({ ring: null })(req(ka.key)));
    await expectUnavailable(newAuthorizer({ ring: createKeyRing([MASTER_2]) })(req(ka.key)));

    // A ciphertext copied to tenant B does not decrypt there: the AAD names tenant A.
    await db.query("UPDATE provider_credentials SET tenant_id = $1 WHERE tenant_id = $2 AND provider = 'mock'", [b, a]);
    await store.del(`cred:${a}:mock`);
    await store.del(`cred:${b}:mock`);
    await expectUnavailable(authorize(req(kb.key)));
    assert.equal((await authorize(req(ka.key))).upstream_auth_value, "", "A no longer has one");
    await deleteCredential(db, { tenantId: b, provider: "mock" }, store);
  });

  it("computes one HMAC and two constant-time compares for unknown key ids and wrong secrets alike", async (t) => {
    const k = await createApiKey(db, await tenant(), PEPPER);
    const rotated = await rotateApiKey(db, k.keyId, PEPPER, 3600, store, now);
    const spy = t.mock.method(crypto, "timingSafeEqual");
    const work = async (key: string) => {
      const [h, c] = [hmacs, spy.mock.callCount()];
      await call(key);
      return { hmacs: hmacs - h, compares: spy.mock.callCount() - c };
    };
    const unknownId = generateApiKey().key;
    const cases = {
      unknownFirst: await work(unknownId), // database miss, then cached as missing
      unknownCached: await work(unknownId),
      wrongSecret: await work(formatApiKey(k.keyId, generateApiKey().secret)),
      current: await work(rotated.key),
      previous: await work(k.key),
    };
    for (const [name, w] of Object.entries(cases)) assert.deepEqual(w, { hmacs: 1, compares: 2 }, name);
    // Malformed keys are refused by shape alone (the format is public): no HMAC at all.
    assert.deepEqual(await work("lsh_not-a-key"), { hmacs: 0, compares: 0 });
  });

  it("records the presented key id in request_log, and the tenant only once authenticated", async () => {
    const t = await tenant();
    const k = await createApiKey(db, t, PEPPER);
    logged.length = 0;
    await call(k.key);
    await call(formatApiKey(k.keyId, generateApiKey().secret));
    assert.deepEqual(
      logged.map((e) => [e.decision, e.code, e.tenant_id, e.key_id]),
      [
        ["ALLOW", null, t, k.keyId],
        ["DENY", "auth.invalid_key", null, k.keyId],
      ],
    );
  });

  it("reencryptCredentials rewraps every row under the current master key", async () => {
    const t = await tenant();
    const k = await createApiKey(db, t, PEPPER);
    await putCredential(db, ring, { tenantId: null, provider: "mock" }, "sk-shared-mock-5555555555", store);
    await putCredential(db, ring, { tenantId: t, provider: "anthropic" }, "sk-ant-tenant-6666666666", store);

    const rotatedRing = createKeyRing([MASTER_2, MASTER_1]);
    const first = await reencryptCredentials(db, rotatedRing, store);
    assert.ok(first.total >= 2);
    assert.equal(first.rewrapped, first.total);
    const { rows } = await db.query<{ master_key_id: string }>("SELECT DISTINCT master_key_id FROM provider_credentials");
    assert.deepEqual(rows.map((r) => r.master_key_id), ["m2"]);
    assert.deepEqual(await reencryptCredentials(db, rotatedRing, store), { total: first.total, rewrapped: 0 }, "idempotent");

    // The old key can now be dropped from the ring.
    const onlyNew = newAuthorizer({ ring: createKeyRing([MASTER_2]) });
    const req = (p: string) => ({ api_key: k.key, provider: p, request_id: "", method: "", path: "" });
    assert.equal((await onlyNew(req("mock"))).upstream_auth_value, "Bearer sk-shared-mock-5555555555");
    assert.equal((await onlyNew(req("anthropic"))).upstream_auth_value, "sk-ant-tenant-6666666666");

    // A ring without the key a row was sealed with refuses to re-encrypt and changes nothing.
    await putCredential(db, createKeyRing([MASTER_1]), { tenantId: null, provider: "openai" }, "sk-shared-openai-7777777777", store);
    await assert.rejects(reencryptCredentials(db, createKeyRing([MASTER_2]), store), /not in the key ring/);
    const { rows: after } = await db.query<{ master_key_id: string }>(
      "SELECT master_key_id FROM provider_credentials WHERE tenant_id IS NULL AND provider = 'openai'",
    );
    assert.equal(after[0]!.master_key_id, "m1");
    for (const owner of [
      { tenantId: null, provider: "mock" },
      { tenantId: t, provider: "anthropic" },
      { tenantId: null, provider: "openai" },
    ]) {
      await deleteCredential(db, owner, store);
    }
  });
});
