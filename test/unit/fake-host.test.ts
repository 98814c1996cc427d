// Self-tests of the fake proxy-wasm host (test/host/): tiny AssemblyScript fixtures written against
// the raw ABI are compiled once, then driven through the host the way Envoy drives a filter.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";

import {
  DataAction,
  FAIL_STREAM_DETAILS,
  FakeHost,
  GrpcStatus,
  HeaderAction,
  LogLevel,
  MetricType,
  ModuleRejected,
  SharedData,
  WasmResult,
  buildAssemblyScript,
  decodeUpstreamCluster,
  removeFixtureBuilds,
  encodeGrpcServiceForCluster,
  parsePairs,
  serializePairs,
} from "../host/index.ts";
import type { FakeHostOptions } from "../host/index.ts";
import { BodyBuffer } from "../host/buffers.ts";

const fixture = (name: string): string => fileURLToPath(new URL(`../host/fixtures/${name}`, import.meta.url));

let httpFilterWasm: string = "";

before(async () => {
  httpFilterWasm = await buildAssemblyScript(fixture("http-filter.ts"));
});
after(removeFixtureBuilds);

async function loadFilter(options: FakeHostOptions = {}): Promise<FakeHost> {
  return FakeHost.load(httpFilterWasm, {
    rootId: "fixture",
    vmConfig: "vm-cfg",
    pluginConfig: "plugin-cfg",
    logLevel: LogLevel.Debug,
    ...options,
  });
}

function messages(host: FakeHost): string[] {
  return host.logs.map((l) => l.message);
}

describe("FakeHost start-up", () => {
  it("creates the root context, passes VM and plugin configuration, keeps shared-data CAS semantics", async () => {
    const host = await loadFilter();
    assert.equal(host.startOk, true);
    assert.equal(host.trapped, null);
    assert.equal(host.abiVersion, "0.2.1");
    assert.deepEqual(messages(host), [
      "create 1 parent 0",
      "vm config: vm-cfg",
      "config: plugin-cfg",
      // set new → Ok, get → Ok, set with a stale CAS → CasMismatch (8), set with the read CAS → Ok
      "shared 0 0 8 0",
    ]);
    assert.equal(new TextDecoder().decode(host.sharedData.entries("").get("k")), "v2");
    assert.equal(host.metrics.get("fixture_requests_total")?.type, MetricType.Counter);
  });

  it("reports a rejected configuration as startOk=false and refuses streams", async () => {
    const host = await loadFilter({ pluginConfig: "reject" });
    assert.equal(host.startOk, false);
    assert.throws(() => host.newHttpStream(), /did not start/);
  });

  it("shares data between hosts given the same SharedData (several workers)", async () => {
    const shared = new SharedData();
    await loadFilter({ sharedData: shared });
    const second = await loadFilter({ sharedData: shared });
    // The second worker's first write finds the key already there: its CAS round still succeeds.
    assert.ok(messages(second).includes("shared 0 0 8 0"));
  });
});

describe("FakeHost HTTP streams", () => {
  it("lets the module read, add, replace and remove request headers, and read properties", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    const action = s.requestHeaders([
      [":method", "POST"],
      [":path", "/openai/v1/chat/completions"],
      ["x-mode", "headers"],
      ["x-replace", "old"],
      ["x-replace", "older"],
      ["X-Remove", "gone"],
    ]);
    assert.equal(action, HeaderAction.Continue);
    assert.deepEqual(s.getRequestHeaders(), [
      [":method", "POST"],
      [":path", "/openai/v1/chat/completions"],
      ["x-mode", "headers"],
      ["x-seen-path", "/openai/v1/chat/completions"],
      ["x-replace", "new"],
    ]);
    assert.ok(messages(host).includes("headers=6 path=/openai/v1/chat/completions root_id=fixture"));
    assert.equal(host.metric("fixture_requests_total"), 1);
    assert.equal(s.paused.request, false);
  });

  it("records a local response and stops the stream", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders([[":path", "/x"], ["x-mode", "deny"]]), HeaderAction.StopIteration);
    assert.equal(s.lastOutcome?.effective, HeaderAction.StopAllIterationAndWatermark);
    assert.deepEqual(
      { ...s.localResponse, bodyBytes: undefined },
      {
        status: 403,
        details: "denied_by_fixture",
        body: "nope",
        bodyBytes: undefined,
        headers: [["x-deny", "1"]],
        grpcStatus: null,
        rawGrpcStatus: -1,
        byHost: false,
      },
    );
    assert.equal(s.requestBody("ignored", true), null);
    assert.equal(s.finished, true);
  });

  it("round-trips a gRPC call: token, root-context reply, effective context, continue", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders([[":path", "/v1/messages"], ["x-mode", "grpc"]]), HeaderAction.StopIteration);
    assert.equal(host.grpcCalls.length, 1);
    const call = host.grpcCalls[0]!;
    assert.equal(call.token % 2, 1, "unary call tokens are odd");
    assert.equal(call.upstreamCluster, "sidecar");
    assert.deepEqual(call.upstream, encodeGrpcServiceForCluster("sidecar"));
    assert.equal(call.service, "leash.v1.Auth");
    assert.equal(call.method, "Check");
    assert.deepEqual(call.metadata, [["x-md", "v"]]);
    assert.equal(new TextDecoder().decode(call.message), "/v1/messages");
    assert.equal(call.timeoutMs, 1500);
    assert.equal(call.contextId, s.id);

    // The body arrives while the filter waits: Envoy holds it, the module does not see it yet.
    assert.equal(s.requestBody("hello", true), null);
    assert.deepEqual(s.paused, { request: true, response: false });

    host.respondGrpc(call.token, "allow");
    assert.equal(call.state, "responded");
    assert.ok(messages(host).includes(`grpc reply root=${host.rootContextId} stream=${s.id} effective=0 reply=allow`));
    assert.equal(s.continued.request, true);
    assert.equal(s.requestHeader("x-auth"), "ok");
    // On continue the held body reaches the module as one chunk, then goes upstream.
    assert.ok(messages(host).includes("grpc body hello eos=1"));
    assert.equal(s.requestBodyText, "hello");
    assert.equal(s.paused.request, false);
    assert.throws(() => host.respondGrpc(call.token, "again"), /not pending/);
  });

  it("fails a gRPC call with a status proxy_get_status reports", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    s.requestHeaders([[":path", "/p"], ["x-mode", "grpc"]]);
    host.failGrpc(host.grpcCalls[0]!.token, GrpcStatus.Unavailable, "upstream down");
    assert.ok(messages(host).includes("grpc close status=14 get_status=14 message=upstream down"));
    assert.equal(s.localResponse?.status, 503);
    assert.equal(s.localResponse?.body, "grpc 14 upstream down");
  });

  it("round-trips an HTTP call and reports a reset as BrokenConnection", async () => {
    const host = await loadFilter();
    const ok = host.newHttpStream();
    ok.requestHeaders([[":path", "/h"], ["x-mode", "http"]]);
    const call = host.httpCalls[0]!;
    assert.equal(call.cluster, "policy");
    assert.equal(call.timeoutMs, 500);
    assert.equal(call.contextId, ok.id);
    host.respondHttp(call.token, { status: 200, body: "allow" });
    assert.equal(ok.requestHeader("x-policy"), "200 allow headers=1 status=0:");
    assert.equal(ok.continued.request, true);

    const reset = host.newHttpStream();
    reset.requestHeaders([[":path", "/h"], ["x-mode", "http"]]);
    host.failHttp(host.httpCalls[1]!.token);
    assert.equal(reset.requestHeader("x-policy"), `none  headers=0 status=${WasmResult.BrokenConnection}:reset`);

    const unknownCluster = await loadFilter({ clusters: ["other"] });
    unknownCluster.newHttpStream().requestHeaders([[":path", "/h"], ["x-mode", "http"]]);
    assert.ok(messages(unknownCluster).includes(`http_call failed ${WasmResult.BadArgument}`));
  });

  it("answers BadArgument to proxy_set_effective_context for deleted and unknown contexts", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    s.requestHeaders([[":path", "/p"], ["x-mode", "grpc"]]);
    s.done();
    host.respondGrpc(host.grpcCalls[0]!.token, "allow");
    assert.ok(messages(host).includes(`grpc reply root=1 stream=${s.id} effective=${WasmResult.BadArgument} reply=allow`));
    host.tick();
    assert.ok(messages(host).includes(`tick effective(999)=${WasmResult.BadArgument}`));
  });

  it("implements proxy_set_buffer_bytes as Envoy: replace, append, prepend; BadArgument in the middle", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    s.requestHeaders([[":path", "/b"], ["x-mode", "body"]]);
    assert.equal(s.requestBody("hello ", false), DataAction.StopIterationAndBuffer);
    assert.equal(s.requestBody("world", true), DataAction.Continue);
    assert.ok(messages(host).includes("body=hello world bad=2 replace=0 append=0 prepend=0"));
    assert.equal(s.requestBodyText, ">HELLO WORLD!");
  });

  it("hides request headers from the module once they were released", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    s.requestHeaders([[":path", "/l"], ["x-mode", "late-read"]]);
    s.requestBody("{}", true);
    assert.ok(messages(host).includes(`late read ${WasmResult.BadArgument}`));
  });

  it("ends a stream like Envoy: on_log (headers readable again), on_done, on_delete", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    s.requestHeaders([[":path", "/end"]]);
    s.responseHeaders([[":status", "200"]], true);
    s.done();
    const tail = messages(host).slice(-3);
    assert.deepEqual(tail, [`on_log ${s.id} path=/end`, `on_done ${s.id}`, `on_delete ${s.id}`]);
    assert.equal(s.deleted, true);
  });
});

describe("FakeHost failures", () => {
  it("catches a trap, fails the VM and answers 503 (fail closed) without running the module again", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders([[":path", "/t"], ["x-mode", "trap"]]), HeaderAction.StopAllIterationAndWatermark);
    assert.equal(host.trapped?.callback, "proxy_on_request_headers");
    assert.match(host.trapped?.message ?? "", /unreachable/);
    assert.equal(s.localResponse?.status, 503);
    assert.equal(s.localResponse?.details, FAIL_STREAM_DETAILS);
    assert.equal(s.localResponse?.byHost, true);

    const next = host.newHttpStream();
    next.requestHeaders([[":path", "/after"], ["x-mode", "headers"]]);
    assert.equal(next.localResponse?.status, 503);
    assert.equal(host.metric("fixture_requests_total"), 1, "the failed VM is not called again");
  });

  it("lets streams through after a trap when fail-open", async () => {
    const host = await loadFilter({ failOpen: true });
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders([[":path", "/t"], ["x-mode", "trap"]]), HeaderAction.Continue);
    assert.ok(host.trapped !== null);
    assert.equal(s.localResponse, null);
    assert.equal(s.requestBody("passes", true), DataAction.Continue);
    assert.equal(s.requestBodyText, "passes");
  });

  it("treats WASI proc_exit as a trap", async () => {
    const host = await loadFilter();
    const s = host.newHttpStream();
    s.requestHeaders([[":path", "/e"], ["x-mode", "exit"]]);
    assert.match(host.trapped?.message ?? "", /proc_exit\(3\)/);
    assert.equal(s.localResponse?.status, 503);
  });

  it("refuses a module importing a function Envoy does not offer, naming it", async () => {
    const wasm = await buildAssemblyScript(fixture("unknown-import.ts"));
    await assert.rejects(FakeHost.load(wasm), (e: unknown) => {
      assert.ok(e instanceof ModuleRejected);
      assert.match(e.message, /env\.proxy_clear_route_cache/);
      return true;
    });
  });

  it("refuses mistyped imports and callbacks, as Envoy's V8 linker does", async () => {
    const wasm = await buildAssemblyScript(fixture("bad-signature.ts"));
    await assert.rejects(FakeHost.load(wasm), (e: unknown) => {
      assert.ok(e instanceof ModuleRejected);
      assert.match(e.message, /env\.proxy_increment_metric as \(i32, i32\) -> i32, but Envoy provides \(i32, i64\) -> i32/);
      assert.match(e.message, /Bad function signature for: proxy_on_request_headers/);
      return true;
    });
  });
});

describe("fake host building blocks", () => {
  it("serializes header pairs in the proxy-wasm layout and parses them back", () => {
    const bytes = serializePairs([
      ["a", "1"],
      [":path", "/x"],
    ]);
    // count, then (key len, value len) × 2, then NUL-terminated keys and values
    assert.deepEqual([...bytes.subarray(0, 20)], [2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0]);
    assert.equal(new TextDecoder().decode(bytes.subarray(20)), "a\u00001\u0000:path\u0000/x\u0000");
    assert.deepEqual(parsePairs(bytes), [
      ["a", "1"],
      [":path", "/x"],
    ]);
    assert.deepEqual(parsePairs(bytes.subarray(0, 10)), [], "a truncated buffer yields no pairs");
  });

  it("decodes the gRPC upstream as a GrpcService or a bare cluster name", () => {
    assert.equal(decodeUpstreamCluster(encodeGrpcServiceForCluster("leash_sidecar")), "leash_sidecar");
    assert.equal(decodeUpstreamCluster(new TextEncoder().encode("sidecar")), "sidecar");
  });

  it("only supports the body edits Envoy's Buffer::copyFrom supports", () => {
    const b = new BodyBuffer();
    const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
    assert.equal(b.set(0, 0, bytes("x")), WasmResult.BadArgument, "detached: no body to edit");
    b.attach(bytes("abc"));
    assert.equal(b.set(1, 1, bytes("x")), WasmResult.BadArgument);
    assert.equal(b.set(0, 2, bytes("x")), WasmResult.BadArgument, "partial replace from 0");
    assert.equal(b.set(0, 3, bytes("xyz")), WasmResult.Ok);
    assert.equal(b.set(3, 0, bytes("!")), WasmResult.Ok);
    assert.equal(b.set(0, 0, bytes("<")), WasmResult.Ok);
    assert.equal(new TextDecoder().decode(b.bytes()), "<xyz!");
  });
});
