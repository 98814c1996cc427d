// Prints precision, recall and false-positive rate per PII type over test/eval/pii.jsonl, and per
// secret type over test/eval/secrets.jsonl, computed by the compiled detector code (see
// pii-run.ts). Exits non-zero only when it cannot run (compile error, malformed set), never
// because of the figures.
//
//   node --import tsx test/eval/pii-eval.ts [--misses] [--set other.jsonl] [--secrets-set other.jsonl]
//
// --misses also lists every missed entity, spurious finding and redacted lookalike (line numbers
// of the set they come from).
//
// Four tables: PII on all lines and on the held-out lines only (written after the rules were
// tuned), then the same two for secrets. PII is scored with the PII detectors only and secrets
// with the secret detectors only, each set against its own types.
import {
  evaluate, formatTable, loadDetector, loadSet, SECRET_TYPES, SECRETS_SET, TYPES,
  type Detector, type Evaluation, type Sample,
} from "./pii-run.ts";

/** The value of `--name`, or `fallback`. */
function option(args: string[], name: string, fallback: string): string {
  return args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
}

/** Prints the all-lines and held-out tables of one set (and its misses with --misses). */
function report(set: Sample[], det: Detector, types: readonly string[], what: string, misses: boolean): void {
  const ev: Evaluation = evaluate(set, det, "all lines", types, what);
  console.log(formatTable(ev));
  // Line numbers of the held-out table count within the held-out lines.
  const heldOut: Sample[] = set.filter((s: Sample): boolean => s.split === "held-out");
  console.log("\n" + formatTable(evaluate(heldOut, det, "held-out lines only", types, what)));
  if (misses) {
    for (const m of ev.misses) console.log(`line ${String(m.line).padStart(3)} ${m.kind.padEnd(13)} ${m.type.padEnd(5)} ${m.value}`);
  }
}

try {
  const args: string[] = process.argv.slice(2);
  const misses: boolean = args.includes("--misses");
  const pii: Sample[] = args.includes("--set") ? loadSet(option(args, "--set", "")) : loadSet();
  const secrets: Sample[] = loadSet(option(args, "--secrets-set", SECRETS_SET), SECRET_TYPES);
  report(pii, await loadDetector(TYPES), TYPES, "PII detectors", misses);
  console.log("");
  report(secrets, await loadDetector(SECRET_TYPES), SECRET_TYPES, "Secret detectors", misses);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
