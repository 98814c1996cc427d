// `leash policy set --redact … --injection …` argument forms (cli/guard-policy-args.ts): the
// module_settings merge patch the CLI sends, and what it does to stored settings once the admin API
// merges it (sidecar-services/src/merge-patch.ts) — the meaning the commands had when the CLI merged
// client-side.
import assert from "node:assert/strict";
import { test } from "node:test";

import { guardPolicyPatch } from "../../cli/guard-policy-args.ts";
import { applyMergePatch } from "../../sidecar-services/src/merge-patch.ts";

const apply = (current: Record<string, unknown>, redact: string | undefined, injection: string | undefined) =>
  applyMergePatch(current, guardPolicyPatch(redact, injection));

test("the patch names only the sections given", () => {
  assert.deepEqual(guardPolicyPatch("card=block,responses=off", undefined), { redact: { entities: { card: "block" }, responses: false } });
  assert.deepEqual(guardPolicyPatch(undefined, "block:0.7"), { injection: { action: "block", threshold: 0.7 } });
  assert.deepEqual(guardPolicyPatch("off", undefined), { redact: { enabled: false } });
});

test("--redact merges entity actions into the tenant's, keeps other keys", () => {
  const current = { quota: { rpm: 5 }, redact: { entities: { email: "mask" }, responses: true } };
  assert.deepEqual(apply(current, "card=block, phone=hash,responses=off", undefined), {
    quota: { rpm: 5 },
    redact: { entities: { email: "mask", card: "block", phone: "hash" }, responses: false },
  });
});

test("--redact off / on turns the module off or on for the tenant, keeping its entity actions", () => {
  assert.deepEqual(apply({ redact: { entities: { email: "block" } } }, "off", undefined), { redact: { entities: { email: "block" }, enabled: false } });
  assert.deepEqual(apply({ redact: { enabled: false } }, "on", undefined), { redact: { enabled: true } });
});

test("--injection action[:threshold] replaces the section; default removes a section", () => {
  assert.deepEqual(apply({}, undefined, "block:0.7"), { injection: { action: "block", threshold: 0.7 } });
  assert.deepEqual(apply({}, undefined, "flag"), { injection: { action: "flag" } });
  // Without a threshold the gateway's applies again, as when the CLI replaced the section itself.
  assert.deepEqual(apply({ injection: { action: "block", threshold: 0.7 } }, undefined, "flag"), { injection: { action: "flag" } });
  assert.deepEqual(guardPolicyPatch("default", "default"), { redact: null, injection: null });
  assert.deepEqual(apply({ redact: { responses: false }, injection: { action: "flag" }, audit: { enabled: true } }, "default", "default"), { audit: { enabled: true } });
});

test("bad arguments are refused with what to write instead", () => {
  assert.throws(() => guardPolicyPatch("mail=mask", undefined), /unknown entity "mail"/);
  assert.throws(() => guardPolicyPatch("email=drop", undefined), /redact\.entities\.email: action must be one of mask, hash, block, allow/);
  assert.throws(() => guardPolicyPatch("email", undefined), /expected entity=action/);
  assert.throws(() => guardPolicyPatch("responses=maybe", undefined), /responses=on or responses=off/);
  assert.throws(() => guardPolicyPatch(undefined, "block:1.5"), /injection\.threshold: must be a number in 0\.\.1/);
  assert.throws(() => guardPolicyPatch(undefined, "warn"), /expected flag\|block/);
});
