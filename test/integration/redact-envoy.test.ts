// The redact module alone in real Envoy (auth and usage off, so nothing else checks the body), with
// the generator's config and the mock provider upstream: bad bodies are answered 400/413 in the
// route's format by redact itself, a rewritten body reaches the provider parseable, and a fault
// inside the filter (a trap, from a test build that traps on a marker) is refused by Envoy's
// FAIL_RELOAD with nothing forwarded, after which a fresh VM serves and redacts again.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import asc from "assemblyscript/asc";
import { parseConfig } from "../../config/load.ts";
import { writeEnvoyConfig } from "../../envoy/generate.ts";
import { startMockProvider, type MockProvider } from "../../mock-provider/server.ts";
import { freePort, httpGet, RunningEnvoy, waitFor } from "./envoy-harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "leash-redact-envoy-"));
const EMAIL = "jane.doe@example.com";

let mock: MockProvider;
let envoy: RunningEnvoy;
let port: number;

before(async () => {
  const wasmDir = join(work, "wasm");
  mkdirSync(wasmDir);
  const r = await asc.main(["test/filters/fixtures/redact-trap.ts", "--baseDir", ROOT, "--config", "asconfig.json", "--target", "release", "--outFile", join(wasmDir, "redact.wasm")]);
  assert.equal(r.error, null, String(r.error));
  mock = await startMockProvider({ host: "127.0.0.1", port: 0 });
  const [admin] = [await freePort()];
  port = await freePort();
  const yaml = `
version: 1
listener: { address: 127.0.0.1, port: ${port}, max_request_body_bytes: 1048576 }
admin: { address: 127.0.0.1, port: ${admin} }
providers:
  - { name: mock, api: openai, prefix: /mock, base_url: "${mock.url}" }
  - { name: mock-anthropic, api: anthropic, prefix: /mock-anthropic, base_url: "${mock.url}" }
wasm: { shared_vm: false }
modules:
  auth: { enabled: false }
  usage: { enabled: false }
  quota: { enabled: false }
  redact: { enabled: true }
`;
  const config = parseConfig(yaml, "redact-envoy.yaml", {});
  writeEnvoyConfig(config, { wasmDir, outDir: join(work, "envoy") });
  envoy = new RunningEnvoy(join(work, "envoy", "bootstrap.yaml"), admin);
  await envoy.ready();
  await waitFor("listener", async () => ((await httpGet(port, "/health")).status === 200 ? true : undefined));
});
after(async () => {
  await envoy?.stop();
  await mock?.close();
  rmSync(work, { recursive: true, force: true });
});

function post(path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const data = typeof body === "string" ? Buffer.from(body) : body;
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers: { "content-type": "application/json", "content-length": String(data.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

const chat = (content: string): string => JSON.stringify({ model: "m", messages: [{ role: "user", content }] });

describe("redact alone in Envoy", () => {
  it("forwards a rewritten body the provider can parse, the entity masked", async () => {
    mock.clear();
    const res = await post("/mock/v1/chat/completions", chat(`mail ${EMAIL}`));
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).choices[0].message.content, "mock reply to: mail [EMAIL_1]");
    const seen = mock.requests[0];
    assert.deepEqual(seen.json, JSON.parse(chat("mail [EMAIL_1]")));
  });

  it("a chunked body with trailers is redacted all the same", async () => {
    mock.clear();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/mock/v1/chat/completions", method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked", trailer: "x-checksum" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      const body = chat(`trailing ${EMAIL}`);
      req.write(body.slice(0, 25));
      req.write(body.slice(25));
      req.addTrailers({ "x-checksum": "abc" });
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(mock.requests.length, 1);
    assert.deepEqual(mock.requests[0].json, JSON.parse(chat("trailing [EMAIL_1]")));
  });

  const bad: Array<[string, Buffer | string, number, string]> = [
    ["not JSON", `hello ${EMAIL}`, 400, "gateway.invalid_json"],
    ["truncated JSON", chat(EMAIL).slice(0, 40), 400, "gateway.invalid_json"],
    ["deep nesting", `{"a":${"[".repeat(1000)}${"]".repeat(1000)}}`, 400, "gateway.invalid_json"],
    ["invalid UTF-8", Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xc3, 0x28]), Buffer.from(`${EMAIL}"}`)]), 400, "gateway.invalid_json"],
    ["10 MB body", Buffer.alloc(10 * 1024 * 1024, 0x61), 413, "gateway.body_too_large"],
  ];
  for (const [name, body, status, code] of bad) {
    for (const prefix of ["/mock/v1/chat/completions", "/mock-anthropic/v1/messages"]) {
      it(`${name} on ${prefix.split("/")[1]} → ${status} ${code}, nothing forwarded`, async () => {
        mock.clear();
        const res = await post(prefix, body);
        assert.equal(res.status, status, res.body);
        assert.equal(res.headers["x-leash-code"], code);
        const json = JSON.parse(res.body);
        if (prefix.startsWith("/mock-anthropic")) assert.equal(json.type, "error");
        else assert.equal(json.error.code, code);
        assert.equal(mock.requests.length, 0);
      });
    }
  }

  it("a trap inside the filter: 503, the request never reaches the provider; the next one is served and redacted", async () => {
    mock.clear();
    const trapped = await post("/mock/v1/chat/completions", chat(`TRAP-NOW ${EMAIL}`));
    assert.equal(trapped.status, 503, trapped.body);
    assert.equal(mock.requests.length, 0, "the unredacted request went through");
    // FAIL_RELOAD starts the fresh VM for a later request, after a backoff (1 s base in Envoy):
    // until then requests are refused the same way, never passed through.
    const next = await waitFor("a fresh redact VM", async () => {
      const r = await post("/mock/v1/chat/completions", chat(`again ${EMAIL}`));
      if (r.status === 503) { assert.equal(mock.requests.length, 0, "passed through while the VM was down"); return undefined; }
      return r;
    });
    assert.equal(next.status, 200, next.body);
    assert.equal(mock.requests.length, 1);
    assert.ok(!mock.requests[0].body.includes(EMAIL));
    assert.equal(JSON.parse(next.body).choices[0].message.content, "mock reply to: again [EMAIL_1]");
  });
});
