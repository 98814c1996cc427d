// The quick start as a user runs it: `bin/leash start` on embedded defaults (PGlite, in-process
// store, bundled mock provider), the demo key it prints, the official OpenAI SDK against it, and a
// clean stop on Ctrl-C. Also `leash config check` naming the offending key of a bad config.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import OpenAI from "openai";
import { freePort, waitFor } from "../integration/envoy-harness.ts";

const LEASH = fileURLToPath(new URL("../../bin/leash", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "leash-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The environment of a user who has set nothing: no database or Redis URL, no pepper. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["DATABASE_URL", "REDIS_URL", "LEASH_KEY_PEPPER", "LEASH_DEMO_TENANT"]) delete env[k];
  return env;
}

describe("leash start (embedded defaults)", () => {
  it("starts, serves the OpenAI SDK with the printed demo key, and stops cleanly on SIGINT", async () => {
    const [port, admin, grpcPort, httpPort, mockPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const configPath = join(dir, "leash.yaml");
    writeFileSync(configPath, `
version: 1
listener: { address: 127.0.0.1, port: ${port} }
admin: { address: 127.0.0.1, port: ${admin} }
sidecar: { host: 127.0.0.1, grpc_port: ${grpcPort}, http_port: ${httpPort}, data_dir: "${join(dir, "data")}" }
providers:
  - { name: mock, api: openai, prefix: /mock, base_url: "http://127.0.0.1:${mockPort}" }
modules:
  auth: { enabled: true }
mock_provider: { enabled: true, port: ${mockPort} }
`);
    const proc = spawn(LEASH, ["start", "--config", configPath, "--concurrency", "1", "--envoy-dir", join(dir, "envoy")], { env: userEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
    try {
      await waitFor("Leash is up", async () => {
        if (proc.exitCode !== null) throw new Error(`leash start exited:\n${out}`);
        return out.includes("Leash is up") ? true : undefined;
      }, 90_000);
      const key = /API key \(shown once, store it now\): (lsh_\S+)/.exec(out)?.[1];
      assert.ok(key, `no demo key printed:\n${out}`);
      assert.match(out, new RegExp(`OPENAI_BASE_URL=http://127\\.0\\.0\\.1:${port}/mock/v1`));

      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/mock/v1`, apiKey: key, maxRetries: 0 });
      const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "quick start" }] });
      assert.equal(res.choices[0].message.content, "mock reply to: quick start");
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "quick stream" }] });
      let text = "";
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
      assert.equal(text, "mock reply to: quick stream");
    } finally {
      proc.kill("SIGINT");
    }
    assert.equal(await exited, 0, `leash start did not exit cleanly:\n${out}`);
    // Everything it started is gone: the ports are free again.
    for (const p of [port, httpPort, mockPort]) {
      const r = await fetch(`http://127.0.0.1:${p}/`).then(() => "open", () => "closed");
      assert.equal(r, "closed", `port ${p} still served after stop`);
    }
  });
});

describe("leash config check", () => {
  it("accepts the embedded default config and validates its Envoy config", () => {
    const r = spawnSync(LEASH, ["config", "check"], { env: userEnv(), encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /generated Envoy config: ok/);
  });

  it("names the offending key of a bad config and exits 2", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "version: 1\nproviders:\n  - name: x\n    base_url: ftp://nope\nmodules:\n  auth: { failure_mode: sometimes }\n");
    const r = spawnSync(LEASH, ["config", "check", "--config", bad], { env: userEnv(), encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /providers\[0\]\.base_url/);
    assert.match(r.stderr, /modules\.auth\.failure_mode/);
  });
});
