// Quota administration: the admin API's /tenants/:id/limits and /keys/:key_id/limits (validation,
// merge and clear, live readout of the Redis counters, immediate effect on this sidecar), the
// checks the generic tenant and key routes now apply to quota settings, `bin/leash limits`, and
// the quota codes against docs/quotas.md.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
//   LEASH_TEST_REDIS_URL     default redis://127.0.0.1:6379/0
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Registry } from "prom-client";
import { QUOTA_DENIALS } from "../../sidecar-services/src/errors.ts";
import { createRedisQuotaStore } from "../../sidecar-services/src/quota-redis.ts";
import type { QuotaStore } from "../../sidecar-services/src/quota-store.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { adminFetch, type AdminAnswer } from "../support/admin-fetch.ts";
import { authorizeClient } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";
import { reserve, reserveRequest } from "../support/reserve-client.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const TOKEN = randomBytes(32).toString("hex");
const LEASH = fileURLToPath(new URL("../../bin/leash", import.meta.url));
const read = (rel: string) => readFileSync(fileURLToPath(new URL(`../../${rel}`, import.meta.url)), "utf8");

describe("quota administration (PostgreSQL + Redis)", () => {
  let schema: TestSchema;
  let redisKeys: TestKeyPrefix;
  let quota: QuotaStore;
  let sidecar: Sidecar;
  let client: grpc.Client;
  let adminPort: number;
  let dataDir: string;
  let keyId: string;
  let api: ReturnType<typeof adminFetch>;

  function expectInvalid(res: AdminAnswer, field: RegExp): void {
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error.code, "admin.invalid_request");
    assert.match(res.json.error.message, field);
  }

  before(async () => {
    schema = await createTestSchema("quota_admin", RUN);
    const db = await schema.openMigrated();
    redisKeys = createTestKeyPrefix("quota-admin", RUN);
    quota = await createRedisQuotaStore({ url: TEST_REDIS_URL, keyPrefix: redisKeys.prefix, commandTimeoutMs: 1000 });
    dataDir = mkdtempSync(join(tmpdir(), "leash-quota-admin-"));
    const config = sidecarTestConfig({
      sidecar: { database_url: TEST_DATABASE_URL, redis_url: TEST_REDIS_URL, data_dir: dataDir },
      providers: [{ name: "mock", api: "openai" }],
    });
    sidecar = createSidecar({ db, store: await redisKeys.openStore(), quotaStore: quota, registry: new Registry(), config, pepper: PEPPER, adminToken: TOKEN });
    const ports = await sidecar.start();
    adminPort = ports.adminPort!;
    api = adminFetch(`http://127.0.0.1:${adminPort}/admin/v1`, TOKEN);
    client = authorizeClient(ports.grpcPort);
    assert.equal((await api("POST", "/tenants", { name: "Acme", id: "acme" })).status, 201);
    assert.equal((await api("POST", "/tenants", { name: "Other", id: "other" })).status, 201);
    keyId = (await api("POST", "/tenants/acme/keys", {})).json.key_id;
  });

  after(async () => {
    client?.close();
    await sidecar?.stop();
    await quota?.close();
    await redisKeys?.cleanup();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("sets, merges and clears a tenant's limits; null removes one field", async () => {
    const set = await api("PATCH", "/tenants/acme/limits", { rpm: 60, usd_per_day: 2.5, on_store_failure: "open" });
    assert.equal(set.status, 200);
    assert.deepEqual([set.json.limits, set.json.on_store_failure], [{ rpm: 60, usd_per_day: 2.5 }, "open"]);
    const merged = await api("PATCH", "/tenants/acme/limits", { tpm: 1000, rpm: null });
    assert.deepEqual(merged.json.limits, { tpm: 1000, usd_per_day: 2.5 });
    assert.equal(merged.json.on_store_failure, "open");
    assert.deepEqual((await api("GET", "/tenants/acme/limits")).json.limits, { tpm: 1000, usd_per_day: 2.5 });
    // Stored where the tenant's other module settings are.
    assert.deepEqual((await api("GET", "/tenants/acme")).json.module_settings.quota, { tpm: 1000, usd_per_day: 2.5, on_store_failure: "open" });
    const cleared = await api("DELETE", "/tenants/acme/limits");
    assert.deepEqual([cleared.status, cleared.json.limits, cleared.json.on_store_failure, cleared.json.usage], [200, {}, "closed", []]);
  });

  it("refuses bad limits naming the field", async () => {
    const cases: [unknown, RegExp][] = [
      [{ rpm: 0 }, /^rpm: must be an integer in 1\.\./],
      [{ rpm: 1.5 }, /^rpm: must be an integer/],
      [{ tpm: "60" }, /^tpm: must be a number/],
      [{ tpd: 1e13 }, /^tpd: must be an integer in 1\.\.1000000000000/],
      [{ usd_per_day: -1 }, /^usd_per_day: must be a USD amount/],
      [{ usd_per_month: 0.0000001 }, /^usd_per_month: must have at most 6 decimal places/],
      [{ rpmm: 5 }, /^"rpmm": unknown field \(allowed: rpm, tpm, tpd, tpmo, usd_per_day, usd_per_month, on_store_failure\)/],
      [{ on_store_failure: "maybe" }, /^on_store_failure: must be "closed" or "open"/],
      [{}, /^body: give at least one of rpm/],
      [[1], /^body: must be a JSON object/],
    ];
    for (const [body, message] of cases) expectInvalid(await api("PATCH", "/tenants/acme/limits", body), message);
    expectInvalid(await api("PATCH", `/keys/${keyId}/limits`, { on_store_failure: "open" }), /^"on_store_failure": unknown field \(allowed: rpm, tpm, tpd, tpmo, usd_per_day, usd_per_month\)/);
    expectInvalid(await api("DELETE", "/tenants/acme/limits", { rpm: 1 }), /^"rpm": unknown field/);
    // The generic routes refuse the same values where the quota module would read them.
    expectInvalid(await api("PATCH", "/tenants/acme", { module_settings: { quota: { rpm: -1 } } }), /^module_settings\.quota\.rpm: must be an integer/);
    expectInvalid(await api("POST", "/tenants/acme/keys", { limits: { rpm: "x" } }), /^limits\.rpm: must be a number/);
    assert.equal((await api("PATCH", "/tenants/other", { module_settings: { quota: { rpm: 7 }, other_module: { x: 1 } } })).status, 200);
    assert.deepEqual((await api("GET", "/tenants/other/limits")).json.limits, { rpm: 7 });
  });

  it("answers 404 for unknown tenants and keys", async () => {
    for (const path of ["/tenants/nobody/limits", "/keys/zzzzzzzzzzzz/limits", "/keys/'; DROP TABLE api_keys; --/limits"]) {
      const res = await api("GET", path);
      assert.equal(res.status, 404, path);
      assert.equal(res.json.error.code, "admin.not_found");
      assert.equal((await api("PATCH", path, { rpm: 1 })).status, 404);
    }
  });

  it("the readout shows the live counters of the tenant and of the key; a change applies to the next Reserve", async () => {
    await api("PATCH", "/tenants/acme/limits", { rpm: 2, tpd: 10_000, usd_per_month: 1 });
    assert.equal((await api("PATCH", `/keys/${keyId}/limits`, { tpm: 500 })).status, 200);
    for (let i = 0; i < 2; i++) {
      const res = await reserve(client, reserveRequest({ tenant_id: "acme", key_id: keyId, estimated_prompt_tokens: "100", max_output_tokens: "20" }));
      assert.equal(res.decision, "ALLOW");
    }
    assert.equal((await reserve(client, reserveRequest({ tenant_id: "acme", key_id: keyId }))).code, "quota.rpm_exceeded");

    const before = Date.now();
    const tenant = await api("GET", "/tenants/acme/limits");
    const rows = Object.fromEntries(tenant.json.usage.map((u: { limit: string }) => [u.limit, u]));
    assert.deepEqual(Object.keys(rows), ["rpm", "tpd", "usd_per_month"]);
    assert.deepEqual([rows.rpm.value, rows.rpm.used, rows.rpm.remaining], [2, 2, 0]);
    assert.deepEqual([rows.tpd.used, rows.tpd.remaining], [240, 9760]);
    // 2 × (100 × $0.15 + 20 × $0.60) / 1M = 54 µ$, shown in USD.
    assert.deepEqual([rows.usd_per_month.value, rows.usd_per_month.used], [1, 0.000054]);
    const reset = Date.parse(rows.rpm.resets_at);
    assert.ok(reset > before && reset <= before + 61_000, rows.rpm.resets_at);
    const nextMidnight = new Date(before);
    nextMidnight.setUTCHours(24, 0, 0, 0);
    assert.equal(Date.parse(rows.tpd.resets_at), nextMidnight.getTime());

    const key = await api("GET", `/keys/${keyId}/limits`);
    assert.deepEqual([key.json.tenant_id, key.json.limits, key.json.usage[0].used, key.json.usage[0].remaining], ["acme", { tpm: 500 }, 240, 260]);

    // No waiting for a cache: this sidecar applies its own change at once.
    await api("PATCH", "/tenants/acme/limits", { rpm: 3 });
    assert.equal((await reserve(client, reserveRequest({ tenant_id: "acme", key_id: keyId }))).decision, "ALLOW");
    await api("DELETE", "/tenants/acme/limits");
    await api("DELETE", `/keys/${keyId}/limits`);
    const free = await reserve(client, reserveRequest({ tenant_id: "acme", key_id: keyId }));
    assert.deepEqual([free.decision, free.has_request_limit], ["ALLOW", false]);
  });

  it("bin/leash limits set / show / clear", async () => {
    const configFile = join(dataDir, "leash.yaml");
    writeFileSync(
      configFile,
      `version: 1\nsidecar: { admin_port: ${adminPort}, data_dir: "${dataDir}" }\nproviders:\n  - { name: mock, api: openai, base_url: "http://127.0.0.1:9" }\n`,
    );
    const leash = (...args: string[]) =>
      promisify(execFile)(LEASH, ["--config", configFile, ...args], { env: { ...process.env, LEASH_ADMIN_TOKEN: TOKEN } });
    await leash("limits", "set", "--tenant", "other", "--rpm", "30", "--usd-day", "1.25", "--on-store-failure", "open");
    const shown = (await leash("limits", "show", "--tenant", "other")).stdout;
    assert.match(shown, /tenant other; when Redis is down: allow unmetered/);
    assert.match(shown, /^rpm +30 +0 +30 /m);
    assert.match(shown, /^usd_per_day +1\.25 +0 +1\.25 /m);
    await leash("limits", "set", "--tenant", "other", "--rpm", "none");
    const json = JSON.parse((await leash("limits", "show", "--tenant", "other", "--json")).stdout);
    assert.deepEqual(json.limits, { usd_per_day: 1.25 });
    await assert.rejects(leash("limits", "set", "--tenant", "other", "--key", keyId, "--rpm", "5"), /belongs to tenant acme, not other/);
    await leash("limits", "clear", "--tenant", "other");
    assert.match((await leash("limits", "show", "--tenant", "other")).stdout, /tenant other: no limits/);
  });

  it("every quota code is documented in docs/quotas.md with its status", () => {
    const doc = read("docs/quotas.md");
    for (const [code, spec] of Object.entries(QUOTA_DENIALS)) {
      assert.match(doc, new RegExp(`^\\|\\s*\`${code.replace(".", "\\.")}\`\\s*\\|\\s*${spec.httpStatus}\\s*\\|`, "m"), code);
    }
  });
});
