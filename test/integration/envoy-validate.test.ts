// The generated Envoy config against a real Envoy (found by envoy/find-envoy.ts):
// 1. `envoy --mode validate` accepts the bootstrap of every golden case. Validate mode does NOT read
//    the path-based LDS/CDS files (tested below), so the same listener and clusters are also
//    validated from a test-only rendering that puts them in static_resources.
// 2. A running Envoy (auth module off) answers /health and the JSON 404, proxies and streams to a
//    provider, and picks up an atomic rewrite of its files without a restart or a dropped stream.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { parse, stringify } from "yaml";

import { parseConfig } from "../../config/load.ts";
import type { LeashConfig } from "../../config/types.ts";
import { writeEnvoyConfig } from "../../envoy/generate.ts";
import { freePort, httpGet, RunningEnvoy, validateEnvoyConfig, waitFor, type HttpResult } from "./envoy-harness.ts";
import { proxyWasmStub } from "./proxy-wasm-stub.ts";
import { MODULE_ORDER } from "../../envoy/names.ts";

const GOLDEN: string = fileURLToPath(new URL("../golden/envoy/", import.meta.url));
const CASES: string[] = readdirSync(GOLDEN)
  .filter((f: string): boolean => f.endsWith(".in.yaml"))
  .map((f: string): string => f.slice(0, -".in.yaml".length))
  .sort();

const work: string = mkdtempSync(join(tmpdir(), "leash-envoy-it-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** A wasm dir holding the stub as every module: validate mode loads and starts each wasm VM. */
function stubWasmDir(): string {
  const dir: string = join(work, "wasm");
  mkdirSync(dir, { recursive: true });
  for (const module of MODULE_ORDER) writeFileSync(join(dir, `${module}.wasm`), proxyWasmStub());
  writeFileSync(join(dir, "leash.wasm"), proxyWasmStub());
  return dir;
}

function goldenConfig(name: string): LeashConfig {
  const file: string = join(GOLDEN, `${name}.in.yaml`);
  return parseConfig(readFileSync(file, "utf8"), file, {});
}

/** The bootstrap with the resources of lds.yaml and cds.yaml moved into static_resources. */
function staticRendering(outDir: string): string {
  const bootstrap = parse(readFileSync(join(outDir, "bootstrap.yaml"), "utf8"));
  // In a DiscoveryResponse each resource is an Any; in static_resources it is the message itself.
  const unwrap = (resources: Record<string, unknown>[]): Record<string, unknown>[] =>
    resources.map(({ "@type": _type, ...message }) => message);
  delete bootstrap.dynamic_resources;
  bootstrap.static_resources = {
    listeners: unwrap(parse(readFileSync(join(outDir, "lds.yaml"), "utf8")).resources),
    clusters: unwrap(parse(readFileSync(join(outDir, "cds.yaml"), "utf8")).resources),
  };
  const path: string = join(outDir, "static-bootstrap.yaml");
  writeFileSync(path, stringify(bootstrap));
  return path;
}

function assertValid(bootstrap: string): void {
  const result = validateEnvoyConfig(bootstrap);
  assert.equal(result.code, 0, `envoy --mode validate failed for ${bootstrap}:\n${result.output}`);
}

describe("envoy --mode validate", () => {
  const wasmDir: string = stubWasmDir();

  for (const name of CASES) {
    test(`${name}: bootstrap and static rendering pass`, () => {
      const outDir: string = join(work, "validate", name);
      writeEnvoyConfig(goldenConfig(name), { wasmDir, outDir });
      assertValid(join(outDir, "bootstrap.yaml"));
      assertValid(staticRendering(outDir));
    });
  }

  test("does not read the path-based LDS/CDS files, only checks that cds.yaml exists", () => {
    const outDir: string = join(work, "validate", "broken");
    writeEnvoyConfig(goldenConfig("default"), { wasmDir, outDir });
    writeFileSync(join(outDir, "lds.yaml"), "resources: [ this is not a listener\n");
    writeFileSync(join(outDir, "cds.yaml"), "not: [valid\n");
    assertValid(join(outDir, "bootstrap.yaml"));
    rmSync(join(outDir, "lds.yaml"));
    assertValid(join(outDir, "bootstrap.yaml"));
    rmSync(join(outDir, "cds.yaml"));
    const missing = validateEnvoyConfig(join(outDir, "bootstrap.yaml"));
    assert.notEqual(missing.code, 0);
    assert.match(missing.output, /cds\.yaml' does not exist/);
  });

  test("the static rendering does catch a broken listener", () => {
    const outDir: string = join(work, "validate", "broken-static");
    writeEnvoyConfig(goldenConfig("default"), { wasmDir, outDir });
    const lds: string = readFileSync(join(outDir, "lds.yaml"), "utf8");
    writeFileSync(join(outDir, "lds.yaml"), lds.replace("stat_prefix: leash", "stat_prefix: leash\n              no_such_field: 1"));
    const result = validateEnvoyConfig(staticRendering(outDir));
    assert.notEqual(result.code, 0);
    assert.match(result.output, /no_such_field/);
  });

  test("loads the wasm modules: an empty placeholder file fails", () => {
    const outDir: string = join(work, "validate", "placeholder");
    const emptyWasmDir: string = join(work, "empty-wasm");
    mkdirSync(emptyWasmDir, { recursive: true });
    writeFileSync(join(emptyWasmDir, "auth.wasm"), "");
    writeFileSync(join(emptyWasmDir, "leash.wasm"), "");
    writeEnvoyConfig(goldenConfig("default"), { wasmDir: emptyWasmDir, outDir });
    const result = validateEnvoyConfig(staticRendering(outDir));
    assert.notEqual(result.code, 0);
    assert.match(result.output, /Unable to create Wasm plugin auth/);
  });
});

/** A provider stand-in: records requests; /base/stream answers SSE in two parts, the second on release. */
class MockProvider {
  readonly seen: { path: string; host: string }[] = [];
  private server: Server | undefined;
  private pendingStreams: ServerResponse[] = [];
  port: number = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.seen.push({ path: req.url ?? "", host: req.headers.host ?? "" });
    if (req.url?.endsWith("/stream")) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write("data: one\n\n");
      this.pendingStreams.push(res);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ object: "list", data: [] }));
  }

  /** Sends the second event of every open stream and ends them. */
  release(): void {
    for (const res of this.pendingStreams.splice(0)) res.end("data: two\n\n");
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/**
 * Opens an SSE stream through Envoy. `firstEvent` resolves when "data: one" arrives while the
 * upstream still holds the rest back: it can only arrive if nothing buffers the response.
 */
function openStream(port: number, path: string): { firstEvent: Promise<void>; done: Promise<string> } {
  let onFirst: () => void = () => undefined;
  const firstEvent: Promise<void> = new Promise((resolve) => (onFirst = resolve));
  const done: Promise<string> = new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res: IncomingMessage) => {
      let body: string = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (body.includes("data: one")) onFirst();
      });
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  // A test that fails before the stream ends leaves it open until Envoy stops; that late
  // rejection must not surface as an unhandled one (the awaiting test still sees it).
  done.catch(() => undefined);
  return { firstEvent, done };
}

function liveConfig(ports: { listener: number; admin: number; grpc: number; http: number }, upstream: number, extra: string): LeashConfig {
  const text: string = `
version: 1
listener: { address: 127.0.0.1, port: ${ports.listener} }
admin: { address: 127.0.0.1, port: ${ports.admin} }
sidecar: { host: 127.0.0.1, grpc_port: ${ports.grpc}, http_port: ${ports.http} }
providers:
  - name: mock
    base_url: http://127.0.0.1:${upstream}/base
${extra}
modules:
  auth: { enabled: false }
  quota: { enabled: false }
  usage: { enabled: false }
`;
  return parseConfig(text, "live.yaml", {});
}

describe("a running Envoy", () => {
  const provider: MockProvider = new MockProvider();
  const outDir: string = join(work, "live");
  let envoy: RunningEnvoy;
  let ports: { listener: number; admin: number; grpc: number; http: number };

  before(async () => {
    await provider.start();
    ports = { listener: await freePort(), admin: await freePort(), grpc: await freePort(), http: await freePort() };
    writeEnvoyConfig(liveConfig(ports, provider.port, ""), { wasmDir: join(work, "unused-wasm"), outDir });
    envoy = new RunningEnvoy(join(outDir, "bootstrap.yaml"), ports.admin);
    await envoy.ready();
  });

  after(async () => {
    await envoy?.stop();
    await provider.stop();
  });

  test("GET /health answers 200 JSON", async () => {
    const res: HttpResult = await httpGet(ports.listener, "/health");
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(res.body), { status: "ok" });
  });

  test("an unknown path answers the OpenAI-style 404", async () => {
    const res: HttpResult = await httpGet(ports.listener, "/nope/v1/models");
    assert.equal(res.status, 404);
    assert.equal(res.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(res.body), {
      error: {
        message: "No route for this path. Known prefixes: /mock",
        type: "invalid_request_error",
        param: null,
        code: "gateway.no_route",
      },
    });
  });

  test("a provider route rewrites path and Host", async () => {
    const res: HttpResult = await httpGet(ports.listener, "/mock/v1/models?limit=1");
    assert.equal(res.status, 200);
    assert.deepEqual(provider.seen.at(-1), { path: "/base/v1/models?limit=1", host: `127.0.0.1:${provider.port}` });
  });

  test("SSE streams through unbuffered", async () => {
    const stream = openStream(ports.listener, "/mock/v1/stream");
    await waitFor("the first SSE event before the stream ends", async () => {
      await stream.firstEvent;
      return true;
    });
    provider.release();
    assert.equal(await stream.done, "data: one\n\ndata: two\n\n");
  });

  test("an atomic rewrite is picked up without restart or dropped stream", async () => {
    const pid: number | undefined = envoy.pid;
    const inFlight = openStream(ports.listener, "/mock/v1/stream");
    await inFlight.firstEvent;

    const added: string = `  - name: added\n    base_url: http://127.0.0.1:${provider.port}/other`;
    writeEnvoyConfig(liveConfig(ports, provider.port, added), { wasmDir: join(work, "unused-wasm"), outDir });
    await waitFor("the new route table", async () => {
      const res: HttpResult = await httpGet(ports.listener, "/nope");
      return res.body.includes("Known prefixes: /mock, /added") ? true : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nEnvoy output:\n${envoy.logs}`);
    });

    // The route may land a moment before its cluster (routes.ts explains why); then it answers 503.
    await waitFor("the new provider route", async () => {
      const res: HttpResult = await httpGet(ports.listener, "/added/v1/models");
      return res.status === 200 ? true : undefined;
    });
    assert.equal(provider.seen.at(-1)?.path, "/other/v1/models");

    provider.release();
    assert.equal(await inFlight.done, "data: one\n\ndata: two\n\n", "the stream opened before the reload was cut");
    assert.ok(envoy.running, "Envoy exited");
    assert.equal(envoy.pid, pid);
  });

  test("access log lines are JSON with the documented fields", async () => {
    const line: Record<string, unknown> = await waitFor("an access log line for /health", async () => {
      for (const text of envoy.logs.split("\n")) {
        if (!text.startsWith("{")) continue;
        const entry: Record<string, unknown> = JSON.parse(text);
        if (entry.path === "/health") return entry;
      }
      return undefined;
    });
    for (const field of ["start_time", "method", "status", "duration_ms", "request_id", "upstream_cluster", "bytes_sent"]) {
      assert.ok(field in line, `access log lacks ${field}: ${JSON.stringify(line)}`);
    }
    assert.equal(line.method, "GET");
  });
});
