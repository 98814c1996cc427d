// The probe modules bench/host-calls.ts measures real Envoy with: each builds, loads where Envoy
// would load it (its root id), and makes its kind of call the number of times asked, and the
// call-free one makes none (what the bench subtracts as the baseline).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FakeHost } from "../host/index.ts";
import { buildPassThroughChain, buildProbes } from "../../bench/vm/host-call-probe.ts";

const HEADERS: Array<[string, string]> = [[":method", "POST"], [":path", "/openai/v1/chat/completions"], [":authority", "gw"], ["content-type", "application/json"]];

describe("host-call probes (bench/host-calls.ts)", () => {
  it("a probe makes its call on every request; the baseline makes none", async () => {
    const dirs = await buildProbes(["none", "replace-header", "set-property"], 3);
    const run = async (kind: string) => {
      const host = await FakeHost.load(join(dirs.get(kind)!, "injection.wasm"), { rootId: "injection", pluginConfig: "{}" });
      assert.ok(host.startOk, `${kind} starts`);
      const s = host.newHttpStream();
      s.requestHeaders(HEADERS, true);
      return s;
    };
    assert.equal((await run("replace-header")).requestHeader("x-probe"), "12345");
    assert.equal((await run("none")).requestHeader("x-probe"), undefined);
    const written = await run("set-property");
    assert.equal(new TextDecoder().decode(written.filterState.get("leash.probe")), "abcdefghijkl");
  });

  it("the pass-through chain has one call-free module per root id", async () => {
    const dir = await buildPassThroughChain(["auth", "quota"]);
    for (const id of ["auth", "quota"]) {
      const host = await FakeHost.load(join(dir, `${id}.wasm`), { rootId: id, pluginConfig: "{}" });
      assert.ok(host.startOk, `${id} starts`);
      const s = host.newHttpStream();
      s.requestHeaders(HEADERS, false);
      s.requestBody("{}", true);
      assert.equal(s.requestHeader("x-probe"), undefined);
    }
    // Its leash.wasm runs them as one chain filter too (leash-full's default layout), each module's
    // callback running (each writes filter state leash.probe).
    const chained = await FakeHost.load(join(dir, "leash.wasm"), {
      rootId: "chain", pluginConfig: ['{"module":"auth"}', '{"module":"quota"}'].join("\n"), allowOnHeadersStopIteration: true,
    });
    assert.ok(chained.startOk, chained.logs.map((l) => l.message).join("\n"));
    const s = chained.newHttpStream();
    s.requestHeaders(HEADERS, true);
    assert.equal(new TextDecoder().decode(s.filterState.get("leash.probe")), "abcdefghijkl");
  });
});
