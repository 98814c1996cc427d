// JSON Merge Patch (RFC 7396) as module_settings patches use it (sidecar-services/src/merge-patch.ts):
// the RFC's appendix A examples, plus the properties the admin API relies on.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyMergePatch } from "../../sidecar-services/src/merge-patch.ts";

test("RFC 7396 appendix A examples (object patches)", () => {
  const cases: [unknown, Record<string, unknown>, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) assert.deepEqual(applyMergePatch(target, patch), want, JSON.stringify({ target, patch }));
});

test("sections the patch does not name are kept as stored; neither input is modified", () => {
  const stored = { redact: { entities: { email: "mask" } }, quota: { rpm: 5 }, other: [1] };
  const patch = { audit: { enabled: true }, redact: { entities: { card: "block" } } };
  const before = structuredClone({ stored, patch });
  const out = applyMergePatch(stored, patch);
  assert.deepEqual(out, { redact: { entities: { email: "mask", card: "block" } }, quota: { rpm: 5 }, other: [1], audit: { enabled: true } });
  assert.deepEqual({ stored, patch }, before);
  (out.audit as Record<string, unknown>).enabled = false;
  assert.equal(patch.audit.enabled, true, "the result shares no object with the patch");
});

test('a "__proto__" member is data, never the prototype', () => {
  const patch = JSON.parse('{"__proto__": {"polluted": true}, "x": {"__proto__": 1}}') as Record<string, unknown>;
  const out = applyMergePatch({}, patch);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":true},"x":{"__proto__":1}}');
  assert.deepEqual(JSON.parse(JSON.stringify(applyMergePatch(out, JSON.parse('{"__proto__": null}') as Record<string, unknown>))), { x: JSON.parse('{"__proto__":1}') });
});
