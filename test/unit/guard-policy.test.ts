// The guard vocabulary shared by config, sidecar and CLI (config/guard-policy.ts): its entity names
// must be the AssemblyScript detectors' names, and tenant policies are checked before they are stored.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { ENTITY_NAMES, guardPolicyProblems, modulePolicyJson } from "../../config/guard-policy.ts";

test("entity names equal filters/assembly/detect/finding.ts NAMES, in order", () => {
  const src: string = readFileSync(new URL("../../filters/assembly/detect/finding.ts", import.meta.url), "utf8");
  const m: RegExpMatchArray | null = src.match(/const NAMES: Array<string> = \[([\s\S]*?)\];/);
  assert.ok(m, "NAMES array not found in finding.ts");
  const names: string[] = [...m[1].matchAll(/"([a-z0-9_]+)"/g)].map((x) => x[1]);
  assert.deepEqual(names, [...ENTITY_NAMES]);
});

test("valid policies have no problems", () => {
  assert.deepEqual(guardPolicyProblems({}), []);
  assert.deepEqual(guardPolicyProblems({ other: 1, redact: { entities: { email: "block", jwt: "allow" }, responses: false } }), []);
  assert.deepEqual(guardPolicyProblems({ injection: { action: "flag", threshold: 0 } }), []);
  assert.deepEqual(guardPolicyProblems({ injection: { threshold: 1 } }), []);
  assert.deepEqual(guardPolicyProblems({ redact: { enabled: false } }), []);
  assert.deepEqual(guardPolicyProblems({ redact: { enabled: "no" } }), ["redact.enabled: must be true or false"]);
});

test("every bad field is named", () => {
  assert.deepEqual(guardPolicyProblems({ redact: [] }), ["redact: must be an object"]);
  assert.deepEqual(guardPolicyProblems({ redact: { entities: { mail: "mask", card: "drop" }, responses: "yes", x: 1 } }), [
    "redact.x: unknown key (allowed: enabled, entities, responses)",
    "redact.responses: must be true or false",
    `redact.entities.mail: unknown entity (known: ${ENTITY_NAMES.join(", ")})`,
    "redact.entities.card: action must be one of mask, hash, block, allow",
  ]);
  assert.deepEqual(guardPolicyProblems({ injection: { action: "warn", threshold: 1.01 } }), [
    "injection.action: must be one of flag, block",
    "injection.threshold: must be a number in 0..1",
  ]);
  assert.deepEqual(guardPolicyProblems({ injection: { threshold: "0.5" } }), ["injection.threshold: must be a number in 0..1"]);
});

test("module policy JSON holds only the guard sections, '' when there are none", () => {
  assert.equal(modulePolicyJson({}), "");
  assert.equal(modulePolicyJson(null), "");
  assert.equal(modulePolicyJson({ quota: { rpm: 5 } }), "");
  assert.equal(
    modulePolicyJson({ quota: 1, injection: { action: "flag" }, redact: { entities: { email: "block" } } }),
    '{"redact":{"entities":{"email":"block"}},"injection":{"action":"flag"}}',
  );
});
