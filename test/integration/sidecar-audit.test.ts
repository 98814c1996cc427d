// The audit trail against real PostgreSQL and Redis: usage reports that carry bodies become sealed
// audit_log rows (AES-256-GCM, bound to tenant and request id), the admin API exports them opened
// and paged, a moved row does not open, a report without the audit flag or without a master key
// stores no body, guard decisions reach the ledger and the metric, and the retention job deletes
// each tenant's entries past its retention and drops old partitions.
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
import { runAuditRetention } from "../../sidecar-services/src/audit-retention.ts";
import type { Db } from "../../sidecar-services/src/db.ts";
import type { KvStore } from "../../sidecar-services/src/kv-store.ts";
import { silentLogger } from "../../sidecar-services/src/logger.ts";
import { createKeyRing } from "../../sidecar-services/src/master-key.ts";
import { createSidecar, type Sidecar } from "../../sidecar-services/src/server.ts";
import { createTenant } from "../../sidecar-services/src/tenants.ts";
import { authorizeClient } from "../support/authorize-client.ts";
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from "../support/pg-schema.ts";
import { createTestKeyPrefix, TEST_REDIS_URL, type TestKeyPrefix } from "../support/redis-prefix.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";
import { recordUsage, recordUsageBatch, usageReport } from "../support/usage-client.ts";

const RUN = randomBytes(4).toString("hex");
const PEPPER = randomBytes(32).toString("hex");
const TOKEN = randomBytes(24).toString("hex");
const DAY = 86_400_000;
const PROMPT = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Mail [EMAIL_1] about the invoice"}]}';
const ANSWER = '{"choices":[{"message":{"role":"assistant","content":"Done, I wrote to [EMAIL_1]."}}]}';

describe("audit trail (PostgreSQL + Redis)", () => {
  let schema: TestSchema;
  let redisKeys: TestKeyPrefix;
  let db: Db;
  let store: KvStore;
  let sidecar: Sidecar;
  let client: grpc.Client;
  let admin: string;
  let metrics: string;
  let dataDir: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${admin}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const auditRows = async (tenant: string) =>
    (await db.query<Record<string, unknown>>("SELECT * FROM audit_log WHERE tenant_id = $1 ORDER BY started_at, request_id", [tenant])).rows;
  const audited = (tenant: string, startedAt: number, extra: Record<string, unknown> = {}) =>
    usageReport({
      tenant_id: tenant,
      started_at_ms: String(startedAt),
      audit: true,
      audit_request_body: Buffer.from(PROMPT),
      audit_response_body: Buffer.from(ANSWER),
      guard_decisions: "redact:masked(email=1)",
      ...extra,
    });

  before(async () => {
    schema = await createTestSchema("audit", RUN);
    db = await schema.openMigrated();
    redisKeys = createTestKeyPrefix("audit", RUN);
    store = await redisKeys.openStore();
    dataDir = mkdtempSync(join(tmpdir(), "leash-audit-"));
    for (const t of ["acme", "globex", "initech"]) await createTenant(db, t, t);
    sidecar = createSidecar({
      db,
      store,
      registry: new Registry(),
      config: sidecarTestConfig({
        sidecar: { database_url: TEST_DATABASE_URL, redis_url: TEST_REDIS_URL, data_dir: dataDir },
        providers: [{ name: "mock", api: "openai" }],
      }),
      pepper: PEPPER,
      ring: createKeyRing([{ id: "mk-test", key: randomBytes(32) }]),
      adminToken: TOKEN,
    });
    const ports = await sidecar.start();
    client = authorizeClient(ports.grpcPort);
    admin = `http://127.0.0.1:${ports.adminPort}/admin/v1`;
    metrics = `http://127.0.0.1:${ports.httpPort}/metrics`;
  });

  after(async () => {
    client?.close();
    await sidecar?.stop();
    await redisKeys?.cleanup();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("stores the bodies sealed, the guard decisions in clear, and exports them opened", async () => {
    const report = audited("acme", Date.now() - 1000);
    assert.deepEqual(await recordUsage(client, report), { accepted: true });
    await sidecar.usageLedger.flush();
    const [row] = await auditRows("acme");
    assert.ok(row, "an audit_log row");
    assert.equal(row.request_id, report.request_id);
    assert.equal(row.guard_decisions, "redact:masked(email=1)");
    assert.equal(row.master_key_id, "mk-test");
    const sealed = Buffer.concat([row.ciphertext as Buffer, row.nonce as Buffer, row.auth_tag as Buffer]);
    assert.ok(!sealed.includes(Buffer.from("invoice")) && !sealed.includes(Buffer.from("EMAIL_1")), "ciphertext holds no plaintext");
    const ledger = await db.query<{ guard_decisions: string }>("SELECT guard_decisions FROM usage_ledger WHERE request_id = $1", [report.request_id]);
    assert.equal(ledger.rows[0]?.guard_decisions, "redact:masked(email=1)");

    const from = new Date(Date.now() - DAY).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const page = await api("GET", `/tenants/acme/audit?from=${from}&to=${to}`);
    assert.equal(page.status, 200);
    const entries = page.body.entries as Array<Record<string, unknown>>;
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.request_body, PROMPT);
    assert.equal(entries[0]!.response_body, ANSWER);
    assert.equal(entries[0]!.truncated, false);
    assert.equal(page.body.next, null);

    const text = await (await fetch(metrics)).text();
    assert.match(text, /leash_guard_decisions_total\{module="redact",decision="masked",tenant="acme"\} 1\b/);
    assert.match(text, /leash_audit_entries_total\{result="sealed"\} 1\b/);
  });

  it("takes the largest report the usage module sends (both bodies at 1 MiB), and refuses a message over 4 MiB", async () => {
    // audit_max_body_bytes' ceiling per body; the text is JSON-free, so each entry opens as stored.
    const body = Buffer.alloc(1_048_576, "a");
    const big = audited("initech", Date.now() - 1000, { audit_request_body: body, audit_response_body: body });
    assert.deepEqual(await recordUsage(client, big), { accepted: true });
    await sidecar.usageLedger.flush();
    assert.equal((await auditRows("initech")).length, 1);
    // Over the limit: refused as a whole, nothing stored.
    const over = [0, 1].map((i) => audited("initech", Date.now() - 2000 - i, { audit_request_body: body, audit_response_body: body }));
    await assert.rejects(recordUsageBatch(client, over), (e: grpc.ServiceError) => e.code === grpc.status.RESOURCE_EXHAUSTED);
    await sidecar.usageLedger.flush();
    assert.equal((await auditRows("initech")).length, 1);
  });

  it("pages through a trail in order, and a replayed report stores nothing twice", async () => {
    const base = Date.now() - 3600_000;
    const reports = [0, 1, 2].map((i) => audited("globex", base + i * 1000));
    for (const r of reports) await recordUsage(client, r);
    await recordUsage(client, reports[1]!); // a retried report
    await sidecar.usageLedger.flush();
    assert.equal((await auditRows("globex")).length, 3);
    const from = new Date(base - 1).toISOString();
    const to = new Date(Date.now()).toISOString();
    const seen: string[] = [];
    let cursor: unknown = null;
    do {
      const q: string = `from=${from}&to=${to}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await api("GET", `/tenants/globex/audit?${q}`);
      assert.equal(page.status, 200);
      for (const e of page.body.entries as Array<{ request_id: string }>) seen.push(e.request_id);
      cursor = page.body.next;
    } while (cursor);
    assert.deepEqual(seen, reports.map((r) => r.request_id));
  });

  it("a row moved to another tenant does not open", async () => {
    const report = audited("initech", Date.now() - 2000);
    await recordUsage(client, report);
    await sidecar.usageLedger.flush();
    await db.query("UPDATE audit_log SET tenant_id = 'acme' WHERE request_id = $1", [report.request_id]);
    const from = new Date(Date.now() - DAY).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const entries = (await api("GET", `/tenants/acme/audit?from=${from}&to=${to}`)).body.entries as Array<Record<string, unknown>>;
    const moved = entries.find((e) => e.request_id === report.request_id);
    assert.equal(moved?.error, "authentication_failed");
    assert.equal(moved?.request_body, undefined);
  });

  it("stores no body for a report without the audit flag", async () => {
    const report = usageReport({ tenant_id: "acme", audit_request_body: Buffer.from(PROMPT) });
    await recordUsage(client, report);
    await sidecar.usageLedger.flush();
    const n = await db.query("SELECT 1 FROM audit_log WHERE request_id = $1", [report.request_id]);
    assert.equal(n.rows.length, 0);
  });

  it("refuses a malformed audit policy and unknown query parameters", async () => {
    const bad = await api("PATCH", "/tenants/acme", { module_settings: { audit: { enabled: "yes", retention_days: 0, keep: 1 } } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /audit\.enabled.*audit\.retention_days.*audit\.keep/);
    const good = await api("PATCH", "/tenants/acme", { module_settings: { audit: { enabled: true, retention_days: 7 } } });
    assert.equal(good.status, 200);
    const cursor = await api("GET", `/tenants/acme/audit?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&cursor=nope`);
    assert.equal(cursor.status, 400);
    const missing = await api("GET", `/tenants/nobody/audit?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z`);
    assert.equal(missing.status, 404);
  });

  it("retention deletes each tenant's entries past its retention and drops old partitions", async () => {
    const now = Date.now();
    // acme keeps 7 days (set above); globex has no policy (30 days).
    const old = [audited("acme", now - 10 * DAY), audited("acme", now - 3 * DAY), audited("globex", now - 20 * DAY), audited("globex", now - 40 * DAY)];
    // A month far in the past: its partition must go entirely.
    const ancient = audited("globex", Date.UTC(2024, 0, 15));
    for (const r of [...old, ancient]) assert.deepEqual(await recordUsage(client, r), { accepted: true });
    await sidecar.usageLedger.flush();
    const result = await runAuditRetention({ db, now, log: silentLogger });
    assert.equal(result.ran, true);
    assert.ok(result.droppedPartitions.includes("audit_log_p202401"), `dropped ${result.droppedPartitions.join(",")}`);
    const kept = async (id: string) => (await db.query("SELECT 1 FROM audit_log WHERE request_id = $1", [id])).rows.length === 1;
    assert.equal(await kept(old[0]!.request_id), false, "acme 10 days old: past 7");
    assert.equal(await kept(old[1]!.request_id), true, "acme 3 days old");
    assert.equal(await kept(old[2]!.request_id), true, "globex 20 days old: within 30");
    assert.equal(await kept(old[3]!.request_id), false, "globex 40 days old: past 30");
    assert.equal(await kept(ancient.request_id), false);
    // The ledger keeps its rows: retention here is the audit trail's.
    const ledger = await db.query("SELECT 1 FROM usage_ledger WHERE request_id = $1", [old[0]!.request_id]);
    assert.equal(ledger.rows.length, 1);
  });
});

describe("audit trail without a master key", () => {
  it("drops the bodies (never stores them in clear) and still records the usage row", async () => {
    const schema = await createTestSchema("auditnokey", RUN);
    const redisKeys = createTestKeyPrefix("auditnokey", RUN);
    const dataDir = mkdtempSync(join(tmpdir(), "leash-audit-nokey-"));
    const db = await schema.openMigrated();
    const sidecar = createSidecar({
      db,
      store: await redisKeys.openStore(),
      registry: new Registry(),
      config: sidecarTestConfig({
        sidecar: { database_url: TEST_DATABASE_URL, redis_url: TEST_REDIS_URL, data_dir: dataDir },
        providers: [{ name: "mock", api: "openai" }],
      }),
      pepper: PEPPER,
      ring: null,
    });
    const ports = await sidecar.start();
    const client = authorizeClient(ports.grpcPort);
    try {
      const report = usageReport({ tenant_id: "acme", audit: true, audit_request_body: Buffer.from(PROMPT) });
      assert.deepEqual(await recordUsage(client, report), { accepted: true });
      await sidecar.usageLedger.flush();
      assert.equal((await db.query("SELECT 1 FROM audit_log")).rows.length, 0);
      assert.equal((await db.query("SELECT 1 FROM usage_ledger WHERE request_id = $1", [report.request_id])).rows.length, 1);
      const text = await (await fetch(`http://127.0.0.1:${ports.httpPort}/metrics`)).text();
      assert.match(text, /leash_audit_entries_total\{result="unsealable"\} 1\b/);
    } finally {
      client.close();
      await sidecar.stop();
      await redisKeys.cleanup();
      await schema.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
