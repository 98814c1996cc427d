// GET /admin/v1/usage (sidecar-services/src/usage-query.ts) over real HTTP against real PostgreSQL:
// grouping (tenant, key, model, provider, day), filters, the [from, to) bounds, unpriced rows
// (cost_usd of the priced rows + unpriced_requests, null when nothing is priced), counts beyond
// 2^53 as strings, partition pruning, validation errors naming the parameter, and the admin token.
// Ledger rows are inserted directly (fixed times and costs), plus one through RecordUsage.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
import type * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import type { Db } from "../../sidecar-services/src/db.ts";
import { createMemoryStore } from "../../sidecar-services/src/kv-store.ts";
import { partitionOf } from "../../sidecar-services/src/usage-ledger.ts";
import { usageSql } from "../../sidecar-services/src/usage-query.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { authorizeClient } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";
import { recordUsage, usageReport } from "../support/usage-client.ts";

const RUN = randomBytes(4).toString("hex");
const TOKEN = randomBytes(32).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const FROM = "2025-03-01T00:00:00Z";
const TO = "2025-04-10T00:00:00Z";

interface Row {
  request_id: string;
  tenant_id: string;
  key_id: string;
  provider: string;
  model: string;
  status: number;
  prompt: string;
  completion: string;
  cached: string;
  cost: string | null;
  estimated?: boolean;
  at: string;
}

const ROWS: Row[] = [
  { request_id: "r1", tenant_id: "acme", key_id: "ka", provider: "openai", model: "gpt-4o", status: 200, prompt: "100", completion: "20", cached: "10", cost: "0.001", at: "2025-03-10T12:00:00Z" },
  { request_id: "r2", tenant_id: "acme", key_id: "kb", provider: "openai", model: "gpt-4o-mini", status: 200, prompt: "50", completion: "5", cached: "0", cost: "0.0002", at: "2025-03-31T23:59:59.999Z" },
  { request_id: "r3", tenant_id: "acme", key_id: "ka", provider: "mock", model: "mystery-model", status: 500, prompt: "10", completion: "0", cached: "0", cost: null, estimated: true, at: "2025-04-01T00:00:00Z" },
  { request_id: "r4", tenant_id: "beta", key_id: "kc", provider: "openai", model: "gpt-4o", status: 429, prompt: "0", completion: "0", cached: "0", cost: "0.5", at: "2025-04-02T08:00:00Z" },
  { request_id: "r5", tenant_id: "beta", key_id: "kc", provider: "mock", model: "mystery-model", status: 200, prompt: "7", completion: "3", cached: "0", cost: null, at: "2025-04-02T09:00:00Z" },
  // Outside [FROM, TO): one ms before, and exactly at the (exclusive) end.
  { request_id: "out1", tenant_id: "acme", key_id: "ka", provider: "openai", model: "gpt-4o", status: 200, prompt: "1000", completion: "1000", cached: "0", cost: "9", at: "2025-02-28T23:59:59.999Z" },
  { request_id: "out2", tenant_id: "acme", key_id: "ka", provider: "openai", model: "gpt-4o", status: 200, prompt: "1000", completion: "1000", cached: "0", cost: "9", at: TO },
  // Sums beyond 2^53 (and beyond bigint): answered as decimal strings.
  { request_id: "big1", tenant_id: "big", key_id: "kz", provider: "openai", model: "gpt-4o", status: 200, prompt: String(2n ** 62n), completion: "1", cached: "0", cost: "1", at: "2025-05-01T00:00:00Z" },
  { request_id: "big2", tenant_id: "big", key_id: "kz", provider: "openai", model: "gpt-4o", status: 200, prompt: String(2n ** 62n), completion: "1", cached: "0", cost: "1", at: "2025-05-02T00:00:00Z" },
];

async function insert(db: Db, rows: Row[]): Promise<void> {
  for (const r of rows) {
    const p = partitionOf(Date.parse(r.at));
    await db.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF usage_ledger FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
    await db.query(
      `INSERT INTO usage_ledger (request_id, tenant_id, key_id, provider, api, model, status, prompt_tokens, completion_tokens,
         cached_tokens, cost_usd, price_version, streamed, estimated, duration_ms, upstream_first_byte_ms, started_at)
       VALUES ($1, $2, $3, $4, 'openai', $5, $6, $7::bigint, $8::bigint, $9::bigint, $10::numeric, 'test', false, $11, 10, 5, $12::timestamptz)`,
      [r.request_id, r.tenant_id, r.key_id, r.provider, r.model, r.status, r.prompt, r.completion, r.cached, r.cost, r.estimated ?? false, r.at],
    );
  }
}

describe("GET /admin/v1/usage (PostgreSQL)", () => {
  let schema: TestSchema;
  let db: Db;
  let sidecar: Sidecar;
  let client: grpc.Client;
  let base: string;
  let dataDir: string;

  async function get(query: string, token: string | null = TOKEN): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await fetch(`${base}/usage${query}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  const range = (extra = "") => `?from=${FROM}&to=${TO}${extra}`;

  function expectInvalid(res: { status: number; json: any }, param: string): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error.code, "admin.invalid_request");
    assert.ok(res.json.error.message.startsWith(`${param}:`) || res.json.error.message.startsWith(`"${param}":`), res.json.error.message);
  }

  before(async () => {
    schema = await createTestSchema("usage_query", RUN);
    db = await schema.openMigrated();
    await insert(db, ROWS);
    dataDir = mkdtempSync(join(tmpdir(), "leash-usage-query-"));
    const config = sidecarTestConfig({
      sidecar: { database_url: TEST_DATABASE_URL, data_dir: dataDir },
      providers: [{ name: "openai", api: "openai" }, { name: "mock", api: "openai" }],
    });
    sidecar = createSidecar({ db, store: createMemoryStore(), registry: new Registry(), config, pepper: PEPPER, adminToken: TOKEN });
    const ports = await sidecar.start();
    base = `http://127.0.0.1:${ports.adminPort}/admin/v1`;
    client = authorizeClient(ports.grpcPort);
  });

  after(async () => {
    client?.close();
    await sidecar?.stop();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("groups by tenant by default, with totals; rows outside [from, to) are excluded", async () => {
    const res = await get(range());
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, {
      from: "2025-03-01T00:00:00.000Z",
      to: "2025-04-10T00:00:00.000Z",
      group_by: "tenant",
      rows: [
        { group: "acme", requests: 3, prompt_tokens: 160, completion_tokens: 25, cached_tokens: 10, cost_usd: 0.0012, unpriced_requests: 1, estimated_requests: 1, errors: 1 },
        { group: "beta", requests: 2, prompt_tokens: 7, completion_tokens: 3, cached_tokens: 0, cost_usd: 0.5, unpriced_requests: 1, estimated_requests: 0, errors: 1 },
      ],
      totals: { requests: 5, prompt_tokens: 167, completion_tokens: 28, cached_tokens: 10, cost_usd: 0.5012, unpriced_requests: 2, estimated_requests: 1, errors: 2 },
    });
  });

  it("groups by key, model, provider and UTC day", async () => {
    const groups = async (by: string, extra = "") => {
      const res = await get(range(`&group_by=${by}${extra}`));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.group_by, by);
      return res.json.rows.map((r: { group: string; requests: number }) => [r.group, r.requests]);
    };
    assert.deepEqual(await groups("key"), [["ka", 2], ["kb", 1], ["kc", 2]]);
    assert.deepEqual(await groups("model"), [["gpt-4o", 2], ["gpt-4o-mini", 1], ["mystery-model", 2]]);
    assert.deepEqual(await groups("provider"), [["mock", 2], ["openai", 3]]);
    assert.deepEqual(await groups("day"), [["2025-03-10", 1], ["2025-03-31", 1], ["2025-04-01", 1], ["2025-04-02", 2]]);
  });

  it("filters by tenant_id, key_id, provider and model", async () => {
    const beta = await get(range("&tenant_id=beta&group_by=model"));
    assert.deepEqual(beta.json.rows, [
      { group: "gpt-4o", requests: 1, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, cost_usd: 0.5, unpriced_requests: 0, estimated_requests: 0, errors: 1 },
      // Nothing in the group is priced: null, never 0.
      { group: "mystery-model", requests: 1, prompt_tokens: 7, completion_tokens: 3, cached_tokens: 0, cost_usd: null, unpriced_requests: 1, estimated_requests: 0, errors: 0 },
    ]);
    assert.equal((await get(range("&key_id=ka"))).json.totals.requests, 2);
    assert.equal((await get(range("&provider=mock"))).json.totals.requests, 2);
    assert.equal((await get(range("&model=gpt-4o&tenant_id=acme"))).json.totals.requests, 1);
    const none = await get(range("&tenant_id=nobody"));
    assert.deepEqual(none.json.rows, []);
    assert.deepEqual(none.json.totals, { requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, cost_usd: null, unpriced_requests: 0, estimated_requests: 0, errors: 0 });
    // A hostile value is just a value (parameterized SQL).
    assert.equal((await get(range(`&tenant_id=${encodeURIComponent("' OR 1=1 --")}`))).json.totals.requests, 0);
  });

  it("treats from as inclusive and to as exclusive", async () => {
    const res = await get("?from=2025-03-31T23:59:59.999Z&to=2025-04-01T00:00:00Z&group_by=key");
    assert.deepEqual(res.json.rows.map((r: { group: string }) => r.group), ["kb"]);
    const offset = await get(`?from=${encodeURIComponent("2025-04-01T02:00:00+02:00")}&to=2025-04-01T00:00:00.001Z`);
    assert.equal(offset.json.totals.requests, 1);
  });

  it("answers sums beyond 2^53 as decimal strings", async () => {
    const res = await get("?from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00Z");
    assert.equal(res.json.rows[0].prompt_tokens, String(2n ** 63n));
    assert.equal(res.json.rows[0].completion_tokens, 2);
    assert.equal(res.json.totals.prompt_tokens, String(2n ** 63n));
    assert.equal(res.json.totals.cost_usd, 2);
  });

  it("scans only the partitions of the range", async () => {
    const { sql, params } = usageSql({ from: new Date(FROM), to: new Date("2025-04-01T00:00:00Z"), groupBy: "tenant" });
    const plan = (await db.query<Record<string, unknown>>(`EXPLAIN ${sql}`, params)).rows.map((r) => Object.values(r)[0]).join("\n");
    assert.match(plan, /usage_ledger_p202503/);
    assert.doesNotMatch(plan, /usage_ledger_p202502|usage_ledger_p202504|usage_ledger_p202505/);
  });

  it("reports rows recorded through RecordUsage, priced from the price table", async () => {
    assert.deepEqual(await recordUsage(client, usageReport({ tenant_id: "live", model: "gpt-4o-mini" })), { accepted: true });
    await sidecar.usageLedger.flush();
    const now = Date.now();
    const res = await get(`?from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}&tenant_id=live`);
    assert.equal(res.status, 200);
    assert.equal(res.json.rows.length, 1);
    assert.equal(res.json.rows[0].group, "live");
    assert.equal(res.json.rows[0].requests, 1);
    assert.equal(res.json.rows[0].prompt_tokens, 100);
    assert.ok(typeof res.json.rows[0].cost_usd === "number" && res.json.rows[0].cost_usd > 0);
    assert.equal(res.json.rows[0].unpriced_requests, 0);
  });

  it("refuses bad parameters with admin.invalid_request naming the parameter", async () => {
    expectInvalid(await get(`?to=${TO}`), "from");
    expectInvalid(await get(`?from=${FROM}`), "to");
    expectInvalid(await get(`?from=2025-03-01&to=${TO}`), "from");
    expectInvalid(await get(`?from=2025-03-01T00:00:00&to=${TO}`), "from");
    expectInvalid(await get(`?from=2025-02-30T00:00:00Z&to=${TO}`), "from");
    expectInvalid(await get(`?from=${FROM}&to=yesterday`), "to");
    expectInvalid(await get(`?from=${TO}&to=${FROM}`), "to");
    expectInvalid(await get(`?from=${FROM}&to=${FROM}`), "to");
    expectInvalid(await get(`?from=2024-01-01T00:00:00Z&to=2025-01-02T00:00:00Z`), "to");
    expectInvalid(await get(range("&group_by=week")), "group_by");
    expectInvalid(await get(range("&tenant_id=a&tenant_id=b")), "tenant_id");
    expectInvalid(await get(range("&model=" + "m".repeat(201))), "model");
    expectInvalid(await get(range("&key_id=%00")), "key_id");
    expectInvalid(await get(range("&tenant=acme")), "tenant");
    // 366 days is allowed.
    assert.equal((await get(`?from=2024-01-01T00:00:00Z&to=2024-12-31T00:00:00Z`)).status, 200);
  });

  it("requires the admin token and GET", async () => {
    for (const token of [null, "wrong"]) {
      const res = await get(range(), token);
      assert.equal(res.status, 401);
      assert.equal(res.json.error.code, "admin.unauthorized");
    }
    const post = await fetch(`${base}/usage${range()}`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
    await post.arrayBuffer();
  });
});
