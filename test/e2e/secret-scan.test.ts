// No key in any observable output (issue #5): plain and streamed traffic through the official
// OpenAI and Anthropic SDKs, with tracing on, two tenants (one with its own stored provider
// credential), a revoked key and a made-up key; then every output an operator ships somewhere is
// scanned with the secret detector (test/support/secret-scan.ts): Envoy's access and application
// log, the sidecar's log, the sidecar's /metrics, Envoy's /stats/prometheus and /config_dump,
// every received OTLP span, and the ledger and request log rows. No tenant key, provider credential or gateway secret
// may appear, nor anything shaped like one. A control scan of what the mock provider received
// proves the detector sees the provider credentials where they belong.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { PROVIDER_KEY, startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { httpGet, waitFor } from "../integration/envoy-harness.ts";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.ts";
import { describeFindings, scanForSecrets, type KnownSecret } from "../support/secret-scan.ts";

// Envoy at info level, as in production (its debug level prints request headers, keys included:
// never run a production gateway at debug).
process.env.ENVOY_LOG_LEVEL = "info";

let receiver: OtlpReceiver;
let gw: Gateway;
let alice: Tenant;
let bob: Tenant;
let revoked: Tenant;
const BOB_PROVIDER_KEY = "sk-bob-own-" + randomBytes(12).toString("hex");
const MADE_UP_KEY = "lsh_zzzzzzzzzzzz_" + randomBytes(16).toString("hex");
const traceparent = (): string => `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;

before(async () => {
  receiver = await startOtlpReceiver();
  gw = await startGateway({ otlpEndpoint: receiver.url });
  [alice, bob, revoked] = [await gw.newTenant(), await gw.newTenant(), await gw.newTenant()];
  const cred = await gw.admin("PUT", "/credentials", { tenant_id: bob.id, provider: "mock", api_key: BOB_PROVIDER_KEY });
  assert.ok(cred.status < 300, JSON.stringify(cred.json));
  const rev = await gw.admin("POST", `/keys/${revoked.keyId}/revoke`);
  assert.ok(rev.status < 300, JSON.stringify(rev.json));
});
after(async () => {
  await gw?.stop();
  await receiver?.close();
});

function known(): KnownSecret[] {
  return [
    { label: "alice tenant key", value: alice.key },
    { label: "bob tenant key", value: bob.key },
    { label: "revoked tenant key", value: revoked.key },
    { label: "made-up tenant key", value: MADE_UP_KEY },
    { label: "gateway provider key", value: PROVIDER_KEY },
    { label: "bob's stored provider key", value: BOB_PROVIDER_KEY },
    { label: "key pepper", value: gw.env.LEASH_KEY_PEPPER! },
    { label: "master key", value: gw.env.LEASH_MASTER_KEY! },
    { label: "admin token", value: gw.env.LEASH_ADMIN_TOKEN! },
  ];
}

describe("secret scan of every observable output", () => {
  it("finds no key, credential or gateway secret after plain and streamed SDK traffic", async () => {
    let served = 0;
    for (const t of [alice, bob]) {
      const openai = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: t.key, maxRetries: 0, defaultHeaders: { traceparent: traceparent() } });
      await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `scan plain ${t.id}` }] });
      const stream = await openai.chat.completions.create({
        model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true },
        messages: [{ role: "user", content: `scan stream ${t.id}` }],
      });
      for await (const _ of stream) { /* drain */ }
      const anthropic = new Anthropic({ baseURL: `${gw.url}/mock-anthropic`, apiKey: t.key, maxRetries: 0, defaultHeaders: { traceparent: traceparent() } });
      await anthropic.messages.create({ model: "claude-3-5-haiku-latest", max_tokens: 32, messages: [{ role: "user", content: `scan plain ${t.id}` }] });
      await anthropic.messages.stream({ model: "claude-3-5-haiku-latest", max_tokens: 32, messages: [{ role: "user", content: `scan stream ${t.id}` }] }).finalMessage();
      served += 4;
    }
    // Refused keys travel the same paths up to the sidecar (and its request log).
    for (const key of [revoked.key, MADE_UP_KEY]) {
      const client = new OpenAI({ baseURL: `${gw.url}/mock/v1`, apiKey: key, maxRetries: 0 });
      await assert.rejects(client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "scan refused" }] }), { status: 401 });
    }

    // Everything has landed: the ledger rows, the sidecar's spans (RecordUsage is the last one).
    await waitFor("ledger rows", async () => {
      const { rows } = await gw.db.query<{ n: string }>("SELECT count(*) AS n FROM usage_ledger");
      return Number(rows[0]!.n) >= served ? true : undefined;
    }, 15_000);
    await waitFor("spans", async () => {
      const usage = receiver.spans.filter((s) => s.name === "leash.v1.Sidecar/RecordUsage").length;
      const envoy = receiver.spans.filter((s) => s.service === "leash-e2e").length;
      return usage >= served && envoy >= 2 * served ? true : undefined;
    }, 20_000);

    // Envoy flushes its stdout access log about once a second.
    await waitFor("access log lines", async () =>
      (gw.envoy.logs.match(/"request_id":"/g) ?? []).length >= served + 2 ? true : undefined, 15_000);

    const ledger = await gw.db.query("SELECT * FROM usage_ledger");
    const requestLog = await gw.db.query("SELECT * FROM request_log");
    const outputs: Record<string, string> = {
      "envoy log": gw.envoy.logs,
      "sidecar log": gw.sidecar.output,
      "sidecar /metrics": await gw.sidecar.metrics(),
      "envoy /stats/prometheus": await gw.envoyStats(),
      // Provider credentials live in the sidecar, never in Envoy's config: keep it that way.
      "envoy /config_dump": (await httpGet(gw.envoy.adminPort, "/config_dump")).body,
      "otlp spans": receiver.raw.join("\n"),
      "usage_ledger rows": JSON.stringify(ledger.rows),
      "request_log rows": JSON.stringify(requestLog.rows),
    };
    // The outputs hold what they should (an empty scan of empty text proves nothing).
    assert.ok(outputs["envoy log"]!.includes(`"tenant_id":"${alice.id}"`), "no access log line of alice's");
    assert.match(outputs["sidecar log"]!, /"message":"request completed"/);
    assert.ok(ledger.rows.length >= served && requestLog.rows.length > 0);
    assert.ok(receiver.spans.some((s) => s.encoding === "protobuf") && receiver.spans.some((s) => s.encoding === "json"));

    const findings = Object.entries(outputs).flatMap(([source, text]) => scanForSecrets(source, text, known()));
    assert.deepEqual(findings, [], `secrets found:\n${describeFindings(findings)}`);

    // Control: the provider did get the credentials (the gateway's, and bob's own), and the
    // detector finds them there.
    const upstream = JSON.stringify(gw.mock.requests.map((r) => r.headers));
    const control = scanForSecrets("mock provider", upstream, known()).map((f) => f.kind);
    assert.ok(control.includes("known:gateway provider key"), describeFindings(scanForSecrets("mock provider", upstream, known())));
    assert.ok(control.includes("known:bob's stored provider key"));
    assert.ok(!control.some((k) => k.includes("tenant key")), "a tenant key reached the provider");
  });
});
