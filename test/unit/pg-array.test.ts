// PostgreSQL array literals written by sidecar-services/src/pg-array.ts; the round trip through a
// real server is in test/integration/usage-ledger-ack.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { plainArray, textArray } from "../../sidecar-services/src/pg-array.ts";

describe("pg array literals", () => {
  it("writes plain text bare and quotes what the array parser would otherwise misread", () => {
    assert.equal(textArray(["req-1", "gpt-4o-mini", "a.b:c/d"]), "{req-1,gpt-4o-mini,a.b:c/d}");
    assert.equal(textArray(["", "NULL", "null", "Null"]), '{"","NULL","null","Null"}');
    assert.equal(textArray(["a b", "a,b", "{x}", 'say "hi"', "back\\slash", "tab\there", "line\nbreak"]),
      '{"a b","a,b","{x}","say \\"hi\\"","back\\\\slash","tab\there","line\nbreak"}');
    assert.equal(textArray(["naïve", "東京"]), "{naïve,東京}");
  });

  it("writes SQL NULL for null elements and {} for no elements", () => {
    assert.equal(textArray(["a", null]), "{a,NULL}");
    assert.equal(plainArray([1, null, true, false, "0.000123456", "2031-01-31T23:59:59.999Z"]), "{1,NULL,true,false,0.000123456,2031-01-31T23:59:59.999Z}");
    assert.equal(textArray([]), "{}");
  });
});
