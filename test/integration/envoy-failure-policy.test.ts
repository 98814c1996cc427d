// What Envoy 1.40 does after a wasm module traps, per failure_policy, observed with a probe module
// (test/filters/fixtures/sdk-probe.ts, built with the project's asconfig) whose /trap path executes
// `unreachable`. The generator's choice for fail-closed modules rests on this: the trapping request
// is refused either way, but FAIL_CLOSED refuses every later request on that VM too, while
// FAIL_RELOAD starts a fresh VM and serves again.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import asc from "assemblyscript/asc";
import { freePort, httpGet, RunningEnvoy, waitFor } from "./envoy-harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "leash-failure-policy-"));
const wasm = join(work, "probe.wasm");
after(() => rmSync(work, { recursive: true, force: true }));

before(async () => {
  const r = await asc.main(["test/filters/fixtures/sdk-probe.ts", "--baseDir", ROOT, "--config", "asconfig.json", "--target", "release", "--outFile", wasm]);
  assert.equal(r.error, null, String(r.error));
});

async function envoyWith(policy: "FAIL_CLOSED" | "FAIL_RELOAD"): Promise<{ envoy: RunningEnvoy; port: number }> {
  const [port, admin] = [await freePort(), await freePort()];
  const config = join(work, `${policy}.yaml`);
  writeFileSync(config, JSON.stringify({
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: admin } } },
    static_resources: {
      listeners: [{
        name: "l",
        address: { socket_address: { address: "127.0.0.1", port_value: port } },
        filter_chains: [{ filters: [{
          name: "envoy.filters.network.http_connection_manager",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            stat_prefix: "t",
            route_config: { virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "ok" } } }] }] },
            http_filters: [
              {
                name: "envoy.filters.http.wasm",
                typed_config: {
                  "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                  config: {
                    name: "probe", root_id: "probe", failure_policy: policy,
                    vm_config: { vm_id: `probe-${policy}`, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: wasm } } },
                  },
                },
              },
              { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
            ],
          },
        }] }],
      }],
    },
  }));
  const envoy = new RunningEnvoy(config, admin);
  await envoy.ready();
  await waitFor("listener", async () => ((await httpGet(port, "/ok")).status === 200 ? true : undefined));
  return { envoy, port };
}

describe("Envoy after a wasm trap", () => {
  it("FAIL_CLOSED: refuses the trapping request and every later one on that VM", async () => {
    const { envoy, port } = await envoyWith("FAIL_CLOSED");
    try {
      assert.equal((await httpGet(port, "/trap")).status, 503);
      for (let i = 0; i < 5; i++) assert.equal((await httpGet(port, "/ok")).status, 503);
    } finally {
      await envoy.stop();
    }
  });

  it("FAIL_RELOAD: refuses the trapping request, then serves again from a new VM", async () => {
    const { envoy, port } = await envoyWith("FAIL_RELOAD");
    try {
      assert.equal((await httpGet(port, "/trap")).status, 503);
      await waitFor("a reloaded VM", async () => ((await httpGet(port, "/ok")).status === 200 ? true : undefined), 10_000);
      assert.equal((await httpGet(port, "/trap")).status, 503, "the new VM let a trapping request through");
    } finally {
      await envoy.stop();
    }
  });
});
