// Recomputes a finished run's figures and files from its raw points:
// `node --import tsx bench/rerender.ts bench/results/<timestamp>.json`. For when the report code
// changed after a long run: the measured points are kept as they are, everything derived from
// them (summary, sustained rates, ratios, goal checks, markdown, chart) is made anew.

import { readFileSync } from "node:fs";
import { dirname } from "node:path";

import { renderMarkdown } from "./report/markdown.ts";
import type { BenchResult, SkippedPoint } from "./report/result-types.ts";
import { moduleCosts } from "./report/module-cost.ts";
import { goalChecks, ratios, summarize, sustainedRates } from "./report/summary.ts";
import { writeResults, type WrittenFiles } from "./report/write.ts";
import type { TargetName } from "./targets/types.ts";

const file: string | undefined = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: node --import tsx bench/rerender.ts bench/results/<timestamp>.json\n");
  process.exit(2);
}
const result: BenchResult = JSON.parse(readFileSync(file, "utf8")) as BenchResult;
// Runs written before a field existed lack it; default what the report reads.
result.skipped = result.skipped ?? ([] as SkippedPoint[]);
for (const p of result.points) p.dependencyCpuPercent = p.dependencyCpuPercent ?? {};

const measured: TargetName[] = result.targets.filter((t) => t.status === "ok").map((t) => t.name);
result.summary = summarize(result.points);
result.sustained = sustainedRates(result.summary, measured, result.options.sizes);
result.ratios = ratios(result.summary);
result.moduleCosts = moduleCosts(result.summary, result.points);
result.goals = goalChecks(result.summary, result.sustained, result.targets, result.points);
const files: WrittenFiles = writeResults(result, dirname(file));
process.stdout.write(renderMarkdown(result));
process.stderr.write(`rerender: wrote ${files.json}, ${files.markdown}, ${files.chart}\n`);
