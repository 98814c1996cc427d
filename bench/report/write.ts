// Writes one run as <out>/<timestamp>.json, .md and .svg. Each file goes to a .tmp first and is
// renamed into place, so a reader (the smoke test, a CI step) never sees half a file.

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { renderMarkdown } from "./markdown.ts";
import type { BenchResult } from "./result-types.ts";
import { renderChart } from "./svg-chart.ts";

export interface WrittenFiles {
  json: string;
  markdown: string;
  chart: string;
}

/** "2026-11-26T10:05:03.123Z" → "2026-11-26T10-05-03Z": sortable, and valid on every filesystem. */
export function fileStamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
}

function writeAtomically(path: string, text: string): void {
  const temp: string = `${path}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

export function writeResults(result: BenchResult, outDir: string): WrittenFiles {
  mkdirSync(outDir, { recursive: true });
  const base: string = join(outDir, fileStamp(result.startedAt));
  const files: WrittenFiles = { json: `${base}.json`, markdown: `${base}.md`, chart: `${base}.svg` };
  writeAtomically(files.json, `${JSON.stringify(result, null, 2)}\n`);
  writeAtomically(files.markdown, renderMarkdown(result));
  writeAtomically(files.chart, renderChart(result));
  return files;
}
