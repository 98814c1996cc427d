// Runs the evaluation set (test/eval/injection.jsonl) through the BUILT build/release/injection.wasm
// in the fake proxy-wasm host, exactly as Envoy would call it, and computes precision, recall and
// false-positive rate. The score of each prompt is read from what the module does: in flag mode
// with threshold 0 every request is flagged and carries its score in x-leash-injection-score.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FakeHost } from "../host/index.ts";

export const WASM: string = fileURLToPath(new URL("../../build/release/injection.wasm", import.meta.url));
/** The development set: the pattern weights and the default threshold were tuned on it (its h-* rows
 * were the first held-out set, measured once before they were tuned on: README, "Evaluation"). */
export const SET: string = fileURLToPath(new URL("./injection.jsonl", import.meta.url));
/** The held-out set: written after tuning and never tuned on, so its figures are the honest ones. */
export const HOLDOUT: string = fileURLToPath(new URL("./injection-holdout.jsonl", import.meta.url));
/** The module's default threshold (filters/assembly/injection/config.ts DEFAULT_THRESHOLD). */
export const DEFAULT_THRESHOLD: number = 0.7;
export const SWEEP: number[] = [0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9];

export type Label = "injection" | "benign";
export type Placement = "user" | "system" | "tool" | "anthropic";

export interface Sample {
  id: string;
  label: Label;
  /** Injection family (override, extraction, roleplay, hidden) or, for benign prompts, their kind. */
  family: string;
  lang: "en" | "fr" | "de" | "es";
  text: string;
  /** Where the text goes: a user message (default), the system prompt, a tool result, an Anthropic user turn. */
  as?: Placement;
}

export interface Scored extends Sample {
  score: number;
  /** What matched, from the module's log line ("override:ignore_prior_instructions,…"). */
  matched: string;
}

export function loadSet(path: string = SET): Sample[] {
  const lines: string[] = readFileSync(path, "utf8").split("\n").filter((l: string): boolean => l.trim().length > 0);
  return lines.map((l: string, i: number): Sample => {
    const s = JSON.parse(l) as Sample;
    assert.ok(s.id && (s.label === "injection" || s.label === "benign") && s.family && s.lang && typeof s.text === "string", `line ${i + 1} is not a sample`);
    return s;
  });
}

/** The request body that carries `s` in its placement. */
export function bodyOf(s: Sample): { path: string; body: string } {
  const as: Placement = s.as ?? "user";
  if (as === "anthropic") {
    return { path: "/anthropic/v1/messages", body: JSON.stringify({ model: "claude-x", max_tokens: 64, system: "You are a helpful assistant.", messages: [{ role: "user", content: [{ type: "text", text: s.text }] }] }) };
  }
  const messages: unknown[] = [{ role: "system", content: as === "system" ? s.text : "You are a helpful assistant." }];
  if (as === "tool") {
    messages.push({ role: "user", content: "Summarize the page I fetched." });
    messages.push({ role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "fetch", arguments: "{\"url\":\"https://example.com\"}" } }] });
    messages.push({ role: "tool", tool_call_id: "call_1", content: s.text });
  } else if (as === "user") {
    messages.push({ role: "user", content: s.text });
  } else {
    messages.push({ role: "user", content: "Hello." });
  }
  return { path: "/openai/v1/chat/completions", body: JSON.stringify({ model: "gpt-4o-mini", messages }) };
}

export async function loadScorer(): Promise<FakeHost> {
  const host = await FakeHost.load(WASM, {
    rootId: "injection",
    allowOnHeadersStopIteration: true,
    pluginConfig: JSON.stringify({
      module: "injection", failure_mode: "closed", timeout_ms: 0, sidecar_cluster: "leash_sidecar", max_body_bytes: 4194304,
      routes: [{ prefix: "/openai", provider: "openai", api: "openai" }, { prefix: "/anthropic", provider: "anthropic", api: "anthropic" }],
      settings: { action: "flag", threshold: 0 },
    }),
  });
  assert.ok(host.startOk, host.logs.map((l: { message: string }): string => l.message).join("\n"));
  return host;
}

/** The module's score for one request body, as it tells the upstream, and its log's "matched=". */
export function scoreBody(host: FakeHost, path: string, body: string): { score: number; matched: string } {
  const logs: number = host.logs.length;
  const s = host.newHttpStream();
  s.requestHeaders([[":method", "POST"], [":path", path], ["content-type", "application/json"]], false);
  s.requestBody(body, true);
  assert.equal(s.localResponse, null, `the module refused a valid body: ${s.localResponse?.body}`);
  const v: string | undefined = s.requestHeader("x-leash-injection-score");
  s.done();
  assert.ok(v !== undefined, "no x-leash-injection-score header at threshold 0");
  const line: string = host.logs.slice(logs).map((l: { message: string }): string => l.message).find((m: string): boolean => m.includes(" matched=")) ?? "";
  return { score: Number(v), matched: line.split(" matched=")[1] ?? "" };
}

export async function scoreSet(samples: Sample[]): Promise<Scored[]> {
  const host = await loadScorer();
  return samples.map((s: Sample): Scored => {
    const { path, body } = bodyOf(s);
    return { ...s, ...scoreBody(host, path, body) };
  });
}

export interface Metrics {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** null when nothing was predicted positive / there were no positives / no negatives. */
  precision: number | null;
  recall: number | null;
  fpr: number | null;
}

export function metrics(rows: Scored[], threshold: number): Metrics {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (const r of rows) {
    const hit: boolean = r.score >= threshold;
    if (r.label === "injection") hit ? tp++ : fn++;
    else hit ? fp++ : tn++;
  }
  return {
    tp, fp, tn, fn,
    precision: tp + fp === 0 ? null : tp / (tp + fp),
    recall: tp + fn === 0 ? null : tp / (tp + fn),
    fpr: fp + tn === 0 ? null : fp / (fp + tn),
  };
}

const pct = (x: number | null): string => (x === null ? "   -  " : `${(x * 100).toFixed(1).padStart(5)}%`);

function row(name: string, m: Metrics): string {
  return `${name.padEnd(24)} ${String(m.tp + m.fn).padStart(4)} ${String(m.tn + m.fp).padStart(4)}  ${pct(m.precision)}  ${pct(m.recall)}  ${pct(m.fpr)}`;
}

/** The report: overall, per family, per language, per benign kind, a threshold sweep, the misses. */
export function report(rows: Scored[], threshold: number, title: string): string {
  const out: string[] = [];
  const header = `${"slice".padEnd(24)} ${"inj".padStart(4)} ${"ben".padStart(4)}  precis.  recall     FPR`;
  out.push(`== ${title}: ${rows.length} prompts, threshold ${threshold}`);
  out.push(header);
  out.push(row("overall", metrics(rows, threshold)));
  const inj: Scored[] = rows.filter((r: Scored): boolean => r.label === "injection");
  const ben: Scored[] = rows.filter((r: Scored): boolean => r.label === "benign");
  for (const f of [...new Set(inj.map((r: Scored): string => r.family))].sort()) {
    out.push(row(`family ${f}`, metrics(inj.filter((r: Scored): boolean => r.family === f), threshold)));
  }
  for (const l of ["en", "fr", "de", "es"]) {
    out.push(row(`lang ${l}`, metrics(rows.filter((r: Scored): boolean => r.lang === l), threshold)));
  }
  for (const k of [...new Set(ben.map((r: Scored): string => r.family))].sort()) {
    out.push(row(`benign ${k}`, metrics(ben.filter((r: Scored): boolean => r.family === k), threshold)));
  }
  out.push("");
  out.push("threshold sweep");
  out.push(`${"threshold".padEnd(24)} ${"".padStart(9)}  precis.  recall     FPR`);
  for (const t of SWEEP) out.push(row(`${t}`.padEnd(24), metrics(rows, t)).replace(/^(.{24}) +\d+ +\d+/, (_m: string, a: string): string => a + " ".repeat(10)));
  out.push("");
  out.push("misses at the threshold (id, score):");
  for (const r of rows) {
    const hit: boolean = r.score >= threshold;
    if (hit !== (r.label === "injection")) out.push(`  ${r.label === "injection" ? "FN" : "FP"} ${r.id} ${r.score.toFixed(2)} ${r.matched}`);
  }
  return out.join("\n");
}
