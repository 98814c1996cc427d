// The sidecar's CPU priority under `leash start` (cli/processes.ts): LEASH_SIDECAR_NICE parsed or
// refused, and the command run through `nice` only when there is something to lower. That the
// running sidecar's threads are at nice 10 and Envoy at 0 is checked in test/e2e/cli-start.test.ts.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { SIDECAR_NICE, SIDECAR_NODE_FLAGS, atNice, sidecarCommand, sidecarNice } from "../../cli/processes.ts";

describe("the sidecar's nice", () => {
  it("defaults to SIDECAR_NICE and takes LEASH_SIDECAR_NICE from 0 to 19", () => {
    assert.equal(sidecarNice({}), SIDECAR_NICE);
    assert.equal(sidecarNice({ LEASH_SIDECAR_NICE: "" }), SIDECAR_NICE);
    assert.equal(sidecarNice({ LEASH_SIDECAR_NICE: "0" }), 0);
    assert.equal(sidecarNice({ LEASH_SIDECAR_NICE: "19" }), 19);
  });

  it("refuses anything else with the variable's name", () => {
    for (const v of ["20", "-1", "5.5", "ten", " 5"]) {
      assert.throws(() => sidecarNice({ LEASH_SIDECAR_NICE: v }), /LEASH_SIDECAR_NICE must be an integer from 0 to 19/, v);
    }
  });

  it("runs the command through nice, or as it is for 0", () => {
    assert.deepEqual(atNice(0, "/usr/bin/node", ["main.js"]), ["/usr/bin/node", ["main.js"]]);
    const [command, args] = atNice(10, "/usr/bin/node", ["main.js", "--config", "x.yaml"]);
    if (existsSync("/usr/bin/nice")) {
      assert.equal(command, "/usr/bin/nice");
      assert.deepEqual(args, ["-n", "10", "/usr/bin/node", "main.js", "--config", "x.yaml"]);
    } else {
      assert.deepEqual([command, args], ["/usr/bin/node", ["main.js", "--config", "x.yaml"]]);
    }
  });

  it("builds the sidecar's command: node flags, then extra ones, the bundle and its arguments, at its nice", () => {
    assert.deepEqual(SIDECAR_NODE_FLAGS, ["--single-threaded-gc"]);
    const [command, args] = sidecarCommand({ LEASH_SIDECAR_NICE: "0" }, "b/main.js", ["--config", "x.yaml"], ["--cpu-prof"]);
    assert.deepEqual([command, args], [process.execPath, ["--single-threaded-gc", "--cpu-prof", "b/main.js", "--config", "x.yaml"]]);
    const [, niced] = sidecarCommand({}, "b/main.js", []);
    if (existsSync("/usr/bin/nice")) assert.deepEqual(niced, ["-n", "10", process.execPath, "--single-threaded-gc", "b/main.js"]);
  });
});
