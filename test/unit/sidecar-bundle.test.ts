// The sidecar bundle as `npm run build` leaves it (build/sidecar/main.js, made by
// sidecar-services/build.mjs): ASCII only, so V8 keeps its 2 MB source one byte per character.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const BUNDLE: string = join(fileURLToPath(new URL("../../", import.meta.url)), "build", "sidecar", "main.js");

test("the sidecar bundle is ASCII only (a non-ASCII comment made V8 hold its source in two bytes per character)", () => {
  const text = readFileSync(BUNDLE, "latin1");
  const lines = text.split("\n");
  const offending = lines.flatMap((line: string, i: number) => (/[^\x00-\x7f]/.test(line) ? [`${i + 1}: ${line.trim().slice(0, 80)}`] : []));
  assert.deepEqual(offending, []);
  // The comments esbuild kept with non-ASCII characters are still there, escaped as text.
  assert.match(text, /\/\/.*\\u\{[0-9a-f]+\}/);
});
