// Prints precision, recall and FPR of the prompt-injection guard, overall and per family /
// language / benign kind, with a threshold sweep, for the development set (test/eval/injection.jsonl,
// which the weights were tuned on) and the held-out set (test/eval/injection-holdout.jsonl, never
// tuned on).
//
//   node scripts/build-filters.mjs injection
//   node --import tsx test/eval/injection-eval.ts [--threshold 0.7] [--scores]
//
// --scores also prints every prompt's score and what matched (to study misses).
import { DEFAULT_THRESHOLD, HOLDOUT, SET, loadSet, report, scoreSet, type Scored } from "./injection-run.ts";

const args: string[] = process.argv.slice(2);
const t: number = args.includes("--threshold") ? Number(args[args.indexOf("--threshold") + 1]) : DEFAULT_THRESHOLD;
const sets: Array<[string, string]> = [["development set (weights tuned on it)", SET], ["held-out set (not tuned on)", HOLDOUT]];
for (const [title, path] of sets) {
  const rows: Scored[] = await scoreSet(loadSet(path));
  console.log(report(rows, t, title));
  if (args.includes("--scores")) {
    for (const r of rows) console.log(`${r.score.toFixed(2)} ${r.label.padEnd(9)} ${r.family.padEnd(12)} ${r.lang} ${r.id}  ${r.matched}  ${r.text.slice(0, 70).replace(/\n/g, " ")}`);
  }
  console.log("");
}
