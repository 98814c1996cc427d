// Micro-benchmark of the quota module's own cost on its leased path (issue #4's hot-path budget):
// the shipped build/release/quota.wasm admits a chat request (headers, 1 KB body, response headers
// with the x-ratelimit-* it writes) on a lease held in the VM, with no sidecar call, in the
// in-process fake proxy-wasm host (Node's V8, the engine family Envoy embeds), against a
// pass-through module built with the same SDK and flags; the difference is the module's work. The
// lease is renewed in the background as it would be (the fake host answers each renewal at once),
// so the run also counts how many requests had to make their own Reserve (should be none).
//
//   node --import tsx bench/quota-vm.ts [--iterations 20000]
//
// Not a test: it prints a table, writes bench/results/quota-vm-<timestamp>.json, asserts nothing.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FakeHost } from "../test/host/index.ts";
import { buildPassThrough, medianOfRounds, percentile, timeRequests } from "./vm/pass-through.ts";
import { decodeReserveRequest, encodeReserveResponse } from "../test/filters/sidecar-proto.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { iterations: { type: "string", default: "20000" }, out: { type: "string", default: join(ROOT, "bench", "results") } } });
const N = Number(values.iterations);
const WARM = 1000;

const CONFIG = JSON.stringify({
  module: "quota", failure_mode: "closed", timeout_ms: 250, sidecar_cluster: "leash_sidecar", max_body_bytes: 4194304,
  routes: [{ prefix: "/openai", provider: "openai", api: "openai" }],
  settings: { lease: true, default_output_tokens: 1024 },
});
const HEADERS: Array<[string, string]> = [
  [":method", "POST"], [":path", "/openai/v1/chat/completions"], [":authority", "gateway:8080"], [":scheme", "http"],
  ["content-type", "application/json"], ["x-request-id", "0f8f0a52-7c0e-4c1e-9a3a-3d2f6f1f9c11"],
];
const BODY = JSON.stringify({ model: "gpt-4o-mini", max_tokens: 256, messages: [{ role: "user", content: "a".repeat(1000) }] });
const RESPONSE: Array<[string, string]> = [[":status", "200"], ["content-type", "application/json"]];
const LIMITS = {
  hasRequestLimit: true, limitRequests: 1e12, remainingRequests: 1e12 - 1000, resetRequestsMs: 100,
  hasTokenLimit: true, limitTokens: 1e12, remainingTokens: 1e12 - 1e6, resetTokensMs: 100,
};
const enc = new TextEncoder();
const TENANT = enc.encode("acme");
const KEY = enc.encode("abcdefghijkl");

let clockMs = 1_700_000_000_000;
const now = (): bigint => BigInt(clockMs) * 1_000_000n;

/**
 * Answers every pending Reserve (a request's own, and background renewals) with a lease of 100
 * requests when one is asked for; returns how many were a request's own (not renewals).
 */
function answerReserves(host: FakeHost): number {
  let answered = 0;
  for (const c of host.grpcCalls) {
    if (c.state !== "pending" || c.method !== "Reserve") continue;
    const req = decodeReserveRequest(c.message);
    const leaseId = String(req.leaseId);
    host.respondGrpc(c.token, encodeReserveResponse({ decision: "ALLOW", ...LIMITS, ...(leaseId ? { leaseRequests: 100, leaseTokens: 100_000, leaseTtlMs: 1000 } : {}) }));
    if (req.leaseOnly !== true) answered++;
  }
  return answered;
}

/** One request through `host`; true when it was held for its own Reserve (no lease fitted). */
function oneRequest(host: FakeHost, tenant: boolean): boolean {
  const s = host.newHttpStream();
  if (tenant) {
    s.filterState.set("leash.tenant_id", TENANT);
    s.filterState.set("leash.key_id", KEY);
  }
  s.requestHeaders(HEADERS, false);
  s.requestBody(BODY, true);
  // Held for its own Reserve (no lease fits yet): answered at once, inside the timing (the fake
  // host's answer costs what a real answer's callback costs, not the round trip).
  const held = answerReserves(host) > 0;
  s.responseHeaders(RESPONSE, false);
  s.done();
  return held;
}

/** Per-request µs (headers, body, response headers, end); background renewals are answered between requests, outside the timing. */
function time(host: FakeHost, tenant: boolean, iterations: number): { samples: number[]; held: number } {
  const r = timeRequests(iterations, WARM, () => oneRequest(host, tenant), () => {
    answerReserves(host);
    clockMs += 1; // 1000 requests per second of VM time: leases last ~100 ms, renewals run
  });
  return { samples: r.samples, held: r.marked };
}

const quota = await FakeHost.load(join(ROOT, "build", "release", "quota.wasm"), { rootId: "quota", pluginConfig: CONFIG, now, allowOnHeadersStopIteration: true });
if (!quota.startOk) throw new Error("quota.wasm did not start");
const probe = await FakeHost.load(await buildPassThrough(), { rootId: "probe", pluginConfig: "", now });

const rows: Array<{ module: string; p50: number; p95: number; p99: number }> = [];
let heldTotal = 0;
for (let round = 0; round < 3; round++) {
  for (const [name, host, tenant] of [["pass-through (SDK only)", probe, false], ["quota, leased", quota, true]] as const) {
    const r = time(host, tenant, N);
    if (host === quota) heldTotal += r.held;
    rows.push({ module: name, p50: percentile(r.samples, 50), p95: percentile(r.samples, 95), p99: percentile(r.samples, 99) });
  }
}
const reserves = quota.grpcCalls.filter((c) => c.method === "Reserve");
const renewals = reserves.filter((c) => decodeReserveRequest(c.message).leaseOnly === true).length;

const summary = (name: string) => medianOfRounds(rows, (x) => x.module === name);
const base = summary("pass-through (SDK only)");
const leased = summary("quota, leased");
const fmt = (n: number): string => n.toFixed(1).padStart(8);
console.log(`quota module cost per request on a lease in the VM (fake host, Node ${process.version}), µs, median of 3 rounds × ${N} requests of 1 KB`);
console.log("| module                  |      P50 |      P95 |      P99 |");
console.log("|-------------------------|----------|----------|----------|");
console.log(`| pass-through (SDK only) | ${fmt(base.p50)} | ${fmt(base.p95)} | ${fmt(base.p99)} |`);
console.log(`| quota, leased           | ${fmt(leased.p50)} | ${fmt(leased.p95)} | ${fmt(leased.p99)} |`);
console.log(`| quota − pass-through    | ${fmt(leased.p50 - base.p50)} | ${fmt(leased.p95 - base.p95)} | ${fmt(leased.p99 - base.p99)} |`);
console.log(`Reserve calls: ${reserves.length} for ${3 * (N + WARM)} requests (${renewals} background renewals); requests held for their own Reserve after warm-up: ${heldTotal}`);

mkdirSync(values.out!, { recursive: true });
const file = join(values.out!, `quota-vm-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, iterations: N, rounds: rows, reserves: reserves.length, renewals, held: heldTotal, summary: { passThrough: base, quotaLeased: leased } }, null, 2));
console.log(`wrote ${file}`);
