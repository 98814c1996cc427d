// The sidecar's side of the in-VM micro-benchmarks that run modules which call it
// (bench/chain-vm.ts): every pending gRPC call the fake host recorded gets the answer a healthy
// sidecar gives a tenant with limits it never reaches. Calls are answered in the order made.
import type { FakeHost } from "../../test/host/index.ts";
import { decodeReserveRequest, decodeUsageBatch, encodeAuthorizeResponse, encodeReserveResponse, encodeUsageBatchAck } from "../../test/filters/sidecar-proto.ts";

/** How many calls of each kind were answered (the caller's counters, updated in place). */
export interface SidecarAnswers { authorize: number; reserve: number; usageBatches: number; reports: number; other: number; cursor?: Map<FakeHost, number> }

const ALLOW_KEY = encodeAuthorizeResponse({
  decision: "ALLOW", tenant_id: "bench", key_id: "abcdefghijkl", upstream_auth_header: "authorization",
  upstream_auth_value: "Bearer sk-provider-0000000000000000", cache_ttl_ms: 60_000,
});

/** Limits far out of reach: the quota module admits on leases and renews them in the background. */
const HIGH_LIMITS = {
  hasRequestLimit: true, limitRequests: 1e12, remainingRequests: 1e12 - 1000, resetRequestsMs: 60_000,
  hasTokenLimit: true, limitTokens: 1e12, remainingTokens: 1e12 - 1e6, resetTokensMs: 60_000,
};

/** Answers every call of `host` still pending. */
export function answerSidecar(host: FakeHost, answers: SidecarAnswers): void {
  const cursor = (answers.cursor ??= new Map());
  const calls = host.grpcCalls;
  let i = cursor.get(host) ?? 0;
  // Calls before the cursor are all answered: the list only grows, so each is looked at once more.
  while (i < calls.length && calls[i].state !== "pending") i++;
  cursor.set(host, i);
  for (let j = i; j < calls.length; j++) {
    const c = calls[j];
    if (c.state !== "pending") continue;
    if (c.method === "Authorize") {
      answers.authorize++;
      host.respondGrpc(c.token, ALLOW_KEY);
    } else if (c.method === "Reserve") {
      answers.reserve++;
      const req = decodeReserveRequest(c.message);
      const lease = String(req.leaseId) !== "" ? { leaseRequests: Number(req.leaseRequestsWanted) || 100, leaseTokens: Number(req.leaseTokensWanted) || 100_000, leaseTtlMs: 1000 } : {};
      host.respondGrpc(c.token, encodeReserveResponse({ decision: "ALLOW", ...HIGH_LIMITS, ...lease }));
    } else if (c.method === "RecordUsageBatch") {
      const n = decodeUsageBatch(c.message).length;
      answers.usageBatches++;
      answers.reports += n;
      host.respondGrpc(c.token, encodeUsageBatchAck(n));
    } else {
      answers.other++;
      host.respondGrpc(c.token, new Uint8Array(0));
    }
  }
}
