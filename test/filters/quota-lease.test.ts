// The quota filter's leases (settings.lease; docs/decisions/0004-quota-hot-path.md) in the fake
// host, on the shipped quota.wasm: a Reserve answer may grant this VM a lease; requests of the same
// tenant and key that fit it are admitted with no call, publish "<lease id>.<tokens>" as their
// reservation and carry headers from the lease's snapshot; one that does not fit calls Reserve; a
// lease half spent is renewed in the background (lease_only) without holding any request; an
// expired or replaced lease's unused part is given back (ReturnLease) on the root's tick.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { FakeHost, type HttpStream } from "../host/index.ts";
import { decodeLeaseReturn, decodeReserveRequest, encodeReserveResponse } from "./sidecar-proto.ts";

const WASM = fileURLToPath(new URL("../../build/release/quota.wasm", import.meta.url));
let clockMs = 1_700_000_000_000;

async function load(settings: Record<string, unknown> | null = { lease: true, default_output_tokens: 1000 }): Promise<FakeHost> {
  const host = await FakeHost.load(WASM, {
    rootId: "quota",
    allowOnHeadersStopIteration: true,
    now: () => BigInt(clockMs) * 1_000_000n,
    pluginConfig: JSON.stringify({
      module: "quota", failure_mode: "closed", timeout_ms: 250, sidecar_cluster: "leash_sidecar", max_body_bytes: 4096,
      routes: [{ prefix: "/openai", provider: "openai", api: "openai" }],
      ...(settings ? { settings } : {}),
    }),
  });
  assert.ok(host.startOk, host.logs.map((l) => l.message).join("\n"));
  return host;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const BODY = JSON.stringify({ model: "gpt-4o-mini", max_tokens: 300, messages: [{ role: "user", content: "hello there" }] });
/** What the sidecar reserves for BODY, and what a leased BODY takes from the lease. */
const TOKENS = Math.ceil(enc(BODY).length / 4) + 300;
const LIMITED = {
  hasRequestLimit: true, limitRequests: 1000, remainingRequests: 900, resetRequestsMs: 6000,
  hasTokenLimit: true, limitTokens: 1_000_000, remainingTokens: 500_000, resetTokensMs: 61500,
};

/** A request of tenant acme with its whole body delivered; returns the stream and the body's action. */
function request(host: FakeHost, body = BODY, tenant = "acme"): { s: HttpStream; action: number | null } {
  const s = host.newHttpStream();
  s.filterState.set("leash.tenant_id", enc(tenant));
  s.filterState.set("leash.key_id", enc("abcdefghijkl"));
  s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["x-request-id", "rid"], ["content-type", "application/json"]], false);
  return { s, action: s.requestBody(body, true) };
}

const reservation = (s: HttpStream): string | undefined => {
  const v = s.filterState.get("leash.quota.reservation");
  return v === undefined ? undefined : new TextDecoder().decode(v);
};

/** Answers the newest Reserve with ALLOW and a lease; returns the lease id the filter asked under. */
function grant(host: FakeHost, requests: number, tokens: number, ttlMs = 1000): string {
  const call = host.grpcCalls[host.grpcCalls.length - 1];
  assert.equal(call.method, "Reserve");
  const leaseId = String(decodeReserveRequest(call.message).leaseId);
  host.respondGrpc(call.token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED, leaseRequests: requests, leaseTokens: tokens, leaseTtlMs: ttlMs }));
  return leaseId;
}

const returns = (host: FakeHost) => host.grpcCalls.filter((c) => c.method === "ReturnLease").map((c) => decodeLeaseReturn(c.message));

describe("quota filter: leases", () => {
  it("asks for a lease under its own random id; requests that fit it make no call; at half spent the root renews it", async () => {
    const host = await load();
    assert.equal(host.tickPeriodMs, 100, "the timer that gives back unused lease units");
    const first = request(host);
    assert.equal(host.grpcCalls.length, 1);
    const asked = decodeReserveRequest(host.grpcCalls[0].message);
    assert.match(String(asked.leaseId), /^[0-9a-f]{32}$/);
    assert.notEqual(asked.leaseId, asked.reservationId);
    const leaseId = grant(host, 6, 6 * TOKENS);
    assert.equal(first.s.continued.request, true);
    assert.equal(reservation(first.s), asked.reservationId, "the granting request keeps its own reservation");

    for (let i = 0; i < 2; i++) {
      const { s, action } = request(host);
      assert.equal(action, 0, "continued at once");
      assert.equal(s.localResponse, null);
      assert.equal(reservation(s), `${leaseId}.${TOKENS}`);
    }
    assert.equal(host.grpcCalls.length, 1, "no call for leased admissions");
    assert.equal(host.metric("leash_quota.leased"), 2);
    assert.equal(host.metric("leash_quota.allowed"), 3);

    // Half left: this request is admitted on the lease too, and the root asks for the next lease
    // in the background (a renewal: lease only, no reservation), which nobody waits for ...
    const third = request(host);
    assert.equal(third.action, 0, "admitted at once: the renewal holds no request");
    assert.equal(reservation(third.s), `${leaseId}.${TOKENS}`);
    assert.equal(host.grpcCalls.length, 2);
    const renewal = decodeReserveRequest(host.grpcCalls[1].message);
    assert.equal(host.grpcCalls[1].method, "Reserve");
    assert.equal(renewal.leaseOnly, true);
    assert.equal(renewal.reservationId, "", "a renewal reserves no request");
    assert.match(String(renewal.leaseId), /^[0-9a-f]{32}$/);
    assert.notEqual(renewal.leaseId, leaseId);
    assert.deepEqual([renewal.tenantId, renewal.keyId, renewal.model, renewal.maxOutputTokens], ["acme", "abcdefghijkl", "gpt-4o-mini", 300]);
    assert.equal(host.metric("leash_quota.lease_renewals"), 1);
    // ... the rest is spent with the renewal in flight and no second renewal is asked for; then,
    // spent and unanswered, the next request waits for the renewal rather than make a Reserve.
    for (let i = 0; i < 3; i++) assert.equal(request(host).action, 0);
    assert.equal(host.grpcCalls.length, 2, "one renewal at a time");
    const parked = request(host);
    assert.equal(parked.action, 1, "held");
    assert.equal(host.grpcCalls.length, 2, "a request waiting for the renewal made a call of its own");
    // The renewal's lease arrives and admits it; the spent one has nothing left to give back.
    host.respondGrpc(host.grpcCalls[1].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED, leaseRequests: 4, leaseTokens: 4 * TOKENS, leaseTtlMs: 1000 }));
    assert.equal(parked.s.continued.request, true);
    assert.equal(reservation(parked.s), `${renewal.leaseId}.${TOKENS}`);
    host.tick();
    assert.deepEqual(returns(host), []);
    assert.equal(reservation(request(host).s), `${renewal.leaseId}.${TOKENS}`);
    assert.equal(host.metric("leash_quota.leases_granted"), 2);
    assert.equal(host.metric("leash_quota.parked"), 1);
  });

  it("sizes each lease ask to the pair's traffic: the first wants 32 requests, a renewal what half a lifetime holds at the rate it spends (at least 4)", async () => {
    const host = await load();
    request(host);
    const first = decodeReserveRequest(host.grpcCalls[0].message);
    assert.deepEqual([first.leaseRequestsWanted, first.leaseTokensWanted], [32, 32 * TOKENS]);
    grant(host, 64, 64 * TOKENS, 1000);
    // One request every 10 ms: the 32nd on the lease leaves it half spent, 310 ms after the first.
    for (let i = 0; i < 32; i++) {
      if (i > 0) clockMs += 10;
      assert.equal(request(host).action, 0);
    }
    assert.equal(host.grpcCalls.length, 2);
    const renewal = decodeReserveRequest(host.grpcCalls[1].message);
    assert.equal(renewal.leaseOnly, true);
    assert.equal(renewal.leaseRequestsWanted, Math.ceil((32 * 1000) / (2 * 310)), "requests in half a lifetime at 32 per 310 ms");
    assert.equal(renewal.leaseTokensWanted, Math.ceil((32 * TOKENS * 1000) / (2 * 310)));

    // A quiet pair (one request per 100 ms: 4 in 300 ms) asks for what half a lifetime holds at that rate.
    const quiet = await load();
    request(quiet);
    grant(quiet, 8, 8 * TOKENS, 1000);
    for (let i = 0; i < 4; i++) {
      if (i > 0) clockMs += 100;
      assert.equal(request(quiet).action, 0);
    }
    const slow = decodeReserveRequest(quiet.grpcCalls[1].message);
    assert.equal(slow.leaseOnly, true);
    assert.deepEqual([slow.leaseRequestsWanted, slow.leaseTokensWanted], [Math.ceil((4 * 1000) / 600), Math.ceil((4 * TOKENS * 1000) / 600)]);
  });

  it("a renewal answered early: its lease waits until the current one is spent, so nothing comes back", async () => {
    const host = await load();
    request(host);
    const first = grant(host, 4, 4 * TOKENS);
    request(host);
    request(host); // half spent: renewal
    const renewal = String(decodeReserveRequest(host.grpcCalls[1].message).leaseId);
    host.respondGrpc(host.grpcCalls[1].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED, leaseRequests: 4, leaseTokens: 4 * TOKENS, leaseTtlMs: 1000 }));
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(reservation(request(host).s)?.split(".")[0]);
    assert.deepEqual(seen, [first, first, renewal, renewal]);
    assert.equal(host.grpcCalls.length, 3, "the new lease, half spent, asked for the next");
    assert.equal(decodeReserveRequest(host.grpcCalls[2].message).leaseOnly, true);
    host.tick();
    assert.deepEqual(returns(host), [], "the first lease was spent to its end");
    // Headers: the newest answer's remaining plus what both leases hold (here: the renewal's 2).
    const s = request(host).s;
    s.responseHeaders([[":status", "200"]], false);
    assert.equal(s.responseHeader("x-ratelimit-remaining-requests"), String(900 + 1));
  });

  it("a renewal refused, failed or without a lease changes nothing: the pair spends what it holds, then reserves per request", async () => {
    for (const answer of ["deny", "error", "none"] as const) {
      const host = await load();
      request(host);
      grant(host, 4, 4 * TOKENS);
      request(host);
      request(host);
      const call = host.grpcCalls[1];
      assert.equal(decodeReserveRequest(call.message).leaseOnly, true);
      if (answer === "error") host.failGrpc(call.token, 14, "unavailable");
      else host.respondGrpc(call.token, encodeReserveResponse(answer === "deny" ? { decision: "DENY", code: "quota.rpm_exceeded", httpStatus: 429 } : { decision: "ALLOW", ...LIMITED }));
      assert.equal(request(host).action, 0, `${answer}: the lease still serves`);
      assert.equal(host.grpcCalls.length, 3, `${answer}: asks again (the lease is still low)`);
      assert.equal(decodeReserveRequest(host.grpcCalls[2].message).leaseOnly, true);
      assert.equal(request(host).action, 0, `${answer}: the lease's last unit`);
      const parked = request(host);
      assert.equal(parked.action, 1, `${answer}: spent, waits for the renewal in flight`);
      assert.equal(host.grpcCalls.length, 3);
      // That renewal answered without a lease too: the waiting request makes its own Reserve, asking no lease.
      host.respondGrpc(host.grpcCalls[2].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
      assert.equal(host.grpcCalls.length, 4);
      const own = decodeReserveRequest(host.grpcCalls[3].message);
      assert.deepEqual([own.leaseId, own.leaseOnly], ["", false]);
      assert.match(String(own.reservationId), /^[0-9a-f]{32}$/);
      host.respondGrpc(host.grpcCalls[3].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
      assert.equal(parked.s.continued.request, true);
      assert.equal(reservation(parked.s), own.reservationId);
      if (answer === "error") assert.equal(host.metric("leash_quota.lease_renewal_errors"), 1);
    }
  });

  it("headers: the snapshot's remaining plus what is left of the lease", async () => {
    const host = await load();
    const first = request(host);
    grant(host, 10, 100 * TOKENS);
    first.s.responseHeaders([[":status", "200"]], false);
    // The answer counted the whole lease as used; none of it was yet.
    assert.equal(first.s.responseHeader("x-ratelimit-remaining-requests"), "910");
    assert.equal(first.s.responseHeader("x-ratelimit-remaining-tokens"), String(500_000 + 100 * TOKENS));
    const second = request(host);
    second.s.responseHeaders([[":status", "200"]], false);
    assert.equal(second.s.responseHeader("x-ratelimit-limit-requests"), "1000");
    assert.equal(second.s.responseHeader("x-ratelimit-remaining-requests"), "909");
    assert.equal(second.s.responseHeader("x-ratelimit-remaining-tokens"), String(500_000 + 99 * TOKENS));
    assert.equal(second.s.responseHeader("x-ratelimit-reset-requests"), "6s");
  });

  it("a request whose tokens do not fit the lease calls Reserve; the lease stays for ones that fit", async () => {
    const host = await load();
    request(host);
    grant(host, 5, TOKENS + 10);
    const big = JSON.stringify({ model: "gpt-4o-mini", max_tokens: 5000, messages: [] });
    assert.equal(request(host, big).action, 1);
    assert.equal(host.grpcCalls.length, 2);
    host.respondGrpc(host.grpcCalls[1].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    // No output cap in the body: the configured default (1000) is what it takes.
    const noCap = JSON.stringify({ model: "m" });
    assert.equal(request(host, noCap).action, 1, "needs more than the lease's tokens left");
    assert.equal(request(host).action, 0, "BODY still fits");
    // Another tenant never spends acme's lease.
    assert.equal(request(host, BODY, "other").action, 1);
  });

  it("an expired lease is not spent, and its unused part is given back once on the tick", async () => {
    const host = await load();
    request(host);
    const leaseId = grant(host, 5, 5 * TOKENS, 500);
    request(host);
    host.tick();
    assert.deepEqual(returns(host), [], "live lease: nothing to give back");
    clockMs += 500;
    host.tick();
    assert.deepEqual(returns(host), [{ tenantId: "acme", leaseId, unusedRequests: 4, unusedTokens: 4 * TOKENS }]);
    host.tick();
    assert.equal(returns(host).length, 1, "given back once");
    assert.equal(request(host).action, 1, "expired: Reserve again");
    assert.equal(host.metric("leash_quota.lease_returns"), 1);
  });

  it("a lease left behind by a newer one is spent first, given back when it no longer fits; a fully spent one needs no return", async () => {
    const host = await load();
    request(host);
    const old = grant(host, 3, 3 * TOKENS);
    // A request too big for the lease reserves and gets a larger lease; the old one is kept.
    const big = JSON.stringify({ model: "gpt-4o-mini", max_tokens: 100_000, messages: [] });
    request(host, big);
    const newer = grant(host, 4, 200_000);
    host.tick();
    assert.deepEqual(returns(host), [], "both held");
    assert.equal(reservation(request(host).s)?.split(".")[0], old, "the older lease is spent first");
    // Another big one does not fit the old lease: it is left behind (given back), the newer serves.
    assert.equal(reservation(request(host, big).s)?.split(".")[0], newer);
    host.tick();
    assert.deepEqual(returns(host), [{ tenantId: "acme", leaseId: old, unusedRequests: 2, unusedTokens: 2 * TOKENS }]);

    const spent = await load();
    request(spent);
    grant(spent, 4, 4 * TOKENS, 100);
    for (const expected of [0, 0, 0, 0, 1]) assert.equal(request(spent).action, expected, "four leased (the second asks for a renewal, unanswered), then a Reserve");
    clockMs += 100;
    spent.tick();
    assert.deepEqual(returns(spent), []);
  });

  it("one lease ask per tenant and key at a time: requests arriving meanwhile wait for it, then take the lease or reserve on their own", async () => {
    const host = await load();
    const first = request(host);
    const second = request(host);
    assert.equal(second.action, 1, "held");
    assert.equal(host.grpcCalls.length, 1, "a request arriving during the ask made a call");
    assert.match(String(decodeReserveRequest(host.grpcCalls[0].message).leaseId), /^[0-9a-f]{32}$/);
    // The answer (here without a lease) ends the ask: the waiting request reserves on its own, asking no lease.
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    assert.equal(first.s.continued.request, true);
    assert.equal(host.grpcCalls.length, 2);
    assert.equal(decodeReserveRequest(host.grpcCalls[1].message).leaseId, "");
    host.respondGrpc(host.grpcCalls[1].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED }));
    assert.equal(second.s.continued.request, true);
    // The next request asks again.
    request(host);
    assert.match(String(decodeReserveRequest(host.grpcCalls[2].message).leaseId), /^[0-9a-f]{32}$/);
    // An ask whose answer does not come stops blocking asks at the call's deadline (250 ms); the
    // request waiting meanwhile takes the next ask's lease.
    const late = request(host);
    assert.equal(late.action, 1);
    assert.equal(host.grpcCalls.length, 3);
    clockMs += 250;
    request(host);
    assert.equal(host.grpcCalls.length, 4);
    const leaseId = grant(host, 10, 10 * TOKENS);
    assert.equal(late.s.continued.request, true);
    assert.equal(reservation(late.s), `${leaseId}.${TOKENS}`);
    assert.equal(host.trapped, null);
  });

  it("the sidecar failing a lease ask refuses the requests waiting for it too (closed), without a call each", async () => {
    const host = await load();
    const asker = request(host);
    const waiting = [request(host), request(host)];
    assert.equal(host.grpcCalls.length, 1);
    host.failGrpc(host.grpcCalls[0].token, 4, "deadline exceeded");
    for (const w of [asker, ...waiting]) {
      assert.equal(w.s.localResponse?.status, 503);
      assert.equal((JSON.parse(w.s.localResponse!.body) as { error: { code: string } }).error.code, "quota.sidecar_unavailable");
    }
    assert.equal(host.grpcCalls.length, 1, "a waiting request asked the failing sidecar again");
    // The ask is over: the next request asks again.
    request(host);
    assert.match(String(decodeReserveRequest(host.grpcCalls[1].message).leaseId), /^[0-9a-f]{32}$/);
  });

  it("a request asking for the lease that goes away hands the ask to one waiting for it", async () => {
    const host = await load();
    const asker = request(host);
    const [b, c] = [request(host), request(host)];
    assert.equal(host.grpcCalls.length, 1);
    asker.s.done(); // the client went away: its call is cancelled
    assert.equal(host.grpcCalls.length, 2, "nobody asked in its place");
    const again = decodeReserveRequest(host.grpcCalls[1].message);
    assert.match(String(again.leaseId), /^[0-9a-f]{32}$/);
    assert.match(String(again.reservationId), /^[0-9a-f]{32}$/);
    const leaseId = grant(host, 10, 10 * TOKENS);
    assert.equal(b.s.continued.request, true);
    assert.equal(reservation(b.s), again.reservationId, "the new asker keeps its own reservation");
    assert.equal(c.s.continued.request, true);
    assert.equal(reservation(c.s), `${leaseId}.${TOKENS}`);
    assert.equal(host.trapped, null);
  });

  it("without settings.lease: no lease asked for, and a lease in an answer is never spent", async () => {
    const host = await load(null);
    assert.equal(host.tickPeriodMs, 0);
    request(host);
    assert.equal(decodeReserveRequest(host.grpcCalls[0].message).leaseId, "");
    host.respondGrpc(host.grpcCalls[0].token, encodeReserveResponse({ decision: "ALLOW", ...LIMITED, leaseRequests: 5, leaseTokens: 5000, leaseTtlMs: 1000 }));
    assert.equal(request(host).action, 1);
    assert.equal(host.grpcCalls.length, 2);
  });

  it("refuses bad settings at plugin start", async () => {
    for (const settings of [{ lease: "yes" }, { lease: true, default_output_tokens: 0 }]) {
      const host = await FakeHost.load(WASM, {
        rootId: "quota",
        pluginConfig: JSON.stringify({ module: "quota", routes: [{ prefix: "/openai", provider: "openai", api: "openai" }], settings }),
      });
      assert.equal(host.startOk, false, JSON.stringify(settings));
    }
  });
});
