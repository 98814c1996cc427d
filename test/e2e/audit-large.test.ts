// Audited requests with large bodies, many at once (docs/audit-trail.md, bounds): each usage report
// then carries up to audit_max_body_bytes (256 KiB by default) of request body, and the usage
// module batches reports. A batch must never be larger than the sidecar accepts: before this
// test, eight such reports in one RecordUsageBatch (≈ 2 MiB) were refused by the sidecar's 1 MiB
// gRPC message limit, requeued, and refused again at every retry, so neither the ledger rows nor
// the audit entries of those requests were ever stored. Real Envoy with the full chain, the sidecar
// on PostgreSQL and Redis, the official OpenAI SDK.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { waitFor } from "../integration/envoy-harness.ts";

const REQUESTS = 8;
/** The usage module's default audit_max_body_bytes. */
const AUDIT_MAX_BODY_BYTES = 256 * 1024;
/** Prompt text per request: over the default audit_max_body_bytes, so each body is cut there. */
const PROMPT_CHARS = 300_000;

let gw: Gateway;
let tenant: Tenant;

before(async () => {
  gw = await startGateway({ extraModules: ["redact: { enabled: true }"] });
  tenant = await gw.newTenant();
});
after(async () => {
  await gw?.stop();
});

async function count(table: "usage_ledger" | "audit_log"): Promise<number> {
  const { rows } = await gw.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = $1`, [tenant.id]);
  return Number(rows[0]!.n);
}

describe("audit trail with large bodies", () => {
  it("stores the ledger row and the audit entry of every request when their reports together exceed the sidecar's message limit", async () => {
    const on = await gw.admin("PATCH", `/tenants/${tenant.id}`, { module_settings: { audit: { enabled: true, retention_days: 1 } } });
    assert.equal(on.status, 200, JSON.stringify(on.json));
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: tenant.key, maxRetries: 0 });
    // Sent together, so their reports wait for the same flush of the usage module.
    const answers = await Promise.all(Array.from({ length: REQUESTS }, (_, i) =>
      client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: `request ${i}: ` + "the quick brown fox jumps over the lazy dog. ".repeat(PROMPT_CHARS / 45) }],
      })));
    assert.equal(answers.length, REQUESTS);

    await waitFor("every ledger row and audit entry", async () =>
      (await count("usage_ledger")) >= REQUESTS && (await count("audit_log")) >= REQUESTS ? true : undefined, 20_000);
    assert.equal(await count("usage_ledger"), REQUESTS);
    assert.equal(await count("audit_log"), REQUESTS);

    // Each entry opens, its request body cut at the module's bound and marked so.
    const out = gw.leash("audit", "export", "--tenant", tenant.id, "--from", "1h");
    assert.equal(out.status, 0, out.stderr);
    const entries = out.stdout.trim().split("\n").map((l) => JSON.parse(l) as { request_body?: string; truncated?: boolean; error?: string });
    assert.equal(entries.length, REQUESTS);
    for (const e of entries) {
      assert.equal(e.error, undefined);
      assert.equal(e.truncated, true);
      assert.ok(e.request_body!.startsWith('{"model":"gpt-4o-mini"') || e.request_body!.includes("request "), e.request_body!.slice(0, 80));
      assert.ok(Buffer.byteLength(e.request_body!) <= AUDIT_MAX_BODY_BYTES && Buffer.byteLength(e.request_body!) > AUDIT_MAX_BODY_BYTES - 1024,
        `request body of ${Buffer.byteLength(e.request_body!)} bytes`);
    }

    // Nothing was refused on the way: no batch failed, none dropped.
    const metrics = await gw.sidecar.metrics();
    const refused = metrics.split("\n").filter((l) => l.startsWith("leash_sidecar_grpc_requests_total{") && l.includes("RecordUsage") && !l.includes('code="OK"'));
    assert.deepEqual(refused, [], refused.join("\n"));
  });
});
