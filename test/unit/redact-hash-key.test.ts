// The per-tenant key of the redact module's hash action (sidecar-services/src/redact-hash-key.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import { redactHashKey, withRedactHashKey } from "../../sidecar-services/src/redact-hash-key.ts";

test("one key per tenant and pepper, 64 hex characters", () => {
  const a = redactHashKey("pepper-1", "acme");
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(redactHashKey("pepper-1", "acme"), a);
  assert.notEqual(redactHashKey("pepper-1", "globex"), a);
  assert.notEqual(redactHashKey("pepper-2", "acme"), a);
});

test("the key is added to the tenant's redact section, everything else kept", () => {
  assert.equal(withRedactHashKey("", "k"), '{"redact":{"hash_key":"k"}}');
  assert.deepEqual(JSON.parse(withRedactHashKey('{"redact":{"entities":{"email":"hash"}},"injection":{"action":"flag"}}', "k")), {
    redact: { entities: { email: "hash" }, hash_key: "k" },
    injection: { action: "flag" },
  });
});
