import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { findEnvoy } from "../../envoy/find-envoy.ts";

describe("findEnvoy", () => {
  const dir: string = mkdtempSync(join(tmpdir(), "leash-find-envoy-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fake: string = join(dir, "envoy");
  writeFileSync(fake, "#!/bin/sh\n");
  chmodSync(fake, 0o755);

  test("ENVOY_BIN wins", () => {
    assert.equal(findEnvoy({ ENVOY_BIN: fake, PATH: "" }), fake);
  });

  test("a wrong ENVOY_BIN is an error, not a silent fallback", () => {
    assert.throws(() => findEnvoy({ ENVOY_BIN: join(dir, "missing"), PATH: dir }), /ENVOY_BIN is set to/);
  });

  const noRepoEnvoy: string = join(dir, "no-venv", "envoy");

  test("the repo-local install comes before PATH", () => {
    assert.equal(findEnvoy({ PATH: "/nonexistent" }, fake), fake);
  });

  test("PATH is searched when nothing else is there", () => {
    assert.equal(findEnvoy({ PATH: `/nonexistent:${dir}` }, noRepoEnvoy), fake);
  });

  test("the error names all three options", () => {
    assert.throws(
      () => findEnvoy({ PATH: "/nonexistent" }, noRepoEnvoy),
      (err: Error) => /ENVOY_BIN/.test(err.message) && err.message.includes(noRepoEnvoy) && /on PATH/.test(err.message),
    );
  });
});
