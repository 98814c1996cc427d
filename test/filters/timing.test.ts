// Per-module processing time and trace context, as the shipped auth.wasm and usage.wasm produce
// them in the fake host: auth publishes its callback time as filter state leash.timing.auth (once,
// in the log pass) and
// passes the client's traceparent to the sidecar; usage collects every module's published time plus
// its own into the UsageReport (module_timings) together with the traceparent.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { FakeHost } from "../host/index.ts";
import { decodeUsageBatch, encodeAuthorizeResponse } from "./sidecar-proto.ts";

const AUTH = fileURLToPath(new URL("../../build/release/auth.wasm", import.meta.url));
const USAGE = fileURLToPath(new URL("../../build/release/usage.wasm", import.meta.url));
const ROUTES = [{ prefix: "/openai", provider: "openai", api: "openai" }];
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * A clock that moves `stepNs` on every read, so time passes inside a callback the way it does in
 * Envoy (each read is later than the one before). stepNs 0 freezes it.
 */
function steppingClock(stepNs: bigint): () => bigint {
  let t = 1_700_000_000_000_000_000n;
  return () => (t += stepNs);
}

async function loadAuth(now: () => bigint): Promise<FakeHost> {
  const host = await FakeHost.load(AUTH, {
    rootId: "auth", now,
    pluginConfig: JSON.stringify({ module: "auth", failure_mode: "closed", timeout_ms: 250, sidecar_cluster: "leash_sidecar", routes: ROUTES }),
  });
  assert.ok(host.startOk, host.logs.map((l) => l.message).join("\n"));
  return host;
}

async function loadUsage(now: () => bigint): Promise<FakeHost> {
  const host = await FakeHost.load(USAGE, {
    rootId: "usage", now,
    pluginConfig: JSON.stringify({ module: "usage", timeout_ms: 1000, sidecar_cluster: "leash_sidecar", routes: ROUTES, flush_ms: 100, retry_tick_ms: 100 }),
  });
  assert.ok(host.startOk, host.logs.map((l) => l.message).join("\n"));
  return host;
}

const ALLOW = encodeAuthorizeResponse({ decision: "ALLOW", tenant_id: "acme", key_id: "abcdefghijkl", upstream_auth_header: "authorization", upstream_auth_value: "Bearer sk-x" });

describe("module timing: auth", () => {
  it("publishes its callback time as leash.timing.auth once, in the log pass, summing every callback before it", async () => {
    const host = await loadAuth(steppingClock(5_000n));
    const s = host.newHttpStream();
    // Count the writes of the property (the fake host keeps filter state in this map).
    let writes = 0;
    const set = s.filterState.set.bind(s.filterState);
    s.filterState.set = (k: string, v: Uint8Array) => { if (k === "leash.timing.auth") writes++; return set(k, v); };
    s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["authorization", "Bearer lsh_abcdefghijkl_" + "s".repeat(32)],
      ["x-request-id", "rid-1"], ["traceparent", TRACEPARENT], ["content-type", "application/json"]], false);
    host.respondGrpc(host.grpcCalls[0].token, ALLOW);
    s.requestBody('{"model":"gpt-4o-mini"}', true);
    // Nothing is written per callback (one filter-state write per request instead of one each).
    assert.equal(s.filterState.get("leash.timing.auth"), undefined);
    s.done();
    const micros = Number(dec(s.filterState.get("leash.timing.auth")));
    // Four timed callbacks before it is written (headers, reply, body, log), each two clock reads
    // at least 5 µs apart.
    assert.ok(micros >= 20, `leash.timing.auth: ${micros}`);
    assert.equal(writes, 1);
  });

  it("counts time, not callbacks: a frozen clock publishes 0", async () => {
    const host = await loadAuth(steppingClock(0n));
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["authorization", "Bearer lsh_abcdefghijkl_" + "s".repeat(32)]], false);
    s.done();
    assert.equal(dec(s.filterState.get("leash.timing.auth")), "0");
  });

  it("passes the client's traceparent to the sidecar as gRPC metadata, next to x-request-id", async () => {
    const host = await loadAuth(steppingClock(1_000n));
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["authorization", "Bearer lsh_abcdefghijkl_" + "s".repeat(32)],
      ["x-request-id", "rid-2"], ["traceparent", TRACEPARENT]], false);
    assert.deepEqual(host.grpcCalls[0].metadata, [["x-request-id", "rid-2"], ["traceparent", TRACEPARENT]]);
    const plain = host.newHttpStream();
    plain.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["authorization", "Bearer lsh_bbbbbbbbbbbb_" + "s".repeat(32)],
      ["x-request-id", "rid-3"]], false);
    assert.deepEqual(host.grpcCalls[1].metadata, [["x-request-id", "rid-3"]]);
  });
});

describe("module timing: usage", () => {
  it("reports the earlier modules' published times and its own, with the traceparent", async () => {
    const host = await loadUsage(steppingClock(2_000n));
    const s = host.newHttpStream();
    s.filterState.set("leash.tenant_id", enc("acme"));
    s.filterState.set("leash.timing.auth", enc("42"));
    s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["x-request-id", "rid-9"], ["traceparent", TRACEPARENT]], false);
    s.requestBody('{"model":"gpt-4o-mini"}', true);
    s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], false);
    s.responseBody('{"usage":{"prompt_tokens":1,"completion_tokens":2}}', true);
    s.done();
    host.tick();
    const [report] = decodeUsageBatch(host.grpcCalls[0].message) as unknown as Array<{ moduleTimings: Array<{ module: string; micros: number }>; traceparent: string }>;
    assert.equal(report.traceparent, TRACEPARENT);
    assert.equal(report.moduleTimings.length, 2, JSON.stringify(report.moduleTimings));
    assert.deepEqual(report.moduleTimings[0], { module: "auth", micros: 42 });
    assert.equal(report.moduleTimings[1].module, "usage");
    // The clock moves 2 µs per read, and each timed callback reads it at its start and its end
    // (the module's own stamps reuse the start reading): at least one step per callback.
    assert.ok(report.moduleTimings[1].micros >= 8, `usage's own time: ${report.moduleTimings[1].micros}`);
    // It reads its own total directly: no filter state write per response chunk.
    assert.equal(s.filterState.get("leash.timing.usage"), undefined);
  });

  it("skips a module that published nothing or garbage, and sends no traceparent the client did not send", async () => {
    const host = await loadUsage(steppingClock(1_000n));
    const s = host.newHttpStream();
    s.filterState.set("leash.timing.auth", enc("12x"));
    s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["x-request-id", "rid-10"]], false);
    s.requestBody('{"model":"gpt-4o-mini"}', true);
    s.responseHeaders([[":status", "200"], ["content-type", "application/json"]], false);
    s.responseBody('{"usage":{"prompt_tokens":1,"completion_tokens":2}}', true);
    s.done();
    host.tick();
    const [report] = decodeUsageBatch(host.grpcCalls[0].message) as unknown as Array<{ moduleTimings: Array<{ module: string }>; traceparent: string }>;
    assert.deepEqual(report.moduleTimings.map((t) => t.module), ["usage"]);
    assert.equal(report.traceparent, "");
  });
});
