// Encryption at rest of provider credentials: the master key ring (master-key.ts) and AES-256-GCM
// sealing bound to the credential's owner (credential-cipher.ts). Re-encryption against a real
// database is in test/integration/sidecar-authorize.test.ts.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  CredentialDecryptError,
  credentialAad,
  credentialHint,
  openCredential,
  sealCredential,
  type CredentialOwner,
} from "../../sidecar-services/src/credential-cipher.ts";
import {
  MASTER_KEY_FILE,
  MasterKeyError,
  createKeyRing,
  decodeMasterKey,
  fingerprintKeyId,
  loadKeyRing,
  parseKeyRing,
} from "../../sidecar-services/src/master-key.ts";

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const ACME: CredentialOwner = { tenantId: "acme", provider: "openai" };
const SECRET = "sk-proj-abcdefghijklmnop0123456789wxyz";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "leash-mk-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Asserts `fn` throws MasterKeyError and that its message does not contain `secretText`. */
function throwsWithout(fn: () => unknown, secretText: string, pattern: RegExp): void {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof MasterKeyError, `expected MasterKeyError, got ${err.name}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes(secretText), "the message must not echo key material");
    return true;
  });
}

describe("decodeMasterKey / parseKeyRing", () => {
  it("accepts 64 hex digits and base64 (padded, unpadded, URL alphabet) of 32 bytes", () => {
    assert.deepEqual(decodeMasterKey(K1.toString("hex")), K1);
    assert.deepEqual(decodeMasterKey(K1.toString("hex").toUpperCase()), K1);
    assert.deepEqual(decodeMasterKey(K1.toString("base64")), K1);
    assert.deepEqual(decodeMasterKey(K1.toString("base64").replace(/=+$/, "")), K1);
    assert.deepEqual(decodeMasterKey(K1.toString("base64url")), K1);
  });

  it("refuses other lengths and alphabets", () => {
    for (const bad of ["", "abc", K1.toString("hex").slice(2), randomBytes(16).toString("base64"), randomBytes(48).toString("base64"), "z".repeat(64)]) {
      assert.equal(decodeMasterKey(bad), null, bad);
    }
  });

  it("reads a ring in order, with explicit and fingerprint ids", () => {
    const ring = parseKeyRing(`k2:${K2.toString("base64")}, ${K1.toString("hex")}\n`, "test");
    assert.deepEqual(ring.ids, ["k2", fingerprintKeyId(K1)]);
    assert.equal(ring.current.id, "k2");
    assert.deepEqual(ring.get(fingerprintKeyId(K1))?.key, K1);
    assert.equal(ring.get("nope"), undefined);
    assert.match(fingerprintKeyId(K1), /^mk-[0-9a-f]{12}$/);
    assert.notEqual(fingerprintKeyId(K1), fingerprintKeyId(K2));
  });

  it("refuses bad entries without echoing them", () => {
    const bad = "not-a-key-but-maybe-a-secret";
    throwsWithout(() => parseKeyRing(`k1:${bad}`, "LEASH_MASTER_KEYS"), bad, /LEASH_MASTER_KEYS: entry 1 is not a 32-byte key/);
    throwsWithout(() => parseKeyRing(` , `, "LEASH_MASTER_KEYS"), bad, /holds no master key/);
    throwsWithout(() => parseKeyRing(`a:${K1.toString("hex")},a:${K2.toString("hex")}`, "x"), K1.toString("hex"), /appears twice/);
    throwsWithout(() => parseKeyRing(`bad id:${K1.toString("hex")}`, "x"), K1.toString("hex"), /invalid master key id/);
    assert.throws(() => createKeyRing([]), MasterKeyError);
  });
});

describe("loadKeyRing", () => {
  const hex1 = K1.toString("hex");

  it("takes LEASH_MASTER_KEYS, then LEASH_MASTER_KEY, then LEASH_MASTER_KEY_FILE", () => {
    const dataDir = tempDir();
    const ring = loadKeyRing({ env: { LEASH_MASTER_KEYS: `new:${K2.toString("hex")},old:${hex1}` }, dataDir, embedded: true });
    assert.equal(ring?.source, "env-ring");
    assert.deepEqual(ring?.ring.ids, ["new", "old"]);

    const single = loadKeyRing({ env: { LEASH_MASTER_KEY: hex1 }, dataDir, embedded: false });
    assert.equal(single?.source, "env");
    assert.equal(single?.ring.current.id, fingerprintKeyId(K1));

    const file = join(tempDir(), "mk");
    writeFileSync(file, `k9:${hex1}\n`, { mode: 0o600 });
    const fromFile = loadKeyRing({ env: { LEASH_MASTER_KEY_FILE: file }, dataDir, embedded: false });
    assert.equal(fromFile?.source, "file");
    assert.equal(fromFile?.ring.current.id, "k9");
  });

  it("refuses two sources at once and a ring in LEASH_MASTER_KEY", () => {
    assert.throws(
      () => loadKeyRing({ env: { LEASH_MASTER_KEY: hex1, LEASH_MASTER_KEYS: `a:${hex1}` }, dataDir: tempDir(), embedded: false }),
      /set only one of LEASH_MASTER_KEYS, LEASH_MASTER_KEY/,
    );
    assert.throws(
      () => loadKeyRing({ env: { LEASH_MASTER_KEY: `a:${hex1},b:${K2.toString("hex")}` }, dataDir: tempDir(), embedded: false }),
      /must hold one key/,
    );
  });

  it("returns null with a PostgreSQL server and nothing configured", () => {
    const dataDir = tempDir();
    assert.equal(loadKeyRing({ env: {}, dataDir, embedded: false }), null);
  });

  it("generates a key once into data_dir in embedded mode, mode 0600, and reuses it", () => {
    const dataDir = tempDir();
    const first = loadKeyRing({ env: {}, dataDir, embedded: true });
    assert.equal(first?.source, "data-dir-created");
    const file = join(dataDir, MASTER_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const content = readFileSync(file, "utf8");
    const second = loadKeyRing({ env: {}, dataDir, embedded: true });
    assert.equal(second?.source, "data-dir");
    assert.deepEqual(second?.ring.current.key, first?.ring.current.key);
    assert.equal(readFileSync(file, "utf8"), content, "never overwritten");
  });
});

describe("sealCredential / openCredential", () => {
  const ring1 = createKeyRing([{ id: "k1", key: K1 }]);

  it("round-trips under the ring's current key, with a fresh 96-bit nonce each time", () => {
    const a = sealCredential(ring1, ACME, SECRET);
    const b = sealCredential(ring1, ACME, SECRET);
    assert.equal(a.masterKeyId, "k1");
    assert.equal(a.nonce.length, 12);
    assert.equal(a.authTag.length, 16);
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.ok(!a.ciphertext.toString("latin1").includes(SECRET), "the ciphertext is not the plaintext");
    assert.equal(openCredential(ring1, ACME, a), SECRET);
    assert.equal(openCredential(ring1, ACME, b), SECRET);
    assert.equal(openCredential(ring1, { tenantId: null, provider: "x" }, sealCredential(ring1, { tenantId: null, provider: "x" }, "é unicode ✓")), "é unicode ✓");
  });

  it("fails for another owner (the AAD binds tenant and provider)", () => {
    const sealed = sealCredential(ring1, ACME, SECRET);
    const others: CredentialOwner[] = [
      { tenantId: "globex", provider: "openai" },
      { tenantId: "acme", provider: "anthropic" },
      { tenantId: null, provider: "openai" },
    ];
    for (const owner of others) {
      assert.throws(() => openCredential(ring1, owner, sealed), (err: CredentialDecryptError) => err.reason === "authentication_failed");
    }
    // Shared vs a tenant literally named like the marker cannot collide: tenant ids never contain "*".
    assert.notDeepEqual(credentialAad({ tenantId: null, provider: "p" }), credentialAad({ tenantId: "x", provider: "p" }));
  });

  it("fails for an unknown key id, and for a different key under the same id", () => {
    const sealed = sealCredential(ring1, ACME, SECRET);
    const other = createKeyRing([{ id: "k2", key: K2 }]);
    assert.throws(() => openCredential(other, ACME, sealed), (err: CredentialDecryptError) => {
      assert.equal(err.reason, "unknown_master_key");
      assert.match(err.message, /k1/);
      return true;
    });
    const impostor = createKeyRing([{ id: "k1", key: K2 }]);
    assert.throws(() => openCredential(impostor, ACME, sealed), (err: CredentialDecryptError) => err.reason === "authentication_failed");
  });

  it("fails when ciphertext, nonce or tag is altered, without echoing anything", () => {
    const sealed = sealCredential(ring1, ACME, SECRET);
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      c[0]! ^= 1;
      return c;
    };
    for (const altered of [
      { ...sealed, ciphertext: flip(sealed.ciphertext) },
      { ...sealed, nonce: flip(sealed.nonce) },
      { ...sealed, authTag: flip(sealed.authTag) },
      { ...sealed, authTag: sealed.authTag.subarray(0, 8) },
    ]) {
      assert.throws(() => openCredential(ring1, ACME, altered), (err: Error) => {
        assert.ok(err instanceof CredentialDecryptError);
        assert.ok(!err.message.includes(SECRET));
        return true;
      });
    }
  });

  it("ring rotation: old values open under [new, old], new values are sealed with the new key", () => {
    const sealedOld = sealCredential(ring1, ACME, SECRET);
    const rotated = createKeyRing([
      { id: "k2", key: K2 },
      { id: "k1", key: K1 },
    ]);
    assert.equal(openCredential(rotated, ACME, sealedOld), SECRET);
    const sealedNew = sealCredential(rotated, ACME, SECRET);
    assert.equal(sealedNew.masterKeyId, "k2");
    // After the old key is dropped, only values re-sealed under k2 still open.
    const onlyNew = createKeyRing([{ id: "k2", key: K2 }]);
    assert.equal(openCredential(onlyNew, ACME, sealedNew), SECRET);
    assert.throws(() => openCredential(onlyNew, ACME, sealedOld), CredentialDecryptError);
  });
});

describe("credentialHint", () => {
  it("shows at most the last 4 characters, and nothing for short values", () => {
    assert.equal(credentialHint("sk-proj-abcdefghijklmnopqrstuvwxyz1234"), "sk-…1234");
    assert.equal(credentialHint("sk-ant-api03-abcdefghijklmnopqrstuv9876"), "sk-…9876");
    assert.equal(credentialHint("AIzaSyAbcdefghijklmnopqrstuvwxyz5678"), "…5678");
    assert.equal(credentialHint("short-key-123"), "…");
  });
});
