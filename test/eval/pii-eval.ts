// Prints precision, recall and false-positive rate per PII type over test/eval/pii.jsonl, computed
// by the compiled detector code (see pii-run.ts). Exits non-zero only when it cannot run (compile
// error, malformed set), never because of the figures.
//
//   node --import tsx test/eval/pii-eval.ts [--misses]
//
// --misses also lists every missed entity, spurious finding and redacted lookalike.
import { evaluate, formatTable, loadDetector, loadSet, type Evaluation } from "./pii-run.ts";

try {
  const ev: Evaluation = evaluate(loadSet(), await loadDetector());
  console.log(formatTable(ev));
  if (process.argv.includes("--misses")) {
    for (const m of ev.misses) console.log(`line ${String(m.line).padStart(3)} ${m.kind.padEnd(13)} ${m.type.padEnd(5)} ${m.value}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
