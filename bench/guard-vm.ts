// Micro-benchmark of the guard modules' own cost (issue #6): the shipped build/release/redact.wasm
// and injection.wasm, each given a chat request whose prompt is 1, 8 or 32 KB of prose with a few
// entities in it, in the in-process fake proxy-wasm host (Node's V8, the engine family Envoy embeds),
// against a pass-through module built with the same SDK and flags. The difference is the module's
// work; divided by the prompt size it is the issue's "µs per KB of prompt". Also the redact module's
// cost on the first content event of a streamed answer (what it adds to time to first token in the
// VM) and how many of that event's characters it held back.
//
//   node --import tsx bench/guard-vm.ts [--iterations 2000] [--wasm-dir build/release]
//
// Not a test: it prints a table, writes bench/results/guard-vm-<timestamp>.json, asserts nothing.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseConfig } from "../config/load.ts";
import { pluginConfig } from "../envoy/wasm-filters.ts";
import { FakeHost } from "../test/host/index.ts";
import { buildPassThrough, median, percentile } from "./vm/pass-through.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "2000" },
    "wasm-dir": { type: "string", default: join(ROOT, "build", "release") },
    out: { type: "string", default: join(ROOT, "bench", "results") },
  },
});
const N = Number(values.iterations);
const WASM_DIR = resolve(values["wasm-dir"]!);

// The shipped defaults for both guards (PII masked, secrets blocked; injection block at the default threshold).
const CFG = parseConfig(
  "version: 1\nproviders: [{ name: openai, base_url: 'https://api.openai.com' }]\nmodules: { redact: { enabled: true }, injection: { enabled: true } }\n",
  "guard-vm",
  {},
);
const HEADERS: Array<[string, string]> = [
  [":method", "POST"], [":path", "/openai/v1/chat/completions"], [":authority", "gateway:8080"], [":scheme", "http"],
  ["content-type", "application/json"], ["x-request-id", "0f8f0a52-7c0e-4c1e-9a3a-3d2f6f1f9c11"],
];

const PROSE =
  "Please summarise the quarterly report for the board. Revenue grew in every region, costs stayed flat, " +
  "and the new onboarding flow cut support tickets. Contact jane.doe@example.com or call +44 20 7946 0958 " +
  "for the raw figures; the invoice went to card 4111 1111 1111 1111 last week. Keep the tone neutral. ";

/** A chat request whose user message is `kb` KB of PROSE (entities included). */
function chatBody(kb: number): string {
  let text = "";
  while (text.length < kb * 1024) text += PROSE;
  text = text.slice(0, kb * 1024);
  return JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "system", content: "You are a helpful analyst." }, { role: "user", content: text }] });
}

/** Per-request time (µs) of request headers + body + stream end, after warm-up. */
function timeRequests(host: FakeHost, body: string, iterations: number): { samples: number[]; forwarded: boolean } {
  const samples: number[] = [];
  let forwarded = true;
  const warm = Math.min(500, iterations);
  for (let i = 0; i < iterations + warm; i++) {
    const s = host.newHttpStream();
    const t0 = process.hrtime.bigint();
    s.requestHeaders(HEADERS, false);
    s.requestBody(body, true);
    s.done();
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    if (i === 0) forwarded = s.localResponse === undefined || s.localResponse === null;
    if (i >= warm) samples.push(dt);
  }
  return { samples: samples.sort((a, b) => a - b), forwarded };
}

/** The redact module on a streamed answer: µs for the first content event, and characters it held back. */
function timeFirstEvent(host: FakeHost, iterations: number): { samples: number[]; heldChars: number } {
  const first = 'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"The quarterly figures are in"}}]}\n\n';
  const samples: number[] = [];
  let heldChars = 0;
  for (let i = 0; i < iterations + 200; i++) {
    const s = host.newHttpStream();
    s.requestHeaders(HEADERS, false);
    s.requestBody(chatBody(1), true);
    s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream"]], false);
    const t0 = process.hrtime.bigint();
    s.responseBody(first, false);
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    if (i === 0) {
      const out = s.responseBodyText;
      const m = /"content":"([^"]*)"/.exec(out);
      heldChars = "The quarterly figures are in".length - (m ? m[1].length : 0);
    }
    s.responseBody("data: [DONE]\n\n", true);
    s.done();
    if (i >= 200) samples.push(dt);
  }
  return { samples: samples.sort((a, b) => a - b), heldChars };
}

async function load(module: "redact" | "injection"): Promise<FakeHost> {
  // As the generated Envoy config does for the injection filter (envoy/wasm-filters.ts): it holds the
  // request headers while it scores the body.
  const host = await FakeHost.load(join(WASM_DIR, `${module}.wasm`), {
    rootId: module,
    pluginConfig: JSON.stringify(pluginConfig(CFG, module)),
    allowOnHeadersStopIteration: module === "injection",
  });
  if (!host.startOk) throw new Error(`${module}.wasm did not start: ${host.logs.map((l) => l.message).join("; ")}`);
  return host;
}

const probe = await FakeHost.load(await buildPassThrough(), { rootId: "probe", pluginConfig: "" });
const modules = { redact: await load("redact"), injection: await load("injection") };

interface Row { module: string; kb: number; p50: number; p95: number; p99: number; perKbP95: number; forwarded: boolean }
const ROUNDS = 3;
// V8 first runs wasm with its baseline compiler and swaps in optimized code in the background:
// warm every module up on all sizes before measuring, so the figures are the steady state a
// long-running Envoy worker is in (whichever size is measured first would otherwise pay it).
for (const host of [probe, ...Object.values(modules)]) {
  for (const kb of [1, 8, 32]) timeRequests(host, chatBody(kb), Math.round(4000 / kb));
}
const rows: Row[] = [];
for (const kb of [1, 8, 32]) {
  const body = chatBody(kb);
  const iterations = Math.max(200, Math.round(N / kb));
  // Rounds alternate the modules with the baseline, so a slow stretch of the machine hits all of
  // them; each figure is the median over the rounds of (module − pass-through) at that percentile.
  const diffs: Record<string, { p50: number[]; p95: number[]; p99: number[]; forwarded: boolean }> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const base = timeRequests(probe, body, iterations).samples;
    for (const [name, host] of Object.entries(modules)) {
      const { samples, forwarded } = timeRequests(host, body, iterations);
      const d = (diffs[name] ??= { p50: [], p95: [], p99: [], forwarded });
      d.p50.push(percentile(samples, 50) - percentile(base, 50));
      d.p95.push(percentile(samples, 95) - percentile(base, 95));
      d.p99.push(percentile(samples, 99) - percentile(base, 99));
      d.forwarded &&= forwarded;
    }
  }
  for (const [name, d] of Object.entries(diffs)) {
    const p95 = median(d.p95);
    rows.push({ module: name, kb, forwarded: d.forwarded, p50: median(d.p50), p95, p99: median(d.p99), perKbP95: p95 / kb });
  }
}
const stream = timeFirstEvent(modules.redact, Math.min(N, 2000));

const fmt = (n: number): string => n.toFixed(1).padStart(8);
console.log(`guard modules' cost per request in the VM (fake host, Node ${process.version}), µs above a pass-through module, median of ${ROUNDS} rounds`);
console.log("| module    | prompt |      P50 |      P95 |      P99 | P95 µs/KB | ≤ 50 µs/KB | forwarded |");
console.log("|-----------|--------|----------|----------|----------|-----------|------------|-----------|");
for (const r of rows) {
  console.log(`| ${r.module.padEnd(9)} | ${`${r.kb} KB`.padStart(6)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.perKbP95)}  | ${r.perKbP95 <= 50 ? "met       " : "missed    "} | ${r.forwarded ? "yes" : "no (refused)"} |`);
}
console.log(`redact, first streamed content event: P50 ${stream.samples.length ? percentile(stream.samples, 50).toFixed(1) : "-"} µs, P95 ${percentile(stream.samples, 95).toFixed(1)} µs (whole callback incl. the fake host); ${stream.heldChars} of its characters held back until the next event`);

mkdirSync(values.out!, { recursive: true });
const file = join(values.out!, `guard-vm-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, iterations: N, rows, stream: { p50: percentile(stream.samples, 50), p95: percentile(stream.samples, 95), heldChars: stream.heldChars } }, null, 2));
console.log(`wrote ${file}`);
