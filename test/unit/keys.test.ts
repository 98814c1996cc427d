// Key format, generation and secret verification (sidecar-services/src/api-key.ts), plus the pure
// helpers of keys.ts. No database: see test/integration/sidecar-*.test.ts for the stored side.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, it } from "node:test";
import {
  KEY_LENGTH,
  formatApiKey,
  generateApiKey,
  hashSecret,
  isKeyId,
  matchSecret,
  parseApiKey,
  randomString,
  verifySecret,
} from "../../sidecar-services/src/api-key.ts";
import { tenantIdFromName } from "../../sidecar-services/src/keys.ts";

const PEPPER = "unit-test-pepper-0123456789abcdef0123";
const FORMAT = /^lsh_[a-z0-9]{12}_[A-Za-z0-9]{32}$/;

describe("generateApiKey", () => {
  it("produces lsh_<12 [a-z0-9]>_<32 base62> and parts that match the key", () => {
    for (let i = 0; i < 200; i++) {
      const k = generateApiKey();
      assert.match(k.key, FORMAT);
      assert.equal(k.key.length, KEY_LENGTH);
      assert.equal(k.key, formatApiKey(k.keyId, k.secret));
      assert.deepEqual(parseApiKey(k.key), { keyId: k.keyId, secret: k.secret });
    }
  });

  it("does not repeat key ids or secrets", () => {
    const ids = new Set<string>();
    const secrets = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const k = generateApiKey();
      ids.add(k.keyId);
      secrets.add(k.secret);
    }
    assert.equal(ids.size, 2000);
    assert.equal(secrets.size, 2000);
  });

  it("draws from the whole alphabet (rejection sampling, no truncated alphabet)", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const seen = new Set(randomString(alphabet, 20_000));
    assert.equal(seen.size, alphabet.length);
  });
});

describe("parseApiKey", () => {
  const good = generateApiKey();

  it("accepts a well-formed key", () => {
    assert.deepEqual(parseApiKey(good.key), { keyId: good.keyId, secret: good.secret });
  });

  const rejected: [string, string][] = [
    ["empty", ""],
    ["wrong prefix", good.key.replace(/^lsh_/, "lsk_")],
    ["bearer prefix left in", `Bearer ${good.key}`],
    ["uppercase in key id", `lsh_${good.keyId.toUpperCase().replace(/[0-9]/g, "A")}_${good.secret}`],
    ["short secret", good.key.slice(0, -1)],
    ["long secret", good.key + "a"],
    ["trailing newline", good.key.slice(0, -1) + "\n"],
    ["NUL byte", good.key.slice(0, 20) + "\0" + good.key.slice(21)],
    ["replacement char (invalid UTF-8 decoded)", good.key.slice(0, -1) + "\uFFFD"],
    ["non-ASCII lookalike", good.key.slice(0, -1) + "а"],
    ["SQL fragment", "lsh_' OR '1'='1'; --_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
    ["SQL fragment of valid length", `lsh_${good.keyId}_'; DROP TABLE api_keys; --aaaaaaa`],
    ["64 KB", "lsh_" + "a".repeat(64 * 1024)],
    ["separator swapped", `lsh-${good.keyId}-${good.secret}`],
  ];
  for (const [name, input] of rejected) {
    it(`rejects ${name}`, () => {
      assert.equal(parseApiKey(input), null);
    });
  }
});

describe("isKeyId", () => {
  it("accepts exactly 12 [a-z0-9]", () => {
    assert.ok(isKeyId("abc123def456"));
    assert.ok(!isKeyId("abc123def45"));
    assert.ok(!isKeyId("ABC123DEF456"));
    assert.ok(!isKeyId("abc123def45'"));
  });
});

describe("hashSecret / verifySecret", () => {
  const { secret } = generateApiKey();

  it("is HMAC-SHA256 keyed with the pepper", () => {
    const expected = crypto.createHmac("sha256", PEPPER).update(secret).digest();
    const actual = hashSecret(PEPPER, secret);
    assert.equal(actual.length, 32);
    assert.deepEqual(actual, expected);
  });

  it("depends on the pepper", () => {
    assert.notDeepEqual(hashSecret(PEPPER, secret), hashSecret(PEPPER + "x", secret));
  });

  it("verifies the right secret and rejects others", () => {
    const stored = hashSecret(PEPPER, secret);
    assert.equal(verifySecret(PEPPER, secret, stored), true);
    assert.equal(verifySecret(PEPPER, generateApiKey().secret, stored), false);
    assert.equal(verifySecret("another-pepper-0123456789abcdef0123", secret, stored), false);
  });

  it("accepts the hash as a Uint8Array (PGlite returns bytea that way)", () => {
    assert.equal(verifySecret(PEPPER, secret, new Uint8Array(hashSecret(PEPPER, secret))), true);
  });

  it("returns false, not throws, for a stored hash of the wrong length", () => {
    assert.equal(verifySecret(PEPPER, secret, Buffer.alloc(0)), false);
    assert.equal(verifySecret(PEPPER, secret, Buffer.alloc(16)), false);
    assert.equal(verifySecret(PEPPER, secret, Buffer.alloc(64)), false);
  });

  it("compares with crypto.timingSafeEqual on equal-length buffers", (t) => {
    const spy = t.mock.method(crypto, "timingSafeEqual");
    const stored = hashSecret(PEPPER, secret);
    verifySecret(PEPPER, secret, stored);
    verifySecret(PEPPER, generateApiKey().secret, stored);
    assert.equal(spy.mock.callCount(), 2);
    for (const call of spy.mock.calls) {
      const [a, b] = call.arguments as [Uint8Array, Uint8Array];
      assert.equal(a.length, 32);
      assert.equal(b.length, 32);
    }
    assert.deepEqual(
      spy.mock.calls.map((c) => c.result),
      [true, false],
    );
  });
});

describe("matchSecret", () => {
  const current = generateApiKey().secret;
  const previous = generateApiKey().secret;
  const h = (s: string) => hashSecret(PEPPER, s);

  it("matches the current secret, and the previous one only while its grace is valid", () => {
    assert.equal(matchSecret(h(current), h(current), h(previous), true), "current");
    assert.equal(matchSecret(h(previous), h(current), h(previous), true), "previous");
    assert.equal(matchSecret(h(previous), h(current), h(previous), false), "none");
    assert.equal(matchSecret(h(current), h(current), null, false), "current");
    assert.equal(matchSecret(h("other"), h(current), h(previous), true), "none");
  });

  it("never matches absent or malformed stored hashes", () => {
    assert.equal(matchSecret(h(current), null, null, true), "none");
    assert.equal(matchSecret(h(current), Buffer.alloc(16), Buffer.alloc(0), true), "none");
    assert.equal(matchSecret(Buffer.alloc(16), Buffer.alloc(16), Buffer.alloc(16), true), "none");
  });

  it("always runs exactly two 32-byte timingSafeEqual comparisons", (t) => {
    const spy = t.mock.method(crypto, "timingSafeEqual");
    const cases: [Uint8Array, Uint8Array | null, Uint8Array | null, boolean][] = [
      [h(current), null, null, false], // unknown key id
      [h("wrong"), h(current), null, false], // wrong secret, no grace
      [h(current), h(current), null, false], // right secret
      [h(previous), h(current), h(previous), true], // previous secret inside the grace
      [Buffer.alloc(3), Buffer.alloc(7), null, true], // malformed everything
    ];
    for (const [p, c, prev, valid] of cases) {
      const before = spy.mock.callCount();
      matchSecret(p, c, prev, valid);
      assert.equal(spy.mock.callCount() - before, 2);
    }
    for (const call of spy.mock.calls) {
      const [a, b] = call.arguments as [Uint8Array, Uint8Array];
      assert.equal(a.length, 32);
      assert.equal(b.length, 32);
    }
  });
});

describe("tenantIdFromName", () => {
  it("slugifies display names", () => {
    assert.equal(tenantIdFromName("Acme Corp"), "acme-corp");
    assert.equal(tenantIdFromName("  --Ünïcode & Co!  "), "n-code-co");
    assert.equal(tenantIdFromName("'; DROP TABLE tenants; --"), "drop-table-tenants");
    assert.equal(tenantIdFromName("x".repeat(100)).length, 63);
  });
});
