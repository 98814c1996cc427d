// Metering end to end: the official SDKs through Envoy (auth + usage modules) to the mock; the
// usage module reports each request; the sidecar writes one ledger row per request (Postgres) and
// the seed's Prometheus metrics. Ledger rows must agree with the usage the mock provider reported
// to the client, for plain and streamed requests, OpenAI and Anthropic.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { waitFor } from "../integration/envoy-harness.ts";

let gw: Gateway;
let tenant: Tenant;
before(async () => {
  gw = await startGateway();
  tenant = await gw.newTenant();
});
after(async () => { await gw?.stop(); });

interface LedgerRow {
  request_id: string; tenant_id: string; provider: string; model: string; status: number;
  prompt_tokens: string; completion_tokens: string; streamed: boolean; estimated: boolean;
}

/** The ledger row of the request the mock saw with `marker` in its messages. */
async function rowFor(marker: string): Promise<LedgerRow> {
  const seen = await waitFor("the mock to receive the request", async () =>
    gw.mock.requests.find((r) => r.body.includes(marker)), 5000);
  const requestId = String(seen.headers["x-request-id"]);
  return waitFor(`ledger row of ${requestId}`, async () => {
    const { rows } = await gw.db.query<LedgerRow>("SELECT * FROM usage_ledger WHERE request_id = $1", [requestId]);
    return rows.length === 1 ? rows[0] : undefined;
  }, 10_000);
}

describe("usage ledger", () => {
  it("records a non-streamed OpenAI completion with the provider's token counts", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: tenant.key, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "usage plain marker-1" }] });
    const row = await rowFor("marker-1");
    assert.equal(row.tenant_id, tenant.id);
    assert.equal(row.provider, "mock");
    assert.equal(row.status, 200);
    assert.equal(Number(row.prompt_tokens), res.usage!.prompt_tokens);
    assert.equal(Number(row.completion_tokens), res.usage!.completion_tokens);
    assert.equal(row.streamed, false);
    assert.equal(row.estimated, false);
  });

  it("records a streamed OpenAI completion from the usage chunk", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: tenant.key, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true },
      messages: [{ role: "user", content: "usage stream marker-2 with a few more words" }],
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) if (c.usage) usage = c.usage;
    const row = await rowFor("marker-2");
    assert.ok(usage);
    assert.equal(Number(row.prompt_tokens), usage.prompt_tokens);
    assert.equal(Number(row.completion_tokens), usage.completion_tokens);
    assert.equal(row.streamed, true);
    assert.equal(row.estimated, false);
  });

  it("records a streamed Anthropic message (message_start + message_delta usage)", async () => {
    const client = new Anthropic({ baseURL: `${gw.url}/mock-anthropic`, apiKey: tenant.key, maxRetries: 0 });
    const final = await client.messages.stream({ model: "claude-3-5-haiku-latest", max_tokens: 64, messages: [{ role: "user", content: "usage anthropic marker-3" }] }).finalMessage();
    const row = await rowFor("marker-3");
    assert.equal(row.provider, "mock-anthropic");
    assert.equal(Number(row.prompt_tokens), final.usage.input_tokens);
    assert.equal(Number(row.completion_tokens), final.usage.output_tokens);
    assert.equal(row.streamed, true);
  });

  it("hands the correlation id back to the client: the same id the provider saw and the ledger keeps", async () => {
    const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json", "x-request-id": "client-chosen-id-4" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "usage marker-4" }] }),
    });
    await res.arrayBuffer();
    assert.equal(res.headers.get("x-request-id"), "client-chosen-id-4");
    const row = await rowFor("marker-4");
    assert.equal(row.request_id, "client-chosen-id-4");

    const generated = await fetch(`${gw.url}/mock/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "usage marker-5" }] }),
    });
    await generated.arrayBuffer();
    const id = generated.headers.get("x-request-id");
    assert.ok(id && id.length > 0, "no generated x-request-id in the response");
    assert.equal((await rowFor("marker-5")).request_id, id);
  });

  it("exposes the seed's metrics for the metered requests", async () => {
    const metrics = await waitFor("metrics", async () => {
      const m = await gw.sidecar.metrics();
      return m.includes("leash_gateway_requests_total{") ? m : undefined;
    }, 5000);
    assert.match(metrics, new RegExp(`leash_gateway_requests_total\\{[^}]*tenant="${tenant.id}"[^}]*\\} [1-9]`));
    assert.match(metrics, /leash_gateway_request_duration_seconds_bucket\{/);
    assert.match(metrics, /leash_provider_latency_seconds_bucket\{/);
    assert.match(metrics, /leash_tokens_total\{/);
  });

  it("observes each module's processing time per tenant, with plausible values", async () => {
    // Every test above sent at least one request through both modules for this tenant.
    const metrics = await gw.sidecar.metrics();
    for (const module of ["auth", "usage"]) {
      const labels = `module="${module}",tenant="${tenant.id}"`;
      const count = Number(metrics.match(new RegExp(`leash_module_processing_duration_seconds_count\\{${labels}\\} (\\S+)`))?.[1]);
      const sum = Number(metrics.match(new RegExp(`leash_module_processing_duration_seconds_sum\\{${labels}\\} (\\S+)`))?.[1]);
      assert.ok(count >= 4, `${module}: ${count} observations in\n${metrics}`);
      // Real work was measured (not zero), and a module's callbacks for one small request take
      // far less than the request itself (well under 100 ms even on a loaded test machine).
      assert.ok(sum > 0, `${module}: sum ${sum}`);
      assert.ok(sum / count < 0.1, `${module}: mean ${sum / count} s`);
    }
  });
});
