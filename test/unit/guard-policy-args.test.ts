// `leash policy set --redact … --injection …` argument forms (cli/guard-policy-args.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyGuardArgs } from "../../cli/guard-policy-args.ts";

test("--redact merges entity actions into the tenant's, keeps other keys", () => {
  const current = { quota: { rpm: 5 }, redact: { entities: { email: "mask" }, responses: true } };
  assert.deepEqual(applyGuardArgs(current, "card=block, phone=hash,responses=off", undefined), {
    quota: { rpm: 5 },
    redact: { entities: { email: "mask", card: "block", phone: "hash" }, responses: false },
  });
});

test("--redact off / on turns the module off or on for the tenant, keeping its entity actions", () => {
  assert.deepEqual(applyGuardArgs({ redact: { entities: { email: "block" } } }, "off", undefined), { redact: { entities: { email: "block" }, enabled: false } });
  assert.deepEqual(applyGuardArgs({ redact: { enabled: false } }, "on", undefined), { redact: { enabled: true } });
});

test("--injection action[:threshold]; default removes a section", () => {
  assert.deepEqual(applyGuardArgs({}, undefined, "block:0.7"), { injection: { action: "block", threshold: 0.7 } });
  assert.deepEqual(applyGuardArgs({}, undefined, "flag"), { injection: { action: "flag" } });
  assert.deepEqual(applyGuardArgs({ redact: { responses: false }, injection: { action: "flag" } }, "default", "default"), {});
});

test("bad arguments are refused with what to write instead", () => {
  assert.throws(() => applyGuardArgs({}, "mail=mask", undefined), /unknown entity "mail"/);
  assert.throws(() => applyGuardArgs({}, "email=drop", undefined), /redact\.entities\.email: action must be one of mask, hash, block, allow/);
  assert.throws(() => applyGuardArgs({}, "email", undefined), /expected entity=action/);
  assert.throws(() => applyGuardArgs({}, "responses=maybe", undefined), /responses=on or responses=off/);
  assert.throws(() => applyGuardArgs({}, undefined, "block:1.5"), /injection\.threshold: must be a number in 0\.\.1/);
  assert.throws(() => applyGuardArgs({}, undefined, "warn"), /expected flag\|block/);
});
