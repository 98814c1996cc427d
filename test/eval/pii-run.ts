// Runs the evaluation sets (test/eval/pii.jsonl for PII, test/eval/secrets.jsonl for secrets)
// through the detector code itself: a small AssemblyScript entry over filters/assembly/detect is
// compiled with the assemblyscript compiler (ESM bindings, into a temporary directory) so the
// figures are those of the code that ships, not of a JavaScript re-implementation. Then it scores
// precision, recall and false-positive rate per type.
import assert from "node:assert/strict";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const SET: string = fileURLToPath(new URL("./pii.jsonl", import.meta.url));
export const SECRETS_SET: string = fileURLToPath(new URL("./secrets.jsonl", import.meta.url));
const DETECT_DIR: string = fileURLToPath(new URL("../../filters/assembly/detect", import.meta.url));

/** The PII types, in EntityKind order (filters/assembly/detect/finding.ts). */
export const TYPES: readonly string[] = ["email", "phone", "card", "ssn", "iban", "ipv4", "ipv6"];
/** The secret types, in EntityKind order after the PII ones. */
export const SECRET_TYPES: readonly string[] = [
  "openai_key", "anthropic_key", "aws_access_key", "github_token", "stripe_key", "slack_token",
  "google_api_key", "jwt", "private_key", "connection_password", "generic_secret",
];
/** Every EntityKind by number: the entry reports kinds as these indices. */
const KINDS: readonly string[] = [...TYPES, ...SECRET_TYPES];

/** The kind bit set (1 << kind) of `types`. */
function kindBits(types: readonly string[]): number {
  return types.reduce((bits: number, t: string): number => bits | (1 << KINDS.indexOf(t)), 0);
}

export interface Labelled { type: string; value: string }

export interface Sample {
  text: string;
  /** Every PII entity in text, exactly as written. */
  entities: Labelled[];
  /** Strings in text that look like an entity of `type` but are not one (they must survive). */
  lookalikes?: Labelled[];
  /** Free-form note: language, format, why a line is there. */
  note?: string;
  /**
   * "dev": written while the detectors were tuned. "held-out": written afterwards and scored as it
   * came, without tuning the rules to it (the more honest figure).
   */
  split?: "dev" | "held-out";
}

export interface Detector {
  /** Entities found in `text` (the detector's kinds only), sorted and disjoint as the redactor gets them. */
  detect(text: string): Labelled[];
}

type Entry = { detect(text: string, kinds: number): string };

// The eval entry: one export that returns the findings as "kind,start,end;…" (UTF-16 indices,
// which are JavaScript string indices too).
function entrySource(dir: string): string {
  const rel: string = relative(dir, DETECT_DIR).split("\\").join("/");
  return `import { Finding } from "${rel}/finding";
import { findEntities } from "${rel}/scan";
const found = new Array<Finding>();
export function detect(text: string, kinds: u32): string {
  findEntities(text, kinds, found);
  const parts = new Array<string>(found.length);
  for (let i = 0; i < found.length; i++) {
    parts[i] = (<i32>found[i].kind).toString() + "," + found[i].start.toString() + "," + found[i].end.toString();
  }
  return parts.join(";");
}
`;
}

// One compilation per process, whatever kinds are asked for.
let compiled: Promise<Entry> | null = null;

/**
 * The detector for `types` (the PII types by default; the secret types are scored with secret
 * detection only, as the PII set with PII detection only). Compiles the entry on first use.
 * Throws with asc's diagnostics.
 */
export async function loadDetector(types: readonly string[] = TYPES): Promise<Detector> {
  compiled ??= compileEntry();
  const mod: Entry = await compiled;
  const bits: number = kindBits(types);
  return {
    detect(text: string): Labelled[] {
      const raw: string = mod.detect(text, bits);
      if (raw.length === 0) return [];
      return raw.split(";").map((f: string): Labelled => {
        const [kind, start, end] = f.split(",").map(Number);
        return { type: KINDS[kind], value: text.slice(start, end) };
      });
    },
  };
}

async function compileEntry(): Promise<Entry> {
  const dir: string = await mkdtemp(join(tmpdir(), "leash-pii-eval-"));
  try {
    // The source is not named pii-entry.ts: tsx would resolve the import of pii-entry.js to it.
    await writeFile(join(dir, "entry-source.ts"), entrySource(dir));
    const stderr: string[] = [];
    const sink = { write(chunk: string | Uint8Array): void { stderr.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk)); } };
    const asc: typeof import("assemblyscript/asc").default = (await import("assemblyscript/asc")).default;
    const wasm: string = join(dir, "pii-entry.wasm");
    // --baseDir: compile from the temporary folder so the filters' asconfig.json (proxy-wasm build
    // settings: abort hook, compat library) is not picked up; this entry runs in plain Node.
    const result = await asc.main(["entry-source.ts", "--baseDir", dir, "-o", wasm, "--bindings", "esm", "--runtime", "incremental", "-O3"], { stdout: sink, stderr: sink });
    if (result.error !== null) throw new Error(`asc failed: ${result.error.message}\n${stderr.join("")}`);
    // .mjs: outside the repository no package.json says "type": "module", and the glue uses top-level await.
    await rename(join(dir, "pii-entry.js"), join(dir, "pii-entry.mjs"));
    return (await import(pathToFileURL(join(dir, "pii-entry.mjs")).href)) as Entry;
  } finally {
    // The module is instantiated by now (the ESM glue reads the .wasm at import time).
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads a labelled set whose entity and lookalike types are all in `types`. */
export function loadSet(path: string = SET, types: readonly string[] = TYPES): Sample[] {
  const lines: string[] = readFileSync(path, "utf8").split("\n").filter((l: string): boolean => l.trim().length > 0);
  return lines.map((l: string, i: number): Sample => {
    const s = JSON.parse(l) as Sample;
    assert.ok(typeof s.text === "string" && Array.isArray(s.entities), `line ${i + 1}: needs text and entities`);
    for (const e of [...s.entities, ...(s.lookalikes ?? [])]) {
      assert.ok(types.includes(e.type), `line ${i + 1}: unknown type ${e.type}`);
      assert.ok(s.text.includes(e.value), `line ${i + 1}: "${e.value}" is not in the text`);
    }
    return s;
  });
}

export interface TypeScore {
  type: string;
  tp: number;
  fp: number;
  fn: number;
  /** Lines without an entity of this type, and how many of them the detector flagged with it. */
  negatives: number;
  flaggedNegatives: number;
  lookalikes: number;
  lookalikesSurvived: number;
  precision: number;
  recall: number;
  fpr: number;
}

export interface Miss { line: number; kind: "missed" | "spurious" | "lookalike-hit"; type: string; value: string }

export interface Evaluation { scores: TypeScore[]; misses: Miss[]; lines: number; title: string; what: string }

/**
 * Exact-span scoring over `types`: a found entity counts only if its type and its text equal a
 * labelled one. `what` names the detectors in the table's title.
 */
export function evaluate(set: Sample[], det: Detector, title: string = "all lines", types: readonly string[] = TYPES,
  what: string = "PII detectors"): Evaluation {
  const scores: TypeScore[] = types.map((type: string): TypeScore => ({
    type, tp: 0, fp: 0, fn: 0, negatives: 0, flaggedNegatives: 0, lookalikes: 0, lookalikesSurvived: 0, precision: 0, recall: 0, fpr: 0,
  }));
  const misses: Miss[] = [];
  set.forEach((s: Sample, idx: number): void => {
    const found: Labelled[] = det.detect(s.text);
    for (const sc of scores) {
      const want: string[] = s.entities.filter((e: Labelled): boolean => e.type === sc.type).map((e: Labelled): string => e.value);
      const got: string[] = found.filter((e: Labelled): boolean => e.type === sc.type).map((e: Labelled): string => e.value);
      const unmatched: string[] = [...want];
      for (const g of got) {
        const k: number = unmatched.indexOf(g);
        if (k >= 0) { sc.tp++; unmatched.splice(k, 1); } else { sc.fp++; misses.push({ line: idx + 1, kind: "spurious", type: sc.type, value: g }); }
      }
      sc.fn += unmatched.length;
      for (const u of unmatched) misses.push({ line: idx + 1, kind: "missed", type: sc.type, value: u });
      if (want.length === 0) {
        sc.negatives++;
        if (got.length > 0) sc.flaggedNegatives++;
      }
    }
    for (const l of s.lookalikes ?? []) {
      const sc: TypeScore = scores[types.indexOf(l.type)];
      sc.lookalikes++;
      // Survives when no finding other than a labelled entity overlaps it (a lookalike redacted as
      // another type is lost too; "deploy@10.0.3.7" survives as an e-mail while its labelled IP goes).
      const hit: Labelled | undefined = found.find((f: Labelled): boolean =>
        (f.value.includes(l.value) || l.value.includes(f.value)) &&
        !s.entities.some((e: Labelled): boolean => e.type === f.type && e.value === f.value));
      if (hit === undefined) sc.lookalikesSurvived++;
      else misses.push({ line: idx + 1, kind: "lookalike-hit", type: l.type, value: `${l.value} (as ${hit.type}: ${hit.value})` });
    }
  });
  for (const sc of scores) {
    sc.precision = sc.tp + sc.fp === 0 ? 1 : sc.tp / (sc.tp + sc.fp);
    sc.recall = sc.tp + sc.fn === 0 ? 1 : sc.tp / (sc.tp + sc.fn);
    sc.fpr = sc.negatives === 0 ? 0 : sc.flaggedNegatives / sc.negatives;
  }
  return { scores, misses, lines: set.length, title, what };
}

function pct(x: number): string { return (100 * x).toFixed(1).padStart(6); }

/** The table the eval command prints (a header line starting with "type", one row per type, a total). */
export function formatTable(ev: Evaluation): string {
  // The type column fits the longest name ("connection_password"); 6 for the PII names.
  const w: number = Math.max(6, ...ev.scores.map((s: TypeScore): number => s.type.length));
  const rows: string[] = [
    `${ev.what}, ${ev.title}: ${ev.lines} labelled lines (exact-span match)`,
    `${"type".padEnd(w + 2)}entities    tp    fp    fn  precision  recall    FPR  lookalikes survived`,
  ];
  let tp = 0, fp = 0, fn = 0, lk = 0, ls = 0;
  for (const s of ev.scores) {
    tp += s.tp; fp += s.fp; fn += s.fn; lk += s.lookalikes; ls += s.lookalikesSurvived;
    rows.push(`${s.type.padEnd(w)} ${String(s.tp + s.fn).padStart(9)} ${String(s.tp).padStart(5)} ${String(s.fp).padStart(5)} ${String(s.fn).padStart(5)}     ${pct(s.precision)}% ${pct(s.recall)}% ${pct(s.fpr)}%  ${String(s.lookalikesSurvived).padStart(5)}/${s.lookalikes}`);
  }
  const p: number = tp + fp === 0 ? 1 : tp / (tp + fp);
  const r: number = tp + fn === 0 ? 1 : tp / (tp + fn);
  rows.push(`${"all".padEnd(w)} ${String(tp + fn).padStart(9)} ${String(tp).padStart(5)} ${String(fp).padStart(5)} ${String(fn).padStart(5)}     ${pct(p)}% ${pct(r)}%         ${String(ls).padStart(5)}/${lk}`);
  rows.push("FPR: share of the lines without an entity of that type in which the detector reported one.");
  return rows.join("\n");
}
