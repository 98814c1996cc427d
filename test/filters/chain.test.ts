// The module chain (filters/assembly/sdk/chain.ts): several modules in one filter behave as they
// would as separate Envoy filters. Probe modules (fixtures/chain-probe.ts) record, per module,
// which callbacks ran and which bytes they were shown; the fake host plays Envoy around the one
// filter. The built-in modules run in the chain through real Envoy in the e2e suite (wasm.chain
// is the default).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import asc from "assemblyscript/asc";
import { DataAction, FakeHost, HeaderAction, type HttpStream } from "../host/index.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "leash-chain-probe-"));
after(() => rmSync(out, { recursive: true, force: true }));

let wasm: string;
before(async () => {
  wasm = join(out, "chain-probe.wasm");
  let stderr = "";
  const sink = { write(chunk: string | Uint8Array): void { stderr += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk); } };
  const r = await asc.main(["test/filters/fixtures/chain-probe.ts", "--baseDir", ROOT, "--config", "asconfig.json", "--target", "release", "--outFile", wasm], { stdout: sink, stderr: sink });
  assert.equal(r.error, null, stderr);
});

/** A chain of `modules` (one line of plugin JSON each, as envoy/wasm-filters.ts writes it). */
async function chain(modules: Array<string | Record<string, string | boolean>>, now?: () => bigint, countCalls?: Map<string, number>): Promise<FakeHost> {
  const lines = modules.map((m) => JSON.stringify(typeof m === "string" ? { module: m } : m));
  const host = await FakeHost.load(wasm, { rootId: "chain", pluginConfig: lines.join("\n"), allowOnHeadersStopIteration: true, now, countCalls });
  assert.ok(host.startOk, host.logs.map((l) => l.message).join("\n"));
  return host;
}

/** What module `name` recorded under `what` ("req", "resp", "log"), as a list. */
function seen(s: HttpStream, name: string, what: string): string[] {
  const v = s.filterState.get(`${name}.${what}`);
  return v === undefined ? [] : new TextDecoder().decode(v).split("|");
}

const POST: Array<[string, string]> = [[":method", "POST"], [":path", "/x"]];

describe("module chain: several modules in one filter, as separate filters", () => {
  it("runs request callbacks in chain order and response callbacks in reverse", async () => {
    const host = await chain(["pass", "upper", "pass2"]);
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders(POST, true), HeaderAction.Continue);
    assert.equal(s.requestHeader("x-order"), "pass,upper,pass2");
    assert.equal(s.responseHeaders([[":status", "200"]], true), HeaderAction.Continue);
    assert.equal(s.responseHeader("x-order"), "pass2,upper,pass");
    for (const m of ["pass", "upper", "pass2"]) assert.deepEqual(seen(s, m, "req"), ["headers:eos"]);
    s.done();
    for (const m of ["pass", "upper", "pass2"]) assert.deepEqual(seen(s, m, "log"), ["log"]);
  });

  it("a module that buffers holds the body from later modules; earlier ones see each chunk once", async () => {
    const host = await chain(["pass", "upper", "pass2"]);
    const s = host.newHttpStream();
    s.requestHeaders(POST, false);
    assert.equal(s.requestBody("ab", false), DataAction.StopIterationAndBuffer);
    assert.equal(s.requestBody("cd", false), DataAction.StopIterationAndBuffer);
    assert.equal(s.requestBody("ef", true), DataAction.Continue);
    // pass saw each chunk once although Envoy showed the chain the whole buffer each time.
    assert.deepEqual(seen(s, "pass", "req"), ["headers", "body:ab", "body:cd", "body:ef:eos"]);
    assert.deepEqual(seen(s, "upper", "req"), ["headers", "body:ab", "body:abcd", "body:abcdef:eos"]);
    assert.deepEqual(seen(s, "pass2", "req"), ["headers", "body:ABCDEF:eos"]);
    assert.equal(s.requestBodyText, "ABCDEF");
  });

  it("a module holding the headers holds later modules and the body until it resumes; then the chain resumes Envoy", async () => {
    const host = await chain(["pass", "hold", "pass2"]);
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders(POST, false), HeaderAction.StopIteration);
    assert.equal(s.requestBody("hello", true), DataAction.StopIterationAndBuffer);
    assert.deepEqual(seen(s, "pass", "req"), ["headers", "body:hello:eos"]);
    assert.deepEqual(seen(s, "hold", "req"), ["headers"]);
    assert.deepEqual(seen(s, "pass2", "req"), []);
    assert.equal(s.continued.request, false);
    host.respondGrpc(host.grpcCalls[0]!.token, new Uint8Array(0));
    assert.deepEqual(seen(s, "hold", "req"), ["headers", "reply", "body:hello:eos"]);
    assert.deepEqual(seen(s, "pass2", "req"), ["headers", "body:hello:eos"]);
    assert.equal(s.continued.request, true);
    assert.equal(s.requestBodyText, "hello");
  });

  it("a module whose line says body_while_headers_held sees the body while it holds the headers; later modules still wait", async () => {
    const host = await chain(["pass", { module: "hold", body_while_headers_held: true }, "pass2"]);
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders(POST, false), HeaderAction.StopIteration);
    assert.equal(s.requestBody("hello", true), DataAction.StopIterationAndBuffer);
    assert.deepEqual(seen(s, "hold", "req"), ["headers", "body:hello:eos"]);
    assert.deepEqual(seen(s, "pass2", "req"), []);
    assert.equal(s.continued.request, false);
    host.respondGrpc(host.grpcCalls[0]!.token, new Uint8Array(0));
    assert.deepEqual(seen(s, "hold", "req"), ["headers", "body:hello:eos", "reply"]);
    assert.deepEqual(seen(s, "pass2", "req"), ["headers", "body:hello:eos"]);
    assert.equal(s.continued.request, true);
    assert.equal(s.requestBodyText, "hello");
  });

  // (The local reply's response through every module is Envoy's part, which the fake host does not
  // play; the e2e tests see refusals recorded by the usage module, last in the chain.)
  it("a local reply ends the request there: later modules never see it", async () => {
    const host = await chain(["pass", "deny", "pass2"]);
    const s = host.newHttpStream();
    s.requestHeaders([...POST, ["x-deny", "1"]], false);
    assert.equal(s.localResponse?.status, 403);
    assert.deepEqual(seen(s, "pass2", "req"), []);
    s.requestBody("late", true);
    assert.deepEqual(seen(s, "pass", "req"), ["headers"]);
    assert.deepEqual(seen(s, "pass2", "req"), []);
  });

  it("a module that changes a chunk's length: later modules (response: earlier in the chain) see the new bytes, once", async () => {
    const host = await chain(["pass", "grow"]);
    const s = host.newHttpStream();
    s.requestHeaders(POST, true);
    s.responseHeaders([[":status", "200"]], false);
    assert.equal(s.responseBody("one", false), DataAction.Continue);
    assert.equal(s.responseBody("two", true), DataAction.Continue);
    assert.deepEqual(seen(s, "grow", "resp"), ["headers:200", "body:one", "body:two:eos"]);
    assert.deepEqual(seen(s, "pass", "resp"), ["headers:200", "body:one!", "body:two!:eos"]);
    assert.equal(s.responseBodyText, "one!two!");
  });

  it("each module's timer keeps its own period; the chain's timer runs at the shortest", async () => {
    // The host's timer fires a little early (here 9.9 ms for 10): a module due within half a tick
    // still runs on it.
    let nowNs = 1_000_000_000_000n;
    const host = await FakeHost.load(wasm, {
      rootId: "chain", allowOnHeadersStopIteration: true, now: () => nowNs,
      pluginConfig: [{ module: "ticker", period_ms: "40" }, { module: "ticker2", period_ms: "10" }].map((m) => JSON.stringify(m)).join("\n"),
    });
    assert.ok(host.startOk);
    assert.equal(host.tickPeriodMs, 10);
    for (let i = 0; i < 8; i++) {
      nowNs += 9_900_000n;
      host.tick();
    }
    assert.equal(host.metric("chain_probe.ticks.ticker2"), 8);
    assert.equal(host.metric("chain_probe.ticks.ticker"), 2);
  });

  it("reads the modules repeat come from memory: headers as the last write left them, filter state the chain wrote", async () => {
    const host = await chain(["writer", "reader"]);
    const s = host.newHttpStream();
    s.requestHeaders([...POST, ["x-note", "client"]], true);
    assert.deepEqual(seen(s, "writer", "req"), ["headers:eos", "x-note=client"]);
    // The reader's read after the writer's replace is not the value the writer read first.
    assert.deepEqual(seen(s, "reader", "req"), ["headers:eos", "x-note=w,chain.note=from-writer"]);
    assert.equal(s.requestHeader("x-note"), "w");
    // Filter state the chain wrote is answered from its memory for the rest of the request: a
    // change behind the chain's back (no filter of ours does this) is not seen.
    s.filterState.set("chain.note", new TextEncoder().encode("changed outside"));
    s.responseHeaders([[":status", "200"]], true);
    assert.deepEqual(seen(s, "reader", "resp"), ["headers:200", "chain.note=from-writer"]);
  });

  it("reads the request headers at once, then each as the last replace or remove left it; reads them again after an add", async () => {
    const calls = new Map<string, number>();
    const host = await chain(["editor", "checker"], undefined, calls);
    const s = host.newHttpStream();
    s.requestHeaders([...POST, ["x-keep", "k"], ["x-gone", "g"], ["x-set", "old"], ["x-add", "1"]], true);
    // What the checker read is what the host holds after the editor's writes.
    const add = s.requestHeader("x-add");
    assert.deepEqual(seen(s, "checker", "req"), ["headers:eos", "x-keep=k", "x-gone=-", "x-set=s", `x-add=${add}`, "x-caps=-"]);
    assert.equal(s.requestHeader("x-gone"), undefined);
    assert.equal(s.requestHeader("x-set"), "s");
    // Every request header read at once before the editor's onRequestHeaders; its reads, removal
    // and replace then need no host read. Its add leaves x-add possibly several values and the map
    // no longer known whole: before the checker's onRequestHeaders the headers are read at once
    // again, and nothing one by one.
    assert.equal(calls.get("proxy_get_header_map_pairs"), 2);
    assert.equal(calls.get("proxy_get_header_map_value") ?? 0, 0);
    // The checker's removal of a header known to be absent makes no host call.
    assert.equal(calls.get("proxy_remove_header_map_value 0 x-gone"), 1);
  });

  it("knows a header absent from the headers read at once: its removal makes no host call", async () => {
    const calls = new Map<string, number>();
    const host = await chain(["checker"], undefined, calls);
    const s = host.newHttpStream();
    s.requestHeaders([...POST, ["x-keep", "k"]], true);
    assert.deepEqual(seen(s, "checker", "req"), ["headers:eos", "x-keep=k", "x-gone=-", "x-set=-", "x-add=-", "x-caps=-"]);
    assert.equal(calls.get("proxy_get_header_map_value") ?? 0, 0);
    assert.equal(calls.get("proxy_remove_header_map_value") ?? 0, 0);
  });

  it("forgets the headers read when a module writes one under a name with capitals", async () => {
    const calls = new Map<string, number>();
    const host = await chain(["editor", "checker"], undefined, calls);
    const s = host.newHttpStream();
    s.requestHeaders([...POST, ["x-scenario", "caps"], ["x-keep", "k"], ["x-caps", "old"]], true);
    assert.deepEqual(seen(s, "checker", "req"), ["headers:eos", "x-keep=k", "x-gone=-", "x-set=-", "x-add=-", "x-caps=C"]);
    // Read at once again before the checker (the capitalised write made memory forget the map).
    assert.equal(calls.get("proxy_get_header_map_pairs"), 2);
    assert.equal(calls.get("proxy_get_header_map_value") ?? 0, 0);
  });

  it("remembers a leash.* filter state name found absent for the request until the chain writes it; reads headers afresh in the access-log pass", async () => {
    const calls = new Map<string, number>();
    const host = await chain(["peek", "poke"], undefined, calls);
    const s = host.newHttpStream();
    s.requestHeaders(POST, true);
    assert.deepEqual(seen(s, "peek", "req"), ["headers:eos", "leash.probe=-,chain.absent=-"]);
    // poke runs first on the response (reverse order) and writes leash.probe; peek then reads it.
    s.responseHeaders([[":status", "200"], ["x-late", "before"]], true);
    assert.deepEqual(seen(s, "peek", "resp"), ["headers:200", "leash.probe=v,chain.absent=-"]);
    // One host read of leash.probe (peek's first), none by poke nor after the write; a name
    // outside leash.* is asked every time.
    assert.equal(calls.get("proxy_get_property leash.probe"), 1);
    assert.equal(calls.get("proxy_get_property chain.absent"), 2);
    // A header changed by another filter after the response callback: the access-log pass, a host
    // callback of its own, reads it afresh.
    s.replaceResponseHeader("x-late", "after");
    s.done();
    assert.deepEqual(seen(s, "peek", "log"), ["log", "x-late=after"]);
    // A new request asks again.
    const s2 = host.newHttpStream();
    s2.requestHeaders(POST, true);
    assert.equal(calls.get("proxy_get_property leash.probe"), 2);
  });

  it("times each module's callbacks with one clock reading between neighbours, never across host callbacks", async () => {
    // A clock that moves 1 µs per reading: a callback's time is the readings it spans.
    let ns = 1_700_000_000_000_000_000n;
    let reads = 0;
    const host = await chain(["pass", "pass2", "upper"].map((module) => ({ module, timed: "1" })), () => {
      reads++;
      ns += 1000n;
      return ns;
    });
    const s = host.newHttpStream();
    const before = reads;
    s.requestHeaders(POST, true);
    assert.equal(reads - before, 4, "three modules in one pass: their starts and the last end");
    // A second between host callbacks: no module's time may include it.
    ns += 1_000_000_000n;
    s.responseHeaders([[":status", "200"]], true);
    ns += 1_000_000_000n;
    const beforeDone = reads;
    s.done();
    // The log pass: every probe implements onLog (4 readings); the done pass: none implements
    // onDone, so only the pass's start is read.
    assert.equal(reads - beforeDone, 4 + 1, "no readings for callbacks a module does not implement");
    for (const m of ["pass", "pass2", "upper"]) {
      const v = s.filterState.get(`leash.timing.${m}`);
      assert.ok(v !== undefined, `${m} published its time`);
      const micros = Number(new TextDecoder().decode(v));
      // Request headers, response headers and the access log: 1 µs each.
      assert.equal(micros, 3, `${m}: ${micros} µs`);
    }
  });

  it("refuses a configuration line that is not a registered module, and an empty one", async () => {
    const unknown = await FakeHost.load(wasm, { rootId: "chain", pluginConfig: JSON.stringify({ module: "nope" }) });
    assert.equal(unknown.startOk, false);
    const empty = await FakeHost.load(wasm, { rootId: "chain", pluginConfig: "" });
    assert.equal(empty.startOk, false);
  });
});
