// The sidecar's heap policy (sidecar-services/src/heap-tuning.ts): V8's old-generation growing
// factor set at startup unless the operator gave one on node's command line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { HEAP_GROWING_PERCENT, heapFlag, tuneHeap } from "../../sidecar-services/src/heap-tuning.ts";

test("the growing factor is set when node's command line has none", () => {
  assert.equal(heapFlag([]), `--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.equal(heapFlag(["--enable-source-maps", "--max-old-space-size=512"]), "--heap-growing-percent=50");
  const set: string[] = [];
  assert.equal(tuneHeap(["--inspect"], (f: string) => set.push(f)), "--heap-growing-percent=50");
  assert.deepEqual(set, ["--heap-growing-percent=50"]);
});

test("an operator's own growing factor is left alone, in either spelling", () => {
  for (const argv of [["--heap-growing-percent=20"], ["--heap_growing_percent=80"], ["--heap-growing-percent", "20"]]) {
    const set: string[] = [];
    assert.equal(tuneHeap(argv, (f: string) => set.push(f)), null, argv.join(" "));
    assert.deepEqual(set, []);
  }
});

test("V8 accepts the flag at run time (a misspelt one would only print a warning)", () => {
  const child = spawnSync(process.execPath, ["-e", `require("node:v8").setFlagsFromString(${JSON.stringify(heapFlag([]))})`], { encoding: "utf8" });
  assert.equal(child.status, 0);
  assert.equal(child.stderr, "");
  const misspelt = spawnSync(process.execPath, ["-e", `require("node:v8").setFlagsFromString("--heap-growing-percnt=50")`], { encoding: "utf8" });
  assert.match(misspelt.stderr, /unrecognized flag|Error/i);
});
