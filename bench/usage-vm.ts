// Micro-benchmark of the usage module's own cost per request (issue #7): the shipped
// build/release/usage.wasm (or --wasm <file>, e.g. an older build to compare) driven through a
// whole request in the in-process fake proxy-wasm host — request headers and body, response headers
// and body, the access-log pass — against a pass-through module built with the same SDK and flags,
// so the difference is the module's work. Two replies: a non-streamed OpenAI completion of ~1 KB,
// and an OpenAI stream of 50 content events (one per chunk) plus the usage chunk and [DONE].
// The sidecar's batch calls are answered between requests, outside the timed window.
//
//   node --import tsx bench/usage-vm.ts [--iterations 5000] [--wasm build/release/usage.wasm]
//
// Not a test: it prints a table, writes bench/results/usage-vm-<timestamp>.json, and asserts nothing.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { FakeHost } from "../test/host/index.ts";
import { buildPassThrough, medianOfRounds, percentile } from "./vm/pass-through.ts";
import { decodeUsageBatch, encodeUsageBatchAck } from "../test/filters/sidecar-proto.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: {
  iterations: { type: "string", default: "5000" },
  wasm: { type: "string", default: join(ROOT, "build", "release", "usage.wasm") },
  out: { type: "string", default: join(ROOT, "bench", "results") },
} });
const N = Number(values.iterations);
const WASM = resolve(values.wasm!);

const CONFIG = JSON.stringify({
  module: "usage", timeout_ms: 1000, sidecar_cluster: "leash_sidecar", flush_ms: 100, retry_tick_ms: 100,
  routes: [{ prefix: "/openai", provider: "openai", api: "openai" }],
});
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const REQUEST_JSON = enc(JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say something about gateways." }] }));
const REQUEST_STREAM = enc(JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "Say something about gateways." }] }));
const requestHeaders = (body: Uint8Array): Array<[string, string]> => [
  [":method", "POST"], [":path", "/openai/v1/chat/completions"], [":authority", "gateway:8080"], ["x-request-id", "0f8f0a52-7c0e-4c1e-9a3a-3d2f6f1f9c11"],
  ["content-type", "application/json"], ["content-length", String(body.length)],
];

const TEXT = "A gateway sits between clients and providers, checking keys, redacting secrets and metering tokens. ".repeat(8).slice(0, 760);
const REPLY_JSON = enc(JSON.stringify({
  id: "chatcmpl-9xYzAbCdEfGh", object: "chat.completion", created: 1_732_600_000, model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", content: TEXT, refusal: null }, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 14, completion_tokens: 190, total_tokens: 204, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
  system_fingerprint: "fp_0123456789",
}));
const chunk = (o: Record<string, unknown>): Uint8Array => enc(`data: ${JSON.stringify({ id: "chatcmpl-9xYzAbCdEfGh", object: "chat.completion.chunk", created: 1_732_600_000, model: "gpt-4o-mini-2024-07-18", system_fingerprint: "fp_0123456789", ...o })}\n\n`);
const REPLY_STREAM: Uint8Array[] = [];
for (let i = 0; i < 50; i++) REPLY_STREAM.push(chunk({ choices: [{ index: 0, delta: { content: TEXT.slice(i * 15, i * 15 + 15) }, logprobs: null, finish_reason: null }], usage: null }));
REPLY_STREAM.push(chunk({ choices: [], usage: { prompt_tokens: 14, completion_tokens: 50, total_tokens: 64 } }));
REPLY_STREAM.push(enc("data: [DONE]\n\n"));

let clockMs = 1_700_000_000_000;
const now = (): bigint => BigInt(clockMs) * 1_000_000n;

type Reply = "json" | "stream";

/** Answers every pending batch call as the sidecar would, then forgets them. */
function ackAll(host: FakeHost): void {
  for (const c of host.grpcCalls) if (c.state === "pending") host.respondGrpc(c.token, encodeUsageBatchAck(decodeUsageBatch(c.message).length));
  host.grpcCalls.length = 0;
}

/** Per-request time (µs) of one whole request, after 500 warm-up requests. */
function time(host: FakeHost, reply: Reply, iterations: number): number[] {
  const samples: number[] = [];
  const body = reply === "json" ? REQUEST_JSON : REQUEST_STREAM;
  const headers = requestHeaders(body);
  for (let i = 0; i < iterations + 500; i++) {
    const s = host.newHttpStream();
    s.filterState.set("leash.tenant_id", enc("acme"));
    s.filterState.set("leash.key_id", enc("abcdefghijkl"));
    const t0 = process.hrtime.bigint();
    s.requestHeaders(headers, false);
    s.requestBody(body, true);
    if (reply === "json") {
      s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], false);
      s.responseBody(REPLY_JSON, true);
    } else {
      s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream"]], false);
      for (let k = 0; k < REPLY_STREAM.length; k++) s.responseBody(REPLY_STREAM[k], k === REPLY_STREAM.length - 1);
    }
    s.done();
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    if (i >= 500) samples.push(dt);
    // Acknowledge the batches sent so far (untimed), so nothing piles up in the module.
    if (host.grpcCalls.length > 0) ackAll(host);
  }
  return samples.sort((a, b) => a - b);
}

const usage = await FakeHost.load(WASM, { rootId: "usage", pluginConfig: CONFIG, now, allowOnHeadersStopIteration: true });
if (!usage.startOk) throw new Error(`${WASM} did not start`);
const probe = await FakeHost.load(await buildPassThrough(), { rootId: "probe", pluginConfig: "", now, allowOnHeadersStopIteration: true });

// The module must have read the reported usage, or the figure measures a broken path.
for (const reply of ["json", "stream"] as const) {
  const s = usage.newHttpStream();
  s.requestHeaders(requestHeaders(REQUEST_JSON), false);
  s.requestBody(reply === "json" ? REQUEST_JSON : REQUEST_STREAM, true);
  s.responseHeaders([[":status", "200"], ["content-type", reply === "json" ? "application/json" : "text/event-stream"]], false);
  if (reply === "json") s.responseBody(REPLY_JSON, true);
  else for (let k = 0; k < REPLY_STREAM.length; k++) s.responseBody(REPLY_STREAM[k], k === REPLY_STREAM.length - 1);
  s.done();
  usage.tick();
  const r = usage.grpcCalls.flatMap((c) => decodeUsageBatch(c.message)).at(-1);
  ackAll(usage);
  if (!r || r.estimated !== false || r.promptTokens !== 14) throw new Error(`${reply}: usage not read: ${JSON.stringify(r)}`);
}
const rows: Array<{ module: string; reply: Reply; p50: number; p95: number; p99: number }> = [];
for (let round = 0; round < 3; round++) {
  for (const reply of ["json", "stream"] as const) {
    for (const [name, host] of [["pass-through", probe], ["usage", usage]] as const) {
      const s = time(host, reply, N);
      rows.push({ module: name, reply, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) });
    }
  }
}

const summary = (module: string, reply: Reply) => medianOfRounds(rows, (x) => x.module === module && x.reply === reply);
const fmt = (n: number): string => n.toFixed(1).padStart(8);
console.log(`usage module cost per request in the VM (fake host, Node ${process.version}), µs, median of 3 rounds × ${N} requests`);
console.log(`wasm: ${WASM}`);
console.log("| reply                         |      P50 |      P95 |");
console.log("|-------------------------------|----------|----------|");
const summaries: Record<string, unknown> = {};
for (const reply of ["json", "stream"] as const) {
  const base = summary("pass-through", reply);
  const mod = summary("usage", reply);
  summaries[reply] = { passThrough: base, usage: mod };
  const label = reply === "json" ? "1 KB JSON" : "stream, 50 events";
  console.log(`| ${`pass-through, ${label}`.padEnd(29)} | ${fmt(base.p50)} | ${fmt(base.p95)} |`);
  console.log(`| ${`usage, ${label}`.padEnd(29)} | ${fmt(mod.p50)} | ${fmt(mod.p95)} |`);
  console.log(`| ${`usage − pass-through`.padEnd(29)} | ${fmt(mod.p50 - base.p50)} | ${fmt(mod.p95 - base.p95)} |`);
}

mkdirSync(values.out!, { recursive: true });
const file = join(values.out!, `usage-vm-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, wasm: WASM, iterations: N, rounds: rows, summary: summaries }, null, 2));
console.log(`wrote ${file}`);
