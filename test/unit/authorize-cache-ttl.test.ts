// cache_ttl_ms of an ALLOW (sidecar-services/src/authorize.ts): the configured TTL, never past the
// key's expiry, nor past the end of a rotation grace when the previous secret was used.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowCacheTtlMs } from "../../sidecar-services/src/authorize.ts";

describe("allowCacheTtlMs", () => {
  const now = 1_000_000;

  it("is the configured TTL for a key without expiry", () => {
    assert.equal(allowCacheTtlMs(1000, now, null, "current", null), 1000);
    assert.equal(allowCacheTtlMs(0, now, null, "current", null), 0);
    assert.equal(allowCacheTtlMs(2000, now, null, "current", null), 2000);
  });

  it("stops at the key's expiry", () => {
    assert.equal(allowCacheTtlMs(1000, now, now + 5000, "current", null), 1000);
    assert.equal(allowCacheTtlMs(1000, now, now + 250, "current", null), 250);
    assert.equal(allowCacheTtlMs(1000, now, now + 0.5, "current", null), 0);
  });

  it("stops at the end of the grace only when the previous secret was used", () => {
    assert.equal(allowCacheTtlMs(1000, now, null, "previous", now + 300), 300);
    assert.equal(allowCacheTtlMs(1000, now, null, "current", now + 300), 1000);
    assert.equal(allowCacheTtlMs(1000, now, now + 200, "previous", now + 300), 200);
  });

  it("is never negative", () => {
    assert.equal(allowCacheTtlMs(1000, now, now - 10, "previous", now - 20), 0);
  });
});
