// Micro-benchmark of the whole module chain's own work in the VM (issue #7: what the modules cost
// inside Envoy's V8, apart from Envoy): build/release/leash.wasm runs auth, redact, injection,
// quota and usage as one chain filter, configured as the bench's leash-full target configures
// them, in the in-process fake proxy-wasm host (Node's V8, the engine family Envoy embeds). Each
// request is the load generator's 1 KB chat completion, then the mock's JSON answer with usage,
// then the access-log pass and the stream's end. The sidecar's answers (auth, quota leases and
// renewals, usage batches) are given between requests, outside the timing; the clock moves 1 ms
// per request, as at 1000 RPS. Against a pass-through module built with the same SDK and flags.
//
//   node --import tsx bench/chain-vm.ts [--iterations 20000] [--wasm=build/release/leash.wasm] [--baseline=other.wasm] [--rounds 3] [--count-calls]
//
// --baseline runs a second build (e.g. main's) in the same rounds, interleaved, and prints the
// difference: this machine's speed drifts by tens of percent between runs minutes apart, so only a
// comparison within one run means anything. (Give paths as --wasm=path: Node takes a bare --wasm.)
//
// --count-calls also counts the host calls one request makes (each proxy-wasm import, and which
// header or property it names), over 1000 requests after the warm-up; with --baseline, both builds.
//
// Where the time goes: build a copy with function names and profile it, e.g.
//   npx asc filters/assembly/leash/index.ts --config asconfig.json --target release --debug -o /tmp/leash-named.wasm
//   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx bench/chain-vm.ts --wasm=/tmp/leash-named.wasm
//
// Not a test: it prints a table, writes bench/results/chain-vm-<timestamp>.json, asserts nothing.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseConfig } from "../config/load.ts";
import { chainConfiguration, enabledModules } from "../envoy/wasm-filters.ts";
import { FakeHost } from "../test/host/index.ts";
import { buildPassThrough, medianOfRounds, percentile, timeRequests } from "./vm/pass-through.ts";
import { chatBody } from "./load/payload.ts";
import { answerSidecar, type SidecarAnswers } from "./vm/sidecar-answers.ts";
import { callTable, hostCallsPerRequest, type CallCount } from "./vm/call-counts.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "20000" },
    wasm: { type: "string", default: join(ROOT, "build", "release", "leash.wasm") },
    baseline: { type: "string" },
    rounds: { type: "string", default: "3" },
    "count-calls": { type: "boolean", default: false },
    out: { type: "string", default: join(ROOT, "bench", "results") },
  },
});
const N = Number(values.iterations);
const ROUNDS = Number(values.rounds);
const WARM = 2000;

// The leash-full target's modules (bench/targets/leash.ts), defaults everywhere else.
const CFG = parseConfig(
  "version: 1\nproviders: [{ name: mock, api: openai, prefix: /mock, base_url: 'http://127.0.0.1:9' }]\n" +
    "modules: { auth: {enabled: true}, redact: {enabled: true}, injection: {enabled: true}, quota: {enabled: true}, usage: {enabled: true} }\n",
  "chain-vm",
  {},
);
const CHAIN = chainConfiguration(CFG, enabledModules(CFG));

const KEY = "lsh_abcdefghijkl_" + "s".repeat(32);
const BODY = chatBody(1024, false);
const HEADERS: Array<[string, string]> = [
  [":method", "POST"], [":path", "/mock/v1/chat/completions"], [":authority", "127.0.0.1:8080"], [":scheme", "http"],
  ["authorization", `Bearer ${KEY}`], ["content-type", "application/json"], ["content-length", String(BODY.length)],
  ["user-agent", "leash-bench"], ["x-request-id", "0f8f0a52-7c0e-4c1e-9a3a-3d2f6f1f9c11"],
];
const RESPONSE_HEADERS: Array<[string, string]> = [[":status", "200"], ["content-type", "application/json"]];
const RESPONSE = new TextEncoder().encode(JSON.stringify({
  id: "chatcmpl-mock", object: "chat.completion", created: 1_700_000_000, model: "mock",
  choices: [{ index: 0, message: { role: "assistant", content: "mock reply to: the quick brown fox jumps over the l" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 230, completion_tokens: 12, total_tokens: 242 },
}));

let clockMs = 1_700_000_000_000;
let firstRefusal: string | null = null;
const now = (): bigint => BigInt(clockMs) * 1_000_000n;

/** One request through the chain; true when it reached the provider (no module refused it). */
function oneRequest(host: FakeHost, answers: SidecarAnswers): boolean {
  const s = host.newHttpStream();
  s.requestHeaders(HEADERS, false);
  // A cold key or quota pair: answered at once, inside the timing, like a held request's reply.
  answerSidecar(host, answers);
  s.requestBody(BODY, true);
  answerSidecar(host, answers);
  const forwarded = !s.paused.request && s.localResponse === null;
  if (!forwarded && firstRefusal === null) firstRefusal = s.localResponse === null ? "held" : `${s.localResponse.status} ${s.localResponse.body}`;
  s.responseHeaders(RESPONSE_HEADERS, false);
  s.responseBody(RESPONSE, true);
  s.done();
  return forwarded;
}

/** Per-request µs; the sidecar's answers to background calls are given between requests. */
function time(host: FakeHost, iterations: number, answers: SidecarAnswers): { samples: number[]; refused: number } {
  const r = timeRequests(iterations, WARM, () => !oneRequest(host, answers), () => {
    answerSidecar(host, answers);
    clockMs += 1;
  });
  return { samples: r.samples, refused: r.marked };
}

async function loadChain(path: string, countCalls?: Map<string, number>): Promise<FakeHost> {
  const host = await FakeHost.load(path, { rootId: "chain", pluginConfig: CHAIN, now, allowOnHeadersStopIteration: true, countCalls });
  if (!host.startOk) throw new Error(`${path} did not start the chain: ${host.logs.map((l) => l.message).join("\n")}`);
  return host;
}

const wasm = resolve(values.wasm!);
const baselineWasm = values.baseline === undefined ? null : resolve(values.baseline);
const PASS = "pass-through (SDK only)";
const CHAIN_ROW = "chain of five modules";
const BASE_ROW = "chain, baseline build";
const hosts: Array<[string, FakeHost]> = [[PASS, await FakeHost.load(await buildPassThrough(), { rootId: "probe", pluginConfig: "", now })], [CHAIN_ROW, await loadChain(wasm)]];
if (baselineWasm !== null) hosts.push([BASE_ROW, await loadChain(baselineWasm)]);

const answers: SidecarAnswers = { authorize: 0, reserve: 0, usageBatches: 0, reports: 0, other: 0 };
const rows: Array<{ module: string; round: number; p50: number; p95: number; p99: number; memoryBytes: number }> = [];
let refused = 0;
for (let round = 0; round < ROUNDS; round++) {
  // Rotated each round, so no build always runs first (or right after the pass-through).
  for (let k = 0; k < hosts.length; k++) {
    const [name, host] = hosts[(k + round) % hosts.length];
    const r = time(host, N, answers);
    if (name !== PASS) refused += r.refused;
    rows.push({ module: name, round, p50: percentile(r.samples, 50), p95: percentile(r.samples, 95), p99: percentile(r.samples, 99), memoryBytes: host.memory.byteLength });
  }
}
if (refused > 0) throw new Error(`${refused} requests were not forwarded (first: ${firstRefusal}): the bench would not measure the forwarded path`);

const summary = (name: string) => medianOfRounds(rows, (x) => x.module === name);
const base = summary(PASS);
const full = summary(CHAIN_ROW);
const fmt = (n: number): string => n.toFixed(1).padStart(8);
const line = (label: string, r: { p50: number; p95: number; p99: number }): string => `| ${label.padEnd(31)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} |`;
const minus = (a: { p50: number; p95: number; p99: number }, b: { p50: number; p95: number; p99: number }) => ({ p50: a.p50 - b.p50, p95: a.p95 - b.p95, p99: a.p99 - b.p99 });
const total = hosts.length * ROUNDS * (N + WARM);
console.log(`module chain cost per request in the VM (fake host, Node ${process.version}), µs, median of ${ROUNDS} rounds × ${N} requests of 1 KB`);
console.log(`wasm: ${wasm}${baselineWasm === null ? "" : `\nbaseline: ${baselineWasm}`}`);
console.log("| build                           |      P50 |      P95 |      P99 |");
console.log("|---------------------------------|----------|----------|----------|");
console.log(line(PASS, base));
console.log(line(CHAIN_ROW, full));
console.log(line("chain − pass-through", minus(full, base)));
let baseline: { p50: number; p95: number; p99: number } | null = null;
if (baselineWasm !== null) {
  baseline = summary(BASE_ROW);
  console.log(line(BASE_ROW, baseline));
  console.log(line("baseline − pass-through", minus(baseline, base)));
  console.log(line("chain − baseline", minus(full, baseline)));
  const perRound = rows.filter((r) => r.module === CHAIN_ROW).map((r) => (r.p50 - rows.find((b) => b.module === BASE_ROW && b.round === r.round)!.p50).toFixed(1));
  console.log(`chain − baseline P50 per round: ${perRound.join(", ")}`);
}
const calls: Record<string, CallCount[]> = {};
if (values["count-calls"]) {
  for (const [name, path] of baselineWasm === null ? [[CHAIN_ROW, wasm]] : [[CHAIN_ROW, wasm], [BASE_ROW, baselineWasm]]) {
    const counts = new Map<string, number>();
    const host = await loadChain(path, counts);
    calls[name] = hostCallsPerRequest(host, counts, (h) => {
      oneRequest(h, answers);
      answerSidecar(h, answers);
      clockMs += 1;
    }, WARM, 1000);
    console.log(`\nhost calls per request, ${name} (${path}):\n${callTable(calls[name])}`);
  }
}
// The modules' heap: linear memory only grows, so its size after all rounds is the peak.
const memory = Object.fromEntries(hosts.map(([name, host]) => [name, host.memory.byteLength]));
console.log(`wasm memory after all rounds: ${hosts.map(([name, host]) => `${name} ${(host.memory.byteLength / 1048576).toFixed(1)} MiB`).join(", ")}`);
console.log(`sidecar calls for ${total} requests: ${answers.authorize} Authorize, ${answers.reserve} Reserve, ${answers.usageBatches} usage batches (${answers.reports} reports)`);

mkdirSync(values.out!, { recursive: true });
const file = join(values.out!, `chain-vm-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, wasm, baseline: baselineWasm, iterations: N, rounds: rows, sidecarCalls: answers, hostCalls: calls, memoryBytes: memory, summary: { passThrough: base, chain: full, baseline } }, null, 2));
console.log(`wrote ${file}`);
