// RecentIds (sidecar-services/src/recent-ids.ts): the usage recorder's memory of request ids it
// has counted, bounded, oldest forgotten first. Its cost per key (constant, where the Set-only
// version it replaced grew with the Set's deleted entries) is measured in bench/, not here.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecentIds } from "../../sidecar-services/src/recent-ids.ts";

describe("RecentIds", () => {
  it("answers false for a new key and true for a remembered one", () => {
    const r = new RecentIds(3);
    assert.equal(r.seen("a"), false);
    assert.equal(r.seen("a"), true);
    assert.equal(r.seen("b"), false);
    assert.equal(r.size, 2);
  });

  it("forgets the oldest key first once full; seeing a key again does not move it", () => {
    const r = new RecentIds(3);
    for (const k of ["a", "b", "c"]) r.seen(k);
    assert.equal(r.seen("a"), true, "a remembered");
    assert.equal(r.seen("d"), false); // forgets a, the oldest by first sight
    assert.equal(r.size, 3);
    assert.equal(r.seen("b"), true);
    assert.equal(r.seen("c"), true);
    assert.equal(r.seen("a"), false, "a was forgotten, and is remembered again now (forgetting b)");
    assert.equal(r.seen("c"), true);
    assert.equal(r.seen("b"), false);
  });

  it("keeps exactly the last `limit` keys over many turns of its ring", () => {
    const limit = 1000;
    const r = new RecentIds(limit);
    const total = 25 * limit + 7;
    for (let i = 0; i < total; i++) assert.equal(r.seen(`id-${i}`), false);
    assert.equal(r.size, limit);
    // The last `limit` are remembered (checking them changes nothing); the one before is not.
    for (let i = total - limit; i < total; i++) assert.equal(r.seen(`id-${i}`), true, `id-${i}`);
    assert.equal(r.seen(`id-${total - limit - 1}`), false);
  });

  it("refuses a limit that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new RecentIds(bad), RangeError);
  });
});
