// The admin API token (sidecar-services/src/admin-token.ts): where it comes from, how a presented
// token is parsed and compared. The HTTP side is in test/integration/sidecar-admin-api.test.ts.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ADMIN_TOKEN_FILE, bearerToken, createTokenChecker, loadAdminToken } from "../../sidecar-services/src/admin-token.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "leash-admin-token-"));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("loadAdminToken", () => {
  const good = "t".repeat(16) + crypto.randomBytes(16).toString("hex");

  it("takes LEASH_ADMIN_TOKEN when set", () => {
    assert.deepEqual(loadAdminToken({ env: { LEASH_ADMIN_TOKEN: good }, dataDir: tempDir(), embedded: false }), { token: good, source: "env" });
  });

  it("refuses a short or blank-containing token without echoing it", () => {
    for (const bad of ["short-token", "a b".repeat(12)]) {
      assert.throws(
        () => loadAdminToken({ env: { LEASH_ADMIN_TOKEN: bad }, dataDir: tempDir(), embedded: true }),
        (err: Error) => /at least 32 characters/.test(err.message) && !err.message.includes(bad),
      );
    }
  });

  it("is off (null) with a PostgreSQL server and no variable", () => {
    assert.equal(loadAdminToken({ env: {}, dataDir: tempDir(), embedded: false }), null);
  });

  it("generates a token once into data_dir in embedded mode, mode 0600", () => {
    const dataDir = tempDir();
    const first = loadAdminToken({ env: {}, dataDir, embedded: true });
    const file = join(dataDir, ADMIN_TOKEN_FILE);
    assert.equal(first?.source, "file-created");
    assert.equal(first?.file, file);
    assert.ok((first?.token.length ?? 0) >= 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const second = loadAdminToken({ env: {}, dataDir, embedded: true });
    assert.equal(second?.source, "file");
    assert.equal(second?.token, first?.token);
    assert.equal(readFileSync(file, "utf8").trim(), first?.token);
  });
});

describe("bearerToken", () => {
  it("extracts the token of a Bearer header, and nothing else", () => {
    assert.equal(bearerToken("Bearer abc"), "abc");
    assert.equal(bearerToken("bearer   abc  "), "abc");
    assert.equal(bearerToken(undefined), "");
    assert.equal(bearerToken(""), "");
    assert.equal(bearerToken("Basic abc"), "");
    assert.equal(bearerToken("Bearer a b"), "");
    assert.equal(bearerToken("Bearerabc"), "");
  });
});

describe("createTokenChecker", () => {
  const token = crypto.randomBytes(32).toString("hex");

  it("accepts the token and refuses anything else", () => {
    const check = createTokenChecker(token);
    assert.equal(check(token), true);
    for (const other of ["", token.slice(0, -1), token + "0", token.toUpperCase(), "x".repeat(10_000)]) assert.equal(check(other), false);
  });

  it("always compares two 32-byte digests with timingSafeEqual, whatever the presented length", (t) => {
    const spy = t.mock.method(crypto, "timingSafeEqual");
    const check = createTokenChecker(token);
    for (const presented of ["", "a", token.slice(0, 10), token, "z".repeat(5000)]) check(presented);
    assert.equal(spy.mock.callCount(), 5);
    for (const call of spy.mock.calls) {
      const [a, b] = call.arguments as [Uint8Array, Uint8Array];
      assert.equal(a.length, 32);
      assert.equal(b.length, 32);
    }
  });
});
