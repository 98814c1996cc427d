// The bench's ablation targets (leash-full-no-<module>): each is leash-full with exactly that one
// module off, so leash-full minus it, in the same rounds, is what the module costs inside the chain.
// Pure configuration: no target is started (a real run of them is in bench/README.md).

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseOptions } from "../../bench/cli/options.ts";
import { targetModules, type Modules } from "../../bench/targets/leash.ts";

const ABLATED: readonly (keyof Modules)[] = ["redact", "injection", "quota", "usage"];

describe("bench ablation targets", () => {
  it("turn off exactly one module of leash-full each", () => {
    const full: Modules = targetModules("leash-full");
    assert.deepEqual(full, { auth: true, redact: true, injection: true, quota: true, usage: true });
    for (const module of ABLATED) {
      const name = `leash-full-no-${module}` as Parameters<typeof targetModules>[0];
      assert.deepEqual(targetModules(name), { ...full, [module]: false }, name);
    }
  });

  it("are accepted by --targets (direct, the baseline, is always measured first)", () => {
    const targets: string = ABLATED.map((m: string) => `leash-full-no-${m}`).join(",");
    assert.deepEqual(parseOptions(["--targets", `leash-full,${targets}`]).targets, ["direct", "leash-full", ...ABLATED.map((m: string) => `leash-full-no-${m}`)]);
  });
});
