// The auth filter as shipped (build/release/auth.wasm, and the debug build) in the fake proxy-wasm
// host: configuration, key extraction, the gRPC call-out and its answer (allow, deny, failure,
// garbage), fail closed/open, late replies to ended streams, JSON body checks, error formats.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { FakeHost, decodeUpstreamCluster, type HttpStream } from "../host/index.ts";
import { decodeAuthorizeRequest, encodeAuthorizeResponse } from "./sidecar-proto.ts";

const RELEASE = fileURLToPath(new URL("../../build/release/auth.wasm", import.meta.url));
const DEBUG = fileURLToPath(new URL("../../build/debug/auth.wasm", import.meta.url));
const TENANT_KEY = "lsh_abcdefghijkl_" + "s".repeat(32);

function pluginConfig(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    module: "auth",
    failure_mode: "closed",
    timeout_ms: 250,
    sidecar_cluster: "leash_sidecar",
    routes: [
      { prefix: "/openai", provider: "openai", api: "openai" },
      { prefix: "/anthropic", provider: "anthropic", api: "anthropic" },
    ],
    ...overrides,
  });
}

/** The host's wall clock, in ms; tests move it forward to expire cached answers. */
let clockMs = 1_700_000_000_000;

async function load(overrides: Record<string, unknown> = {}, path: string = RELEASE): Promise<FakeHost> {
  const host = await FakeHost.load(path, { rootId: "auth", pluginConfig: pluginConfig(overrides), now: () => BigInt(clockMs) * 1_000_000n });
  assert.ok(host.startOk, `filter did not start: ${host.logs.map((l) => l.message).join("\n")}`);
  return host;
}

function post(s: HttpStream, path: string, headers: Array<[string, string]> = [], endOfStream = false): number | null {
  return s.requestHeaders([[":method", "POST"], [":path", path], [":authority", "gw"], ["x-request-id", "rid-1"], ["content-type", "application/json"], ...headers], endOfStream);
}

function jsonBody(s: HttpStream): Record<string, unknown> {
  assert.ok(s.localResponse, "expected a local response");
  return JSON.parse(s.localResponse.body) as Record<string, unknown>;
}

const ALLOW = encodeAuthorizeResponse({
  decision: "ALLOW", tenant_id: "acme", key_id: "abcdefghijkl",
  upstream_auth_header: "authorization", upstream_auth_value: "Bearer sk-provider",
});

describe("auth filter configuration", () => {
  it("starts with the generator's plugin configuration", async () => {
    const host = await load();
    assert.ok(host.logs.some((l) => l.message.includes("configured with 2 routes")));
  });

  it("refuses to start without a configuration (fail closed, no throw)", async () => {
    const host = await FakeHost.load(RELEASE, { rootId: "auth", pluginConfig: "" });
    assert.equal(host.startOk, false);
    assert.equal(host.trapped, null);
    assert.ok(host.logs.some((l) => l.message.includes("configuration is empty") && l.message.includes("expected shape")));
  });

  it("names the bad key of an invalid configuration", async () => {
    const host = await FakeHost.load(RELEASE, { rootId: "auth", pluginConfig: pluginConfig({ failure_mode: "sometimes" }) });
    assert.equal(host.startOk, false);
    assert.ok(host.logs.some((l) => l.message.includes("failure_mode must be")));
    const notJson = await FakeHost.load(RELEASE, { rootId: "auth", pluginConfig: "{routes:" });
    assert.equal(notJson.startOk, false);
  });

  it("loads the debug build too, under any root id (the module registers a single root)", async () => {
    const host = await FakeHost.load(DEBUG, { rootId: "something-else", pluginConfig: pluginConfig() });
    assert.equal(host.startOk, true);
  });
});

describe("auth filter requests", () => {
  it("lets non-provider paths through without a call-out", async () => {
    const host = await load();
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders([[":method", "GET"], [":path", "/health"]], true), 0);
    assert.equal(host.grpcCalls.length, 0);
  });

  it("answers a request without a key with 401 auth.missing_key in the route's format", async () => {
    const host = await load();
    const s = host.newHttpStream();
    post(s, "/openai/v1/chat/completions");
    assert.equal(s.localResponse?.status, 401);
    const err = jsonBody(s).error as { message: string; type: string; param: null; code: string };
    assert.equal(err.type, "authentication_error");
    assert.equal(err.code, "auth.missing_key");
    assert.equal(err.param, null);
    assert.match(err.message, /Authorization: Bearer/);
    assert.equal(s.localResponse?.headers.find(([k]) => k === "x-leash-code")?.[1], "auth.missing_key");
    const a = host.newHttpStream();
    post(a, "/anthropic/v1/messages", [["authorization", "Basic abc"]]);
    const body = jsonBody(a) as { type: string; error: { type: string; code: string } };
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "authentication_error");
    assert.equal(body.error.code, "auth.missing_key");
    assert.equal(host.grpcCalls.length, 0);
  });

  for (const [header, value] of [["authorization", `Bearer ${TENANT_KEY}`], ["x-api-key", TENANT_KEY], ["api-key", TENANT_KEY], ["x-goog-api-key", TENANT_KEY]] as const) {
    it(`sends the key from ${header} to the sidecar in a well-formed Authorize call`, async () => {
      const host = await load();
      const s = host.newHttpStream();
      assert.equal(post(s, "/openai/v1/chat/completions", [[header, value]]), 1); // StopIteration
      assert.equal(host.grpcCalls.length, 1);
      const call = host.grpcCalls[0];
      assert.equal(decodeUpstreamCluster(call.upstream), "leash_sidecar");
      assert.equal(call.service, "leash.v1.Sidecar");
      assert.equal(call.method, "Authorize");
      assert.equal(call.timeoutMs, 250);
      assert.deepEqual(call.metadata, [["x-request-id", "rid-1"]]);
      assert.deepEqual(decodeAuthorizeRequest(call.message), {
        api_key: TENANT_KEY, provider: "openai", request_id: "rid-1", method: "POST", path: "/openai/v1/chat/completions",
      });
    });
  }

  it("on ALLOW swaps the tenant key for the provider credential and resumes", async () => {
    const host = await load();
    const s = host.newHttpStream();
    post(s, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`], ["x-api-key", "other"], ["api-key", "x"], ["x-goog-api-key", "y"]]);
    host.respondGrpc(host.grpcCalls[0].token, ALLOW);
    assert.equal(s.localResponse, null);
    assert.equal(s.continued.request, true);
    const headers = s.getRequestHeaders();
    assert.deepEqual(headers.filter(([k]) => k === "authorization"), [["authorization", "Bearer sk-provider"]]);
    for (const k of ["x-api-key", "api-key", "x-goog-api-key"]) assert.ok(!headers.some(([h]) => h === k), `${k} not removed`);
    assert.ok(!headers.some(([, v]) => v.includes(TENANT_KEY)));
    assert.equal(new TextDecoder().decode(s.filterState.get("leash.tenant_id")), "acme");
    assert.equal(s.filterState.has("leash.policy"), false, "no guard policy: the guards keep their defaults");
  });

  it("on ALLOW hands the tenant's guard policy to the guard modules as filter state leash.policy, cached answers too", async () => {
    const host = await load();
    const policy = '{"redact":{"entities":{"email":"block"}},"injection":{"action":"flag","threshold":0.5}}';
    const answer = encodeAuthorizeResponse({ decision: "ALLOW", tenant_id: "acme", cache_ttl_ms: 1000, module_policy: policy });
    const s = host.newHttpStream();
    post(s, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    host.respondGrpc(host.grpcCalls[0].token, answer);
    assert.equal(new TextDecoder().decode(s.filterState.get("leash.policy")), policy);
    const again = host.newHttpStream();
    post(again, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    assert.equal(host.grpcCalls.length, 1, "second request served from the decision cache");
    assert.equal(new TextDecoder().decode(again.filterState.get("leash.policy")), policy);
  });

  it("on ALLOW for an Anthropic route injects x-api-key and a default anthropic-version", async () => {
    const host = await load();
    const s = host.newHttpStream();
    post(s, "/anthropic/v1/messages", [["x-api-key", TENANT_KEY]]);
    host.respondGrpc(host.grpcCalls[0].token, encodeAuthorizeResponse({ decision: "ALLOW", tenant_id: "t", upstream_auth_header: "x-api-key", upstream_auth_value: "sk-ant" }));
    assert.equal(s.requestHeader("x-api-key"), "sk-ant");
    assert.equal(s.requestHeader("anthropic-version"), "2023-06-01");
  });

  it("on DENY answers with the sidecar's status, code and message", async () => {
    const host = await load();
    const s = host.newHttpStream();
    post(s, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    host.respondGrpc(host.grpcCalls[0].token, encodeAuthorizeResponse({ decision: "DENY", code: "auth.key_revoked", message: "This API key was revoked.", http_status: 401 }));
    assert.equal(s.localResponse?.status, 401);
    assert.deepEqual(jsonBody(s), { error: { message: "This API key was revoked.", type: "authentication_error", param: null, code: "auth.key_revoked" } });
    assert.equal(s.continued.request, false);
  });

  it("fails closed: a failed call (UNAVAILABLE, DEADLINE_EXCEEDED) or a garbage answer gives 503", async () => {
    const host = await load();
    for (const status of [14, 4]) {
      const s = host.newHttpStream();
      post(s, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
      host.failGrpc(host.grpcCalls[host.grpcCalls.length - 1].token, status, "upstream connect error");
      assert.equal(s.localResponse?.status, 503);
      assert.equal((jsonBody(s).error as { code: string }).code, "auth.sidecar_unavailable");
      assert.equal(s.continued.request, false);
    }
    const g = host.newHttpStream();
    post(g, "/anthropic/v1/messages", [["x-api-key", TENANT_KEY]]);
    host.respondGrpc(host.grpcCalls[host.grpcCalls.length - 1].token, new Uint8Array([0x0a, 0x7f, 0x01]));
    assert.equal(g.localResponse?.status, 503);
    assert.equal((jsonBody(g) as { error: { code: string } }).error.code, "auth.sidecar_unavailable");
    assert.equal(host.metric("leash_auth.sidecar_errors"), 3);
  });

  it("fails open when configured: resumes without the tenant key", async () => {
    const host = await load({ failure_mode: "open" });
    const s = host.newHttpStream();
    post(s, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    host.failGrpc(host.grpcCalls[0].token, 14);
    assert.equal(s.localResponse, null);
    assert.equal(s.continued.request, true);
    assert.equal(s.requestHeader("authorization"), undefined);
  });

  it("cancels the call of a stream that ended meanwhile, and keeps serving", async () => {
    const host = await load();
    const gone = host.newHttpStream();
    post(gone, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    gone.done(); // client went away while the sidecar was thinking
    assert.equal(host.grpcCalls[0].state, "cancelled");
    assert.equal(host.trapped, null);
    assert.equal(gone.localResponse, null);

    const next = host.newHttpStream();
    post(next, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    host.respondGrpc(host.grpcCalls[1].token, ALLOW);
    assert.equal(next.continued.request, true);
    assert.equal(host.trapped, null);
  });

  it("checks the JSON body after the key: malformed → 400 gateway.invalid_json, well-formed → passes", async () => {
    const host = await load();
    const bad = host.newHttpStream();
    post(bad, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    bad.requestBody('{"model": "gpt", "messages": [', true); // held while the call is in flight
    host.respondGrpc(host.grpcCalls[0].token, ALLOW);
    assert.equal(bad.localResponse?.status, 400);
    const err = jsonBody(bad).error as { code: string; type: string; message: string };
    assert.equal(err.code, "gateway.invalid_json");
    assert.equal(err.type, "invalid_request_error");
    assert.match(err.message, /at byte \d+/);

    const good = host.newHttpStream();
    post(good, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    host.respondGrpc(host.grpcCalls[1].token, ALLOW);
    good.requestBody('{"model":"gpt",', false);
    good.requestBody('"messages":[{"role":"user","content":"hi"}]}', true);
    assert.equal(good.localResponse, null);
    assert.equal(good.requestBodyText, '{"model":"gpt","messages":[{"role":"user","content":"hi"}]}');
  });

  it("answers 413 gateway.body_too_large for a declared or a streamed body over max_body_bytes", async () => {
    const host = await load({ max_body_bytes: 1000 });
    const declared = host.newHttpStream();
    post(declared, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`], ["content-length", "1001"]]);
    assert.equal(declared.localResponse?.status, 413);
    assert.equal((jsonBody(declared).error as { code: string }).code, "gateway.body_too_large");
    assert.equal(host.grpcCalls.length, 0, "no sidecar call for a request refused up front");

    const streamed = host.newHttpStream();
    post(streamed, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
    host.respondGrpc(host.grpcCalls[0].token, ALLOW);
    streamed.requestBody("{\"a\":\"" + "x".repeat(600), false);
    assert.equal(streamed.localResponse, null);
    streamed.requestBody("x".repeat(600), false);
    assert.equal((streamed.localResponse as { status: number } | null)?.status, 413);

    const fits = host.newHttpStream();
    post(fits, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`], ["content-length", "1000"]]);
    assert.equal(fits.localResponse, null);
  });

  it("answers invalid UTF-8 and too-deep bodies with 400", async () => {
    const host = await load({ max_json_depth: 4 });
    const cases: Uint8Array[] = [
      new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      new TextEncoder().encode('{"a":[[[[[1]]]]]}'),
    ];
    for (const body of cases) {
      const s = host.newHttpStream();
      post(s, "/openai/v1/chat/completions", [["authorization", `Bearer ${TENANT_KEY}`]]);
      host.respondGrpc(host.grpcCalls[host.grpcCalls.length - 1].token, ALLOW);
      s.requestBody(body, true);
      assert.equal(s.localResponse?.status, 400);
    }
    assert.equal(host.trapped, null);
  });
});

describe("auth filter decision cache and model policy", () => {
  const allowCached = (ttl: number, models: string[] = []) => encodeAuthorizeResponse({
    decision: "ALLOW", tenant_id: "acme", key_id: "abcdefghijkl", upstream_auth_header: "authorization",
    upstream_auth_value: "Bearer sk-provider", cache_ttl_ms: ttl, allowed_models: models,
  });

  function ask(host: FakeHost, path = "/openai/v1/chat/completions", key = TENANT_KEY): HttpStream {
    const s = host.newHttpStream();
    post(s, path, [["authorization", `Bearer ${key}`]]);
    return s;
  }

  it("reuses an answer for its cache_ttl_ms without making a request wait, then asks again", async () => {
    const host = await load();
    const first = ask(host);
    host.respondGrpc(host.grpcCalls[0].token, allowCached(1000));
    assert.equal(first.continued.request, true);

    clockMs += 499;
    const warm = ask(host);
    assert.equal(host.grpcCalls.length, 1, "a warm key called the sidecar");
    assert.equal(warm.localResponse, null);
    assert.equal(warm.requestHeader("authorization"), "Bearer sk-provider");
    assert.equal(host.metric("leash_auth.cache_hits"), 1);

    // Past half its life the answer is still used, and refreshed in the background (left unanswered here).
    clockMs += 500;
    const late = ask(host);
    assert.equal(late.requestHeader("authorization"), "Bearer sk-provider", "a request waited for the refresh");
    assert.equal(host.grpcCalls.length, 2);

    clockMs += 1;
    const expired = ask(host);
    assert.equal(host.grpcCalls.length, 3, "an expired answer was reused");
    assert.equal(expired.continued.request, false, "a request went on without an answer");
    host.respondGrpc(host.grpcCalls[2].token, allowCached(1000));
    assert.equal(expired.continued.request, true);
  });

  it("refreshes an answer past half its life once, in the background, and the new answer replaces it", async () => {
    const host = await load();
    ask(host);
    host.respondGrpc(host.grpcCalls[0].token, allowCached(1000));
    clockMs += 500;
    const noticing = ask(host);
    assert.equal(noticing.localResponse, null);
    assert.equal(noticing.requestHeader("authorization"), "Bearer sk-provider");
    assert.equal(host.grpcCalls.length, 2, "no refresh at half the TTL");
    const refresh = host.grpcCalls[1];
    assert.equal(refresh.method, "Authorize");
    ask(host);
    assert.equal(host.grpcCalls.length, 2, "a second refresh for the same answer");

    clockMs += 100;
    host.respondGrpc(refresh.token, encodeAuthorizeResponse({
      decision: "ALLOW", tenant_id: "acme", key_id: "abcdefghijkl", upstream_auth_header: "authorization",
      upstream_auth_value: "Bearer sk-rotated", cache_ttl_ms: 1000,
    }));
    clockMs += 450; // past the first answer's expiry, before the refreshed one is due for its own refresh
    const after = ask(host);
    assert.equal(host.grpcCalls.length, 2, "the refreshed answer was not cached");
    assert.equal(after.requestHeader("authorization"), "Bearer sk-rotated");
    assert.equal(host.metric("leash_auth.cache_refreshes"), 1);
    assert.equal(host.metric("leash_auth.cache_refresh_errors"), 0);
    assert.equal(host.trapped, null);
  });

  it("a refresh that answers DENY refuses the next request; a failed one leaves the answer to expire", async () => {
    const revoked = await load();
    ask(revoked);
    revoked.respondGrpc(revoked.grpcCalls[0].token, allowCached(1000));
    clockMs += 600;
    assert.equal(ask(revoked).localResponse, null);
    revoked.respondGrpc(revoked.grpcCalls[1].token, encodeAuthorizeResponse({ decision: "DENY", code: "auth.key_revoked", http_status: 401, cache_ttl_ms: 1000 }));
    const refused = ask(revoked);
    assert.equal(revoked.grpcCalls.length, 2);
    assert.equal(refused.localResponse?.status, 401);
    assert.equal((jsonBody(refused).error as { code: string }).code, "auth.key_revoked");

    const failing = await load();
    ask(failing);
    failing.respondGrpc(failing.grpcCalls[0].token, allowCached(1000));
    clockMs += 600;
    ask(failing);
    failing.failGrpc(failing.grpcCalls[1].token, 14, "unavailable");
    assert.equal(failing.metric("leash_auth.cache_refresh_errors"), 1);
    const still = ask(failing);
    assert.equal(still.requestHeader("authorization"), "Bearer sk-provider");
    assert.equal(failing.grpcCalls.length, 2, "a failed refresh was retried for the same answer");
    clockMs += 400;
    const expired = ask(failing);
    assert.equal(failing.grpcCalls.length, 3);
    failing.failGrpc(failing.grpcCalls[2].token, 14, "unavailable");
    assert.equal(expired.localResponse?.status, 503, "closed: the expired answer was not used after a failed refresh");
    assert.equal(failing.trapped, null);
  });

  it("caches per provider and per exact key", async () => {
    const host = await load();
    ask(host);
    host.respondGrpc(host.grpcCalls[0].token, allowCached(1000));
    ask(host, "/anthropic/v1/messages");
    assert.equal(host.grpcCalls.length, 2);
    ask(host, "/openai/v1/chat/completions", TENANT_KEY.slice(0, -1) + "t");
    assert.equal(host.grpcCalls.length, 3);
  });

  it("never holds an answer longer than cache_max_ttl_ms, and not at all with ttl 0", async () => {
    const capped = await load({ cache_max_ttl_ms: 100 });
    ask(capped);
    capped.respondGrpc(capped.grpcCalls[0].token, allowCached(2000));
    clockMs += 100;
    ask(capped);
    assert.equal(capped.grpcCalls.length, 2);

    const uncached = await load();
    ask(uncached);
    uncached.respondGrpc(uncached.grpcCalls[0].token, allowCached(0));
    ask(uncached);
    assert.equal(uncached.grpcCalls.length, 2);
  });

  it("caches denials too, so a revoked key stays refused without a round trip", async () => {
    const host = await load();
    const a = ask(host);
    host.respondGrpc(host.grpcCalls[0].token, encodeAuthorizeResponse({ decision: "DENY", code: "auth.key_revoked", http_status: 401, cache_ttl_ms: 500 }));
    assert.equal(a.localResponse?.status, 401);
    const b = ask(host);
    assert.equal(host.grpcCalls.length, 1);
    assert.equal(b.localResponse?.status, 401);
    assert.equal((jsonBody(b).error as { code: string }).code, "auth.key_revoked");
  });

  it("refuses a model outside the tenant's policy with 403 auth.model_not_allowed", async () => {
    const host = await load();
    const bad = ask(host);
    host.respondGrpc(host.grpcCalls[0].token, allowCached(1000, ["gpt-4o*"]));
    bad.requestBody('{"model":"o3","messages":[]}', true);
    assert.equal(bad.localResponse?.status, 403);
    const err = jsonBody(bad).error as { code: string; type: string };
    assert.equal(err.code, "auth.model_not_allowed");
    assert.equal(err.type, "permission_error");

    const good = ask(host); // cached answer, same policy
    good.requestBody('{"model":"gpt-4o-mini","messages":[]}', true);
    assert.equal(good.localResponse, null);

    const none = ask(host);
    none.requestBody('{"messages":[]}', true);
    assert.equal(none.localResponse?.status, 403, "a body without a model passed a model policy");

    // A repeated key: providers' JSON parsers keep the last value, so the policy must check that one.
    const smuggled = ask(host);
    smuggled.requestBody('{"model":"gpt-4o-mini","messages":[],"model":"o3"}', true);
    assert.equal(smuggled.localResponse?.status, 403, "a second \"model\" member slipped past the policy");
    const repeatedAllowed = ask(host);
    repeatedAllowed.requestBody('{"model":"o3","model":"gpt-4o"}', true);
    assert.equal(repeatedAllowed.localResponse, null, "the last \"model\" is the one the provider serves");
  });

  it("asks the sidecar once for concurrent misses of the same key (single flight)", async () => {
    const host = await load();
    const streams = [ask(host), ask(host), ask(host)];
    assert.equal(host.grpcCalls.length, 1);
    host.respondGrpc(host.grpcCalls[0].token, allowCached(1000));
    for (const s of streams) {
      assert.equal(s.continued.request, true);
      assert.equal(s.requestHeader("authorization"), "Bearer sk-provider");
    }
  });

  it("fails every waiting request closed when the shared call fails", async () => {
    const host = await load();
    const streams = [ask(host), ask(host)];
    host.failGrpc(host.grpcCalls[0].token, 14);
    for (const s of streams) assert.equal(s.localResponse?.status, 503);
  });

  it("hands the call over when the request that made it goes away", async () => {
    const host = await load();
    const leader = ask(host);
    const follower = ask(host);
    leader.done();
    assert.equal(host.grpcCalls[0].state, "cancelled");
    assert.equal(host.grpcCalls.length, 2, "the follower did not ask again");
    host.respondGrpc(host.grpcCalls[1].token, allowCached(1000));
    assert.equal(follower.continued.request, true);
    assert.equal(host.trapped, null);
  });
});
