// Prints precision, recall and false-positive rate per PII type over test/eval/pii.jsonl, computed
// by the compiled detector code (see pii-run.ts). Exits non-zero only when it cannot run (compile
// error, malformed set), never because of the figures.
//
//   node --import tsx test/eval/pii-eval.ts [--misses] [--set other.jsonl]
//
// --misses also lists every missed entity, spurious finding and redacted lookalike (line numbers
// of test/eval/pii.jsonl).
//
// Two tables: all lines, and the held-out lines only (written after the rules were tuned).
import { evaluate, formatTable, loadDetector, loadSet, type Detector, type Evaluation, type Sample } from "./pii-run.ts";

try {
  const args: string[] = process.argv.slice(2);
  const set: Sample[] = args.includes("--set") ? loadSet(args[args.indexOf("--set") + 1]) : loadSet();
  const det: Detector = await loadDetector();
  const ev: Evaluation = evaluate(set, det);
  console.log(formatTable(ev));
  // Line numbers of the held-out table count within the held-out lines.
  const heldOut: Sample[] = set.filter((s: Sample): boolean => s.split === "held-out");
  console.log("\n" + formatTable(evaluate(heldOut, det, "held-out lines only")));
  if (process.argv.includes("--misses")) {
    for (const m of ev.misses) console.log(`line ${String(m.line).padStart(3)} ${m.kind.padEnd(13)} ${m.type.padEnd(5)} ${m.value}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
