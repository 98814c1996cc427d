// Leash's SDK layer (filters/assembly/sdk) beyond what the auth module exercises, through a probe
// module built with the project's real build settings (asconfig.json: incremental GC, the compat
// library, leash_abort) and run in the fake host. Also proves @solo-io/proxy-runtime 0.1.8 needs the
// compat library to compile on AssemblyScript 0.27.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import asc from "assemblyscript/asc";
import { FakeHost } from "../host/index.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "leash-sdk-probe-"));
after(() => rmSync(out, { recursive: true, force: true }));

/** Runs asc from `baseDir` (asc reads the asconfig.json there, if any). */
async function compile(entry: string, args: string[], baseDir: string = ROOT): Promise<{ ok: boolean; stderr: string }> {
  let stderr = "";
  const sink = { write(chunk: string | Uint8Array): void { stderr += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk); } };
  const r = await asc.main([entry, "--baseDir", baseDir, ...args], { stdout: sink, stderr: sink });
  return { ok: r.error === null, stderr };
}

let wasm: string;
before(async () => {
  wasm = join(out, "sdk-probe.wasm");
  const r = await compile("test/filters/fixtures/sdk-probe.ts", ["--config", "asconfig.json", "--target", "release", "--outFile", wasm]);
  assert.ok(r.ok, r.stderr);
});

async function load(): Promise<FakeHost> {
  const host = await FakeHost.load(wasm, { rootId: "probe", pluginConfig: "" });
  assert.ok(host.startOk);
  return host;
}

describe("SDK layer", () => {
  it("delivers an HTTP call-out reply (headers and body) to the stream that made it", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "GET"], [":path", "/http-call"], [":authority", "gw"]], true);
    assert.equal(host.httpCalls.length, 1);
    host.respondHttp(host.httpCalls[0].token, { status: 200, headers: [["x-a", "b"]], body: "found it" });
    assert.equal(s.continued.request, true);
    assert.equal(s.requestHeader("x-call-ok"), "1");
    assert.equal(s.requestHeader("x-call-status"), "200");
    assert.equal(s.requestHeader("x-call-body"), "found it");
  });

  it("reports a failed HTTP call-out as not ok", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "GET"], [":path", "/http-call"], [":authority", "gw"]], true);
    host.failHttp(host.httpCalls[0].token);
    assert.equal(s.requestHeader("x-call-ok"), "0");
  });

  it("replaces the whole request body with proxy_set_buffer_bytes", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "POST"], [":path", "/rewrite"]], false);
    s.requestBody("part one, ", false);
    s.requestBody("part two", true);
    assert.equal(s.requestBodyText, "rewritten:part one, part two");
  });

  it("lists request headers and edits response headers", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "GET"], [":path", "/count-headers"], ["a", "1"], ["b", "2"]], true);
    assert.equal(s.requestHeader("x-header-pairs"), "4");
    s.responseHeaders([[":status", "200"]], true);
    assert.equal(s.responseHeader("x-probe"), "seen");
    assert.equal(host.trapped, null);
  });
});

describe("@solo-io/proxy-runtime 0.1.8 on AssemblyScript 0.27", () => {
  // Compiled from the fixtures folder, which has no asconfig.json: only the flags given here apply.
  const fixtures = join(ROOT, "test", "filters", "fixtures");
  const entry = "full-proxy-runtime.ts";

  it("passes strings of any size and script through host calls, and absent values as absent", async () => {
    const host = await load();
    // ASCII, UTF-8 with a surrogate pair, and one past the 4 KB result scratch (the fallback path).
    for (const value of ["plain", "héllo ✓ 😀 末尾", "x".repeat(5000) + "✓"]) {
      const s = host.newHttpStream();
      s.requestHeaders([[":method", "POST"], [":path", "/echo"], ["x-echo", value]], false);
      assert.equal(s.requestHeader("x-echo-header"), value);
      assert.equal(s.requestHeader("x-echo-state"), value);
      // A result the module adopts as bytes right after: the scratch must not leak into it.
      s.requestBody("body", true);
      assert.equal(s.requestBodyText, "rewritten:body");
    }
    const none = host.newHttpStream();
    none.requestHeaders([[":method", "POST"], [":path", "/echo"]], true);
    assert.equal(none.requestHeader("x-echo-header"), "(none)");
    assert.equal(none.requestHeader("x-echo-state"), "(none)");
  });

  it("does not compile without the compat library", async () => {
    const r = await compile(entry, ["--outFile", join(out, "x.wasm"), "--use", "abort=abort_proc_exit"], fixtures);
    assert.equal(r.ok, false);
    assert.match(r.stderr, /rt\/index-full/);
    assert.match(r.stderr, /bindings\/wasi_unstable/);
  });

  it("compiles with it (asc --lib filters/assembly/compat)", async () => {
    const r = await compile(entry, ["--outFile", join(out, "y.wasm"), "--use", "abort=abort_proc_exit", "--lib", join(ROOT, "filters/assembly/compat")], fixtures);
    assert.ok(r.ok, r.stderr);
  });
});
