// RecordUsage over real gRPC against real PostgreSQL and Redis: ledger rows and their cost,
// idempotency, concurrency, malformed reports, the request metrics (exact names and labels) and
// the per-request log line; then the delivery guarantee: PostgreSQL down → reports spooled to disk
// → a restarted sidecar on the same data_dir drains them, nothing lost or doubled.
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
//   LEASH_TEST_REDIS_URL     default redis://127.0.0.1:6379/0
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { createPostgresDb, type Db } from "../../sidecar-services/src/db.ts";
import type { KvStore } from "../../sidecar-services/src/kv-store.ts";
import type { LogFields, Logger, LogLevel } from "../../sidecar-services/src/logger.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { authorizeClient } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";
import { recordUsage, recordUsageBatch, usageReport, type UsageReport } from "../support/usage-client.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
/** Fast retries so outage tests take a second, not a minute. */
const FAST_LEDGER = { retryMinMs: 50, retryMaxMs: 200, closeTimeoutMs: 1000 };

function config(dataDir: string, databaseUrl = TEST_DATABASE_URL) {
  return sidecarTestConfig({
    sidecar: { database_url: databaseUrl, redis_url: TEST_REDIS_URL, data_dir: dataDir },
    providers: [{ name: "mock", api: "openai" }, { name: "openai", api: "openai" }],
  });
}

/** A logger that keeps every line, for checking the usage log shape. */
function capturingLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const push = (level: LogLevel, msg: string, fields?: LogFields) => lines.push({ level, msg, ...fields });
  return {
    lines,
    debug: (m, f) => push("debug", m, f),
    info: (m, f) => push("info", m, f),
    warn: (m, f) => push("warn", m, f),
    error: (m, f) => push("error", m, f),
    entry: (level, fields) => lines.push({ timestamp: new Date().toISOString(), level, ...fields }),
  };
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Value of the sample `name{labels}` with exactly these labels (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{")) continue;
    const have = line.slice(name.length + 1, line.indexOf("}")).split(",").sort().join(",");
    if (have === want) return Number(line.slice(line.indexOf("}") + 1).trim());
  }
  return undefined;
}

async function rows(db: Db, where: string, params: unknown[]) {
  return (await db.query<Record<string, unknown>>(`SELECT * FROM usage_ledger WHERE ${where} ORDER BY request_id`, params)).rows;
}

async function countTenant(db: Db, tenant: string): Promise<number> {
  const r = await db.query<{ n: string }>("SELECT count(*) AS n FROM usage_ledger WHERE tenant_id = $1", [tenant]);
  return Number(r.rows[0]!.n);
}

describe("RecordUsage (PostgreSQL + Redis)", () => {
  let schema: TestSchema;
  let redisKeys: TestKeyPrefix;
  let db: Db;
  let store: KvStore;
  let sidecar: Sidecar;
  let client: grpc.Client;
  let httpBase: string;
  let dataDir: string;
  const log = capturingLogger();

  before(async () => {
    schema = await createTestSchema("usage", RUN);
    db = await schema.openMigrated();
    redisKeys = createTestKeyPrefix("usage", RUN);
    store = await redisKeys.openStore();
    dataDir = mkdtempSync(join(tmpdir(), "leash-usage-"));
    sidecar = createSidecar({ db, store, registry: new Registry(), config: config(dataDir), pepper: PEPPER, log, usageLedger: FAST_LEDGER });
    const ports = await sidecar.start();
    client = authorizeClient(ports.grpcPort);
    httpBase = `http://127.0.0.1:${ports.httpPort}`;
  });

  after(async () => {
    client?.close();
    await sidecar?.stop();
    await redisKeys?.cleanup();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("a priced report becomes exactly one ledger row with its cost", async () => {
    const report = usageReport({ tenant_id: "t-priced", prompt_tokens: "100", completion_tokens: "20", cached_tokens: "40", streamed: true });
    assert.deepEqual(await recordUsage(client, report), { accepted: true });
    await sidecar.usageLedger.flush();
    const got = await rows(db, "request_id = $1", [report.request_id]);
    assert.equal(got.length, 1);
    const row = got[0]!;
    // 60 uncached × 0.15 + 40 cached × 0.075 + 20 × 0.60 = 24 USD per million → 0.000024
    assert.equal(row.cost_usd, "0.000024000");
    assert.equal(row.price_version, "2026-11-01");
    assert.equal(row.tenant_id, "t-priced");
    assert.equal(row.provider, "mock");
    assert.equal(row.model, "gpt-4o-mini");
    assert.equal(row.status, 200);
    assert.equal(row.prompt_tokens, "100");
    assert.equal(row.completion_tokens, "20");
    assert.equal(row.cached_tokens, "40");
    assert.equal(row.streamed, true);
    assert.equal(row.estimated, false);
    assert.equal(row.duration_ms, 250);
    assert.equal(row.upstream_first_byte_ms, 120);
    assert.equal((row.started_at as Date).getTime(), Number(report.started_at_ms));
  });

  it("prices a dated model by the longest listed prefix", async () => {
    const report = usageReport({ tenant_id: "t-prefix", provider: "openai", model: "gpt-4o-2024-08-06", prompt_tokens: "1000000", completion_tokens: "0" });
    assert.equal((await recordUsage(client, report)).accepted, true);
    await sidecar.usageLedger.flush();
    assert.equal((await rows(db, "request_id = $1", [report.request_id]))[0]!.cost_usd, "2.500000000");
  });

  it("an unknown model gets a NULL cost and counts in leash_usage_unpriced_total", async () => {
    const report = usageReport({ tenant_id: "t-unpriced", provider: "openai", model: "no-such-model-9000" });
    assert.equal((await recordUsage(client, report)).accepted, true);
    await sidecar.usageLedger.flush();
    const got = await rows(db, "request_id = $1", [report.request_id]);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.cost_usd, null);
    assert.equal(got[0]!.price_version, "2026-11-01");
    const text = await (await fetch(`${httpBase}/metrics`)).text();
    assert.ok((sample(text, "leash_usage_unpriced_total", { provider: "openai" }) ?? 0) >= 1);
    assert.equal(sample(text, "leash_cost_usd_total", { tenant: "t-unpriced", provider: "openai", model: "no-such-model-9000" }), undefined);
  });

  it("the same report sent 3 times is one row, counted once", async () => {
    const report = usageReport({ tenant_id: "t-dup" });
    for (let i = 0; i < 3; i++) assert.equal((await recordUsage(client, report)).accepted, true);
    await sidecar.usageLedger.flush();
    assert.equal(await countTenant(db, "t-dup"), 1);
    const text = await (await fetch(`${httpBase}/metrics`)).text();
    assert.equal(sample(text, "leash_gateway_requests_total", { tenant: "t-dup", provider: "mock", status: "2xx" }), 1);
  });

  it("a batch is handled report by report: valid ones stored, malformed ones counted as rejected", async () => {
    const first = usageReport({ tenant_id: "t-batch", request_id: `batch-${RUN}-1` });
    const batch = [
      first,
      usageReport({ tenant_id: "t-batch", request_id: `batch-${RUN}-2` }),
      usageReport({ tenant_id: "t-batch", request_id: "" }),
      // A resend inside the batch: the same report (a fresh one could get another started_at_ms, a different row).
      { ...first },
    ];
    const ack = await recordUsageBatch(client, batch);
    assert.deepEqual({ accepted: ack.accepted, rejected: ack.rejected }, { accepted: 3, rejected: 1 });
    await sidecar.usageLedger.flush();
    assert.equal(await countTenant(db, "t-batch"), 2);
    const empty = await recordUsageBatch(client, []);
    assert.deepEqual({ accepted: empty.accepted, rejected: empty.rejected }, { accepted: 0, rejected: 0 });
  });

  it("1000 concurrent reports become 1000 rows", async () => {
    const reports = Array.from({ length: 1000 }, (_, i) => usageReport({ tenant_id: "t-load", request_id: `load-${RUN}-${i}` }));
    const acks = await Promise.all(reports.map((r) => recordUsage(client, r)));
    assert.ok(acks.every((a) => a.accepted));
    await sidecar.usageLedger.flush();
    assert.equal(await countTenant(db, "t-load"), 1000);
  });

  it("refuses malformed reports (accepted: false) and stores nothing", async () => {
    const bad: Partial<UsageReport>[] = [
      { request_id: "" },
      { request_id: "x".repeat(201) },
      { request_id: "has\nnewline" },
      { provider: "" },
      { model: "m".repeat(201) },
      { tenant_id: "t".repeat(129) },
      { status: 700 },
      { status: 42 },
      { prompt_tokens: "99999999999999999" },
      { duration_ms: "3000000000" },
      { started_at_ms: "0" },
      { started_at_ms: String(Date.now() + 3 * 24 * 3600 * 1000) },
    ];
    for (const overrides of bad) {
      const report = usageReport({ tenant_id: "t-bad", ...overrides });
      assert.deepEqual(await recordUsage(client, report), { accepted: false }, JSON.stringify(overrides).slice(0, 80));
    }
    // A report with only some fields set (the rest decode as defaults) has no started_at.
    assert.deepEqual(await recordUsage(client, { request_id: "partial", provider: "mock" }), { accepted: false });
    await sidecar.usageLedger.flush();
    assert.equal(await countTenant(db, "t-bad"), 0);
    const text = await (await fetch(`${httpBase}/metrics`)).text();
    assert.ok((sample(text, "leash_usage_reports_rejected_total", { reason: "request_id" }) ?? 0) >= 3);
    assert.ok((sample(text, "leash_usage_reports_rejected_total", { reason: "started_at" }) ?? 0) >= 3);
  });

  it("exposes the request metrics with the exact names, labels and values", async () => {
    const t = "t-metrics";
    await recordUsage(client, usageReport({ tenant_id: t, status: 200, prompt_tokens: "1000", completion_tokens: "500", cached_tokens: "200", duration_ms: "1500", upstream_first_byte_ms: "300" }));
    await recordUsage(client, usageReport({ tenant_id: t, status: 201, prompt_tokens: "0", completion_tokens: "0", duration_ms: "100", upstream_first_byte_ms: "50" }));
    await recordUsage(client, usageReport({ tenant_id: t, status: 429, prompt_tokens: "0", completion_tokens: "0", duration_ms: "10", upstream_first_byte_ms: "5" }));
    await recordUsage(client, usageReport({ tenant_id: t, status: 503, prompt_tokens: "0", completion_tokens: "0", duration_ms: "10", upstream_first_byte_ms: "0", estimated: true, provider: "openai" }));
    const text = await (await fetch(`${httpBase}/metrics`)).text();
    const m = { tenant: t, provider: "mock" };
    assert.equal(sample(text, "leash_gateway_requests_total", { ...m, status: "2xx" }), 2);
    assert.equal(sample(text, "leash_gateway_requests_total", { ...m, status: "429" }), 1);
    assert.equal(sample(text, "leash_gateway_requests_total", { tenant: t, provider: "openai", status: "5xx" }), 1);
    assert.equal(sample(text, "leash_gateway_request_duration_seconds_count", m), 3);
    assert.equal(sample(text, "leash_gateway_request_duration_seconds_sum", m), 1.61);
    assert.equal(sample(text, "leash_gateway_request_duration_seconds_bucket", { ...m, le: "1" }), 2);
    assert.ok((sample(text, "leash_provider_latency_seconds_count", { provider: "mock" }) ?? 0) >= 3);
    // (800 × 0.15 + 200 × 0.075 + 500 × 0.60) / 1e6
    assert.equal(sample(text, "leash_cost_usd_total", { ...m, model: "gpt-4o-mini" }), 0.000435);
    assert.equal(sample(text, "leash_tokens_total", { ...m, model: "gpt-4o-mini", type: "prompt" }), 1000);
    assert.equal(sample(text, "leash_tokens_total", { ...m, model: "gpt-4o-mini", type: "completion" }), 500);
    assert.equal(sample(text, "leash_tokens_total", { ...m, model: "gpt-4o-mini", type: "cached" }), 200);
    assert.ok((sample(text, "leash_usage_estimated_total", { provider: "openai" }) ?? 0) >= 1);
    assert.match(text, /# TYPE leash_gateway_request_duration_seconds histogram/);
    assert.match(text, /# TYPE leash_provider_latency_seconds histogram/);
    assert.match(text, /^leash_sidecar_grpc_requests_total\{method="RecordUsage",code="OK"\} \d+/m);
  });

  it("writes one log line per accepted report in the seed's shape", async () => {
    const report = usageReport({ tenant_id: "t-log", prompt_tokens: "100", completion_tokens: "20" });
    await recordUsage(client, report);
    const line = log.lines.find((l) => l.request_id === report.request_id && l.message === "request completed");
    assert.ok(line, "usage log line");
    assert.deepEqual(Object.keys(line).sort(), ["cost_usd", "latency_ms", "level", "message", "model", "provider", "request_id", "tenant_id", "timestamp", "tokens_used"]);
    assert.equal(line.level, "info");
    assert.equal(line.tenant_id, "t-log");
    assert.equal(line.latency_ms, 250);
    assert.equal(line.tokens_used, 120);
    assert.equal(line.cost_usd, 0.000027);
  });
});

describe("RecordUsage when PostgreSQL is unavailable", () => {
  let schema: TestSchema;
  let redisKeys: TestKeyPrefix;
  let store: KvStore;
  let dataDir: string;

  before(async () => {
    schema = await createTestSchema("usage_spool", RUN);
    redisKeys = createTestKeyPrefix("usage-spool", RUN);
    store = await redisKeys.openStore();
    dataDir = mkdtempSync(join(tmpdir(), "leash-usage-spool-"));
  });

  after(async () => {
    await redisKeys?.cleanup();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("spools acknowledged reports to disk, and a restarted sidecar drains them exactly once", async () => {
    // Sidecar 1: its database is a closed port.
    const deadDb = createPostgresDb({ connectionString: "postgres://leash:leash@127.0.0.1:1/leash_test" });
    const down = createSidecar({ db: deadDb, store, registry: new Registry(), config: config(dataDir), pepper: PEPPER, usageLedger: FAST_LEDGER });
    const ports = await down.start();
    const client = authorizeClient(ports.grpcPort);
    const reports = Array.from({ length: 300 }, (_, i) => usageReport({ tenant_id: "t-spool", request_id: `spool-${RUN}-${i}` }));
    try {
      const acks = await Promise.all(reports.map((r) => recordUsage(client, r)));
      assert.ok(acks.every((a) => a.accepted));
    } finally {
      client.close();
      await down.stop();
      await deadDb.close();
    }
    const spoolDir = join(dataDir, "spool");
    const spooled = readdirSync(spoolDir).flatMap((f) => readFileSync(join(spoolDir, f), "utf8").split("\n").filter(Boolean));
    assert.equal(new Set(spooled.map((l) => (JSON.parse(l) as { request_id: string }).request_id)).size, 300);

    // Sidecar 2: same data_dir, a working database; it drains the spool on its own.
    const db = await schema.openMigrated();
    const up = createSidecar({ db, store, registry: new Registry(), config: config(dataDir), pepper: PEPPER, usageLedger: FAST_LEDGER });
    const ports2 = await up.start();
    const client2 = authorizeClient(ports2.grpcPort);
    try {
      await eventually(async () => ((await countTenant(db, "t-spool")) === 300 ? true : undefined));
      assert.deepEqual(readdirSync(spoolDir), []);
      // The filter retrying every report changes nothing.
      await Promise.all(reports.map((r) => recordUsage(client2, r)));
      await up.usageLedger.flush();
      assert.equal(await countTenant(db, "t-spool"), 300);
    } finally {
      client2.close();
      await up.stop();
    }
  });

  it("survives an outage mid-stream: spools while down, drains when back, no row lost or doubled", async () => {
    const real = await schema.openMigrated();
    const state = { down: false };
    const refused = () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
    const db: Db = { ...real, query: (sql, params) => (state.down ? refused() : real.query(sql, params)) };
    const registry = new Registry();
    const sidecar = createSidecar({ db, store, registry, config: config(dataDir), pepper: PEPPER, usageLedger: FAST_LEDGER });
    const ports = await sidecar.start();
    const client = authorizeClient(ports.grpcPort);
    const send = (from: number, to: number) =>
      Promise.all(Array.from({ length: to - from }, (_, i) => recordUsage(client, usageReport({ tenant_id: "t-outage", request_id: `out-${RUN}-${from + i}` }))));
    try {
      await send(0, 50);
      await sidecar.usageLedger.flush();
      assert.equal(await countTenant(real, "t-outage"), 50);
      state.down = true;
      const acks = await send(50, 200);
      assert.ok(acks.every((a) => a.accepted));
      await eventually(async () => (sidecar.usageLedger.stats().degraded ? true : undefined));
      assert.ok(existsSync(join(dataDir, "spool")));
      state.down = false;
      await eventually(async () => ((await countTenant(real, "t-outage")) === 200 && !sidecar.usageLedger.stats().degraded ? true : undefined));
      await send(200, 220);
      await sidecar.usageLedger.flush();
      assert.equal(await countTenant(real, "t-outage"), 220);
      const text = await registry.metrics();
      assert.ok((sample(text, "leash_usage_ledger_rows_total", { result: "spooled" }) ?? 0) >= 150);
      assert.ok((sample(text, "leash_usage_ledger_write_errors_total", {}) ?? 0) >= 1 || /leash_usage_ledger_write_errors_total [1-9]/.test(text));
    } finally {
      client.close();
      await sidecar.stop();
    }
  });
});
