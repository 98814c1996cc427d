// The quota filter as shipped (build/release/quota.wasm) in the fake proxy-wasm host, with
// allow_on_headers_stop_iteration as the generator sets it: the request is held (headers and body)
// until the Reserve answer; allow continues it and puts x-ratelimit-* on the response; deny answers
// 429/503 in the route's format with Retry-After; a failed, late or garbled answer follows
// failure_mode; unlimited tenants are remembered per worker. Messages are checked with protobufjs
// over the real proto.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { FakeHost, type HttpStream } from "../host/index.ts";
import { decodeReserveRequest, encodeReserveResponse } from "./sidecar-proto.ts";

const WASM = fileURLToPath(new URL("../../build/release/quota.wasm", import.meta.url));
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
let clockMs = 1_700_000_000_000;

async function load(overrides: Record<string, unknown> = {}, clusters?: string[], random?: (size: number) => Uint8Array): Promise<FakeHost> {
  const host = await FakeHost.load(WASM, {
    rootId: "quota",
    clusters,
    random,
    allowOnHeadersStopIteration: true,
    now: () => BigInt(clockMs) * 1_000_000n,
    pluginConfig: JSON.stringify({
      module: "quota", failure_mode: "closed", timeout_ms: 250, sidecar_cluster: "leash_sidecar", max_body_bytes: 4096,
      routes: [{ prefix: "/openai", provider: "openai", api: "openai" }, { prefix: "/anthropic", provider: "anthropic", api: "anthropic" }],
      ...overrides,
    }),
  });
  assert.ok(host.startOk, host.logs.map((l) => l.message).join("\n"));
  return host;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A stream whose auth module admitted tenant/key, with its headers delivered. */
function start(host: FakeHost, path = "/openai/v1/chat/completions", tenant: string | null = "acme", key = "abcdefghijkl", endOfStream = false): { s: HttpStream; action: number | null } {
  const s = host.newHttpStream();
  if (tenant !== null) {
    s.filterState.set("leash.tenant_id", enc(tenant));
    s.filterState.set("leash.key_id", enc(key));
  }
  const action = s.requestHeaders([[":method", endOfStream ? "GET" : "POST"], [":path", path], ["x-request-id", "rid-7"], ["content-type", "application/json"]], endOfStream);
  return { s, action };
}

const BODY = JSON.stringify({ model: "gpt-4o-mini", max_tokens: 300, messages: [{ role: "user", content: "hello there" }] });

const LIMITED = {
  hasRequestLimit: true, limitRequests: 10, remainingRequests: 4, resetRequestsMs: 6000,
  hasTokenLimit: true, limitTokens: 10000, remainingTokens: 250, resetTokensMs: 61500,
};

function header(s: HttpStream, name: string): string | undefined {
  return s.localResponse?.headers.find(([n]) => n === name)?.[1];
}

describe("quota filter: admission", () => {
  it("holds the request until Reserve answers, sending the estimate, the output cap and the model", async () => {
    const host = await load();
    const { s, action } = start(host);
    assert.equal(action, 1, "headers must be held: the router may not open an upstream request yet");
    assert.equal(s.requestBody(BODY.slice(0, 20), false), 1, "first chunk buffered");
    assert.equal(host.grpcCalls.length, 0, "asked before the body was complete");
    assert.equal(s.requestBody(BODY.slice(20), true), 1, "body held while waiting");
    assert.equal(host.grpcCalls.length, 1);
    const call = host.grpcCalls[0];
    assert.equal(call.service, "leash.v1.Sidecar");
    assert.equal(call.method, "Reserve");
    assert.equal(call.timeoutMs, 250);
    const { reservationId, leaseId, ...req } = decodeReserveRequest(call.message);
    assert.match(String(reservationId), /^[0-9a-f]{32}$/);
    assert.equal(leaseId, "", "no lease asked for without settings.lease");
    assert.deepEqual(req, {
      requestId: "rid-7", tenantId: "acme", keyId: "abcdefghijkl", provider: "openai", model: "gpt-4o-mini",
      estimatedPromptTokens: Math.ceil(enc(BODY).length / 4), maxOutputTokens: 300, leaseOnly: false, leaseRequestsWanted: 0, leaseTokensWanted: 0,
    });
    assert.ok(s.paused.request);
    host.respondGrpc(call.token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    assert.equal(s.continued.request, true);
    assert.equal(s.localResponse, null);
    assert.equal(s.requestBodyText, BODY, "the body goes upstream unchanged");
    assert.equal(host.metric("leash_quota.allowed"), 1);
  });

  it("puts the answer's limits on the response, replacing the provider's own x-ratelimit-* headers", async () => {
    const host = await load();
    const { s } = start(host);
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    s.responseHeaders([[":status", "200"], ["x-ratelimit-limit-requests", "5000"], ["x-ratelimit-remaining-requests", "4999"]], false);
    assert.equal(s.responseHeader("x-ratelimit-limit-requests"), "10");
    assert.equal(s.responseHeader("x-ratelimit-remaining-requests"), "4");
    assert.equal(s.responseHeader("x-ratelimit-reset-requests"), "6s");
    assert.equal(s.responseHeader("x-ratelimit-limit-tokens"), "10000");
    assert.equal(s.responseHeader("x-ratelimit-remaining-tokens"), "250");
    assert.equal(s.responseHeader("x-ratelimit-reset-tokens"), "1m1.5s");
    assert.equal(s.getResponseHeaders().filter(([n]) => n === "x-ratelimit-limit-requests").length, 1);
  });

  it("on Anthropic routes also Anthropic's anthropic-ratelimit-* (reset as an RFC 3339 instant), replacing the provider's; none on OpenAI routes", async () => {
    const host = await load();
    const { s } = start(host, "/anthropic/v1/messages");
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    s.responseHeaders([[":status", "200"], ["anthropic-ratelimit-requests-remaining", "3999"], ["anthropic-ratelimit-tokens-limit", "400000"]], false);
    const at = (ms: number): string => new Date(Math.ceil((clockMs + ms) / 1000) * 1000).toISOString().replace(".000Z", "Z");
    assert.equal(s.responseHeader("anthropic-ratelimit-requests-limit"), "10");
    assert.equal(s.responseHeader("anthropic-ratelimit-requests-remaining"), "4");
    assert.equal(s.responseHeader("anthropic-ratelimit-requests-reset"), at(6000));
    assert.equal(s.responseHeader("anthropic-ratelimit-tokens-limit"), "10000");
    assert.equal(s.responseHeader("anthropic-ratelimit-tokens-remaining"), "250");
    assert.equal(s.responseHeader("anthropic-ratelimit-tokens-reset"), at(61500));
    assert.equal(s.getResponseHeaders().filter(([n]) => n === "anthropic-ratelimit-requests-remaining").length, 1);
    assert.equal(s.responseHeader("x-ratelimit-remaining-requests"), "4", "OpenAI's names stay on both routes");

    // A token-only tenant: the provider's request headers of the other kind are removed.
    const only = start(host, "/anthropic/v1/messages").s;
    only.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[1].token, encodeReserveResponse({
      decision: "ALLOW", hasTokenLimit: true, limitTokens: 100, remainingTokens: 40, resetTokensMs: 999,
    }));
    only.responseHeaders([[":status", "200"], ["anthropic-ratelimit-requests-limit", "4000"]], false);
    assert.equal(only.responseHeader("anthropic-ratelimit-requests-limit"), undefined);
    assert.equal(only.responseHeader("anthropic-ratelimit-tokens-reset"), at(999));

    const openai = start(host).s;
    openai.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[2].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    openai.responseHeaders([[":status", "200"]], false);
    assert.equal(openai.getResponseHeaders().filter(([n]) => n.startsWith("anthropic-ratelimit-")).length, 0);
  });

  it("shows only the kind of limit the tenant has, and removes the provider's headers of the other kind", async () => {
    const host = await load();
    const { s } = start(host);
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({
      decision: "ALLOW", hasRequestLimit: true, limitRequests: 3, remainingRequests: 2, resetRequestsMs: 250,
    }));
    s.responseHeaders([[":status", "200"], ["x-ratelimit-limit-tokens", "150000"], ["x-ratelimit-remaining-tokens", "149000"], ["x-ratelimit-reset-tokens", "6m0s"]], false);
    assert.equal(s.responseHeader("x-ratelimit-reset-requests"), "250ms");
    for (const n of ["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"]) {
      assert.equal(s.responseHeader(n), undefined, n);
    }
  });

  it("reserves a request without a body at its headers, with no estimate", async () => {
    const host = await load();
    const { s, action } = start(host, "/openai/v1/models", "acme", "abcdefghijkl", true);
    assert.equal(action, 1);
    const req = decodeReserveRequest(host.grpcCalls[0].message);
    assert.equal(req.estimatedPromptTokens, 0);
    assert.equal(req.maxOutputTokens, 0);
    assert.equal(req.model, "");
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    assert.equal(s.continued.request, true);
  });

  it("lets requests without a tenant through untouched and counts them", async () => {
    const host = await load();
    const { s, action } = start(host, "/openai/v1/chat/completions", null);
    assert.equal(action, 0);
    assert.equal(s.requestBody(BODY, true), 0);
    assert.equal(host.grpcCalls.length, 0);
    assert.equal(host.metric("leash_quota.no_tenant"), 1);
  });

  it("ignores paths outside the provider routes", async () => {
    const host = await load();
    const { s, action } = start(host, "/health");
    assert.equal(action, 0);
    assert.equal(s.requestBody("{}", true), 0);
    assert.equal(host.grpcCalls.length, 0);
    assert.equal(host.metric("leash_quota.no_tenant") ?? 0, 0);
  });

  it("a body that ends with trailers is reserved at the trailers, not held forever", async () => {
    const host = await load();
    const { s } = start(host);
    assert.equal(s.requestBody(BODY, false), 1);
    assert.equal(host.grpcCalls.length, 0);
    assert.equal(s.requestTrailers([["x-checksum", "1"]]), 1);
    assert.equal(host.grpcCalls.length, 1);
    const req = decodeReserveRequest(host.grpcCalls[0].message);
    assert.equal(req.estimatedPromptTokens, Math.ceil(enc(BODY).length / 4));
    assert.equal(req.maxOutputTokens, 300);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    assert.equal(s.continued.request, true);
  });

  it("refuses a body over max_body_bytes without asking", async () => {
    const host = await load({ max_body_bytes: 1024 });
    const { s } = start(host);
    s.requestBody("{\"model\":\"m\",\"x\":\"" + "a".repeat(2000) + "\"}", true);
    assert.equal(s.localResponse?.status, 413);
    assert.equal(header(s, "x-leash-code"), "gateway.body_too_large");
    assert.equal(host.grpcCalls.length, 0);
  });
});

describe("quota filter: denials", () => {
  it("answers 429 in OpenAI's format with the code, Retry-After and the limits", async () => {
    const host = await load();
    const { s } = start(host);
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({
      decision: "DENY", code: "quota.rpm_exceeded", message: "Request limit reached.", httpStatus: 429, retryAfterS: 12,
      hasRequestLimit: true, limitRequests: 10, remainingRequests: 0, resetRequestsMs: 12000,
    }));
    assert.equal(s.continued.request, false);
    assert.equal(s.localResponse?.status, 429);
    assert.deepEqual(JSON.parse(s.localResponse!.body), {
      error: { message: "Request limit reached.", type: "rate_limit_exceeded", param: null, code: "quota.rpm_exceeded" },
    });
    assert.equal(header(s, "retry-after"), "12");
    assert.equal(header(s, "x-leash-code"), "quota.rpm_exceeded");
    assert.equal(header(s, "x-ratelimit-limit-requests"), "10");
    assert.equal(header(s, "x-ratelimit-remaining-requests"), "0");
    assert.equal(header(s, "x-ratelimit-reset-requests"), "12s");
    assert.equal(header(s, "x-ratelimit-limit-tokens"), undefined);
    assert.equal(host.metric("leash_quota.denied"), 1);
  });

  it("answers in Anthropic's format on Anthropic routes, with the sidecar's status (503 quota.unavailable)", async () => {
    const host = await load();
    const { s } = start(host, "/anthropic/v1/messages");
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({
      decision: "DENY", code: "quota.unavailable", message: "Quota store unavailable.", httpStatus: 503, retryAfterS: 1,
    }));
    assert.equal(s.localResponse?.status, 503);
    assert.deepEqual(JSON.parse(s.localResponse!.body), {
      type: "error", error: { type: "overloaded_error", message: "Quota store unavailable.", code: "quota.unavailable" },
    });
    assert.equal(header(s, "retry-after"), "1");
  });

  it("a 429 on an Anthropic route carries anthropic-ratelimit-* beside Retry-After", async () => {
    const host = await load();
    const { s } = start(host, "/anthropic/v1/messages");
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({
      decision: "DENY", code: "quota.rpm_exceeded", message: "Too many.", httpStatus: 429, retryAfterS: 12,
      hasRequestLimit: true, limitRequests: 10, remainingRequests: 0, resetRequestsMs: 12000,
    }));
    assert.equal(s.localResponse?.status, 429);
    assert.equal(header(s, "anthropic-ratelimit-requests-limit"), "10");
    assert.equal(header(s, "anthropic-ratelimit-requests-remaining"), "0");
    assert.equal(header(s, "anthropic-ratelimit-requests-reset"), new Date(Math.ceil((clockMs + 12000) / 1000) * 1000).toISOString().replace(".000Z", "Z"));
    assert.equal(header(s, "retry-after"), "12");
  });

  it("fills gaps in a deny answer: 429, a generic code and at least 1 s Retry-After", async () => {
    const host = await load();
    const { s } = start(host);
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "DENY", httpStatus: 200 }));
    assert.equal(s.localResponse?.status, 429);
    assert.equal(header(s, "x-leash-code"), "quota.exceeded");
    assert.equal(header(s, "retry-after"), "1");
  });
});

describe("quota filter: when the sidecar cannot answer", () => {
  for (const [what, act] of [
    ["fails (unavailable)", (h: FakeHost, t: number) => h.failGrpc(t, GRPC_UNAVAILABLE, "no healthy upstream")],
    ["times out", (h: FakeHost, t: number) => h.failGrpc(t, GRPC_DEADLINE_EXCEEDED, "deadline exceeded")],
    ["answers garbage", (h: FakeHost, t: number) => h.respondGrpc(t, new Uint8Array([0x0a, 0xff]))],
    ["answers an unspecified decision", (h: FakeHost, t: number) => h.respondGrpc(t, encodeReserveResponse({ decision: 0 }))],
  ] as const) {
    it(`closed: 503 quota.sidecar_unavailable when the call ${what}, nothing goes upstream`, async () => {
      const host = await load();
      const { s } = start(host);
      s.requestBody(BODY, true);
      act(host, host.grpcCalls[0].token);
      assert.equal(s.localResponse?.status, 503);
      assert.equal(header(s, "x-leash-code"), "quota.sidecar_unavailable");
      assert.equal(s.continued.request, false);
      assert.equal(host.metric("leash_quota.sidecar_errors"), 1);
      assert.equal(host.trapped, null);
    });

    it(`open: the request goes on when the call ${what}`, async () => {
      const host = await load({ failure_mode: "open" });
      const { s } = start(host);
      s.requestBody(BODY, true);
      act(host, host.grpcCalls[0].token);
      assert.equal(s.localResponse, null);
      assert.equal(s.continued.request, true);
      s.responseHeaders([[":status", "200"]], false);
      assert.equal(s.responseHeader("x-ratelimit-limit-requests"), undefined);
    });
  }

  it("closed: 503 when the call cannot even start (unknown cluster)", async () => {
    const host = await load({ sidecar_cluster: "nope" }, ["leash_sidecar"]);
    const { s } = start(host);
    s.requestBody(BODY, true);
    assert.equal(host.grpcCalls.length, 0);
    assert.equal(s.localResponse?.status, 503);
    assert.equal(header(s, "x-leash-code"), "quota.sidecar_unavailable");
  });

  it("open: the request goes on when the call cannot start", async () => {
    const host = await load({ sidecar_cluster: "nope", failure_mode: "open" }, ["leash_sidecar"]);
    const { s } = start(host);
    assert.equal(s.requestBody(BODY, true), 0);
    assert.equal(s.localResponse, null);
  });

  it("a stream that ends while waiting cancels its call", async () => {
    const host = await load();
    const { s } = start(host);
    s.requestBody(BODY, true);
    s.done();
    assert.equal(host.grpcCalls[0].state, "cancelled");
    assert.equal(host.trapped, null);
    assert.deepEqual(host.warnings, []);
  });
});

describe("quota filter: tenants without limits", () => {
  it("skips Reserve for a tenant and key the sidecar called unlimited, until the TTL ends", async () => {
    const host = await load();
    const first = start(host);
    first.s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", noLimitsTtlMs: 1000 }));
    first.s.responseHeaders([[":status", "200"]], false);
    assert.equal(first.s.responseHeader("x-ratelimit-limit-requests"), undefined);

    const second = start(host);
    assert.equal(second.action, 0, "no hold, no call");
    assert.equal(second.s.requestBody(BODY, true), 0);
    assert.equal(host.grpcCalls.length, 1);
    assert.equal(host.metric("leash_quota.no_limits_cache_hits"), 1);

    const otherKey = start(host, "/openai/v1/chat/completions", "acme", "zzzzzzzzzzzz");
    assert.equal(otherKey.action, 1, "the memory is per tenant and key");

    clockMs += 1000;
    const later = start(host);
    assert.equal(later.action, 1, "asks again once the TTL is over");
  });

  it("does not remember a TTL of 0, nor an unmetered (fail-open) answer", async () => {
    const host = await load();
    for (const answer of [{ decision: "ALLOW" as const }, { decision: "ALLOW" as const, unmetered: true, noLimitsTtlMs: 5000 }]) {
      const { s } = start(host);
      s.requestBody(BODY, true);
      host.respondGrpc(host.grpcCalls.at(-1)!.token, encodeReserveResponse(answer));
      assert.equal(s.continued.request, true);
    }
    const { action } = start(host);
    assert.equal(action, 1);
    assert.equal(host.metric("leash_quota.unmetered"), 1);
  });
});

describe("quota filter: reservation id", () => {
  const RESERVATION = "leash.quota.reservation";
  const published = (s: HttpStream): string | undefined => {
    const v = s.filterState.get(RESERVATION);
    return v === undefined ? undefined : new TextDecoder().decode(v);
  };

  it("names each reservation with 16 bytes of the host's random_get, never with x-request-id", async () => {
    // A scripted random source: the id must be exactly these bytes, so it comes from WASI
    // random_get (Envoy: BoringSSL RAND_bytes) and from nothing the client sent.
    let n = 0;
    const random = (size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => (n * 37 + i * 11) & 0xff);
    const host = await load({}, undefined, (size) => { n++; return random(size); });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { s } = start(host); // both with x-request-id rid-7
      s.requestBody(BODY, true);
      ids.push(String(decodeReserveRequest(host.grpcCalls[i].message).reservationId));
      const expected = Buffer.from(random(16)).toString("hex");
      assert.equal(ids[i], expected);
    }
    assert.notEqual(ids[0], ids[1], "same x-request-id, different reservations");
  });

  it("publishes the id as filter state once admitted, not before, not on a denial, not when unmetered", async () => {
    const host = await load();
    const { s } = start(host);
    s.requestBody(BODY, true);
    assert.equal(published(s), undefined, "nothing is reserved before the answer");
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    assert.equal(published(s), decodeReserveRequest(host.grpcCalls[0].message).reservationId);

    // A budget-only tenant: no limits to show in headers, but a reservation all the same.
    const budget = start(host).s;
    budget.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[1].token, encodeReserveResponse({ decision: "ALLOW" }));
    assert.equal(published(budget), decodeReserveRequest(host.grpcCalls[1].message).reservationId);

    const unmetered = start(host).s;
    unmetered.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[2].token, encodeReserveResponse({ decision: "ALLOW", unmetered: true }));
    assert.equal(unmetered.continued.request, true);
    assert.equal(published(unmetered), undefined, "an unmetered request has no reservation");

    // Last: the fake host keeps a local reply's stop flag until the next stream callback takes it.
    const denied = start(host).s;
    denied.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[3].token, encodeReserveResponse({ decision: "DENY", code: "quota.rpm_exceeded", httpStatus: 429 }));
    assert.equal(denied.localResponse?.status, 429);
    assert.equal(published(denied), undefined);
  });

  it("publishes its processing time as leash.timing.quota", async () => {
    const host = await load();
    const { s } = start(host);
    s.requestBody(BODY, true);
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    // Published once, in the log pass (sdk/timing.ts).
    s.done();
    const t = s.filterState.get("leash.timing.quota");
    assert.ok(t !== undefined && /^\d+$/.test(new TextDecoder().decode(t)));
  });
});

describe("quota filter: configuration", () => {
  it("refuses a bad configuration, logging the expected shape", async () => {
    const host = await FakeHost.load(WASM, { rootId: "quota", pluginConfig: JSON.stringify({ timeout_ms: 0, routes: [] }) });
    assert.equal(host.startOk, false);
    assert.equal(host.trapped, null);
    const line = host.logs.find((l) => l.message.startsWith("quota: invalid plugin configuration"));
    assert.ok(line, host.logs.map((l) => l.message).join("\n"));
    assert.match(line.message, /timeout_ms must be a number from 1 to 60000; expected shape: \{"module":"quota"/);
  });
});
