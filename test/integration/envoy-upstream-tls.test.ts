// Upstream TLS as generated for https providers, against a real Envoy and a local HTTPS server:
// SNI is sent, the certificate is validated against the configured CAs and the provider's host
// name (a certificate from another CA, or for another name, is refused), TLS 1.3 is negotiated,
// and tls_verify: false is an explicit opt-out. Certificates are made here with openssl.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../../config/load.ts";
import { writeEnvoyConfig } from "../../envoy/generate.ts";
import { freePort, httpGet, RunningEnvoy, waitFor } from "./envoy-harness.ts";

const work = mkdtempSync(join(tmpdir(), "leash-tls-"));

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: work, stdio: "pipe" });
}

/** A CA, and a server certificate for `host` signed by it: files <name>-ca.pem, <name>.pem, <name>.key. */
function makeChain(name: string, host: string): void {
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name} test CA`,
    "-keyout", `${name}-ca.key`, "-out", `${name}-ca.pem`);
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${host}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
  writeFileSync(join(work, `${name}.ext`), `subjectAltName=DNS:${host}\n`);
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${name}-ca.pem`, "-CAkey", `${name}-ca.key`, "-CAcreateserial",
    "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.pem`);
}

interface Seen { sni: string | false; protocol: string | null; path: string }

function startHttps(name: string): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer({ key: readFileSync(join(work, `${name}.key`)), cert: readFileSync(join(work, `${name}.pem`)) }, (req, res) => {
    const socket = req.socket as TLSSocket;
    seen.push({ sni: socket.servername ?? false, protocol: socket.getProtocol(), path: req.url ?? "" });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ok: true }));
  });
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.on("close", () => { for (const s of sockets) s.destroy(); });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port, seen })));
}

let good: Awaited<ReturnType<typeof startHttps>>;
let otherName: Awaited<ReturnType<typeof startHttps>>;
let envoy: RunningEnvoy;
let port: number;

before(async () => {
  makeChain("good", "localhost");
  makeChain("wrongname", "api.example.test");
  good = await startHttps("good");
  otherName = await startHttps("wrongname");
  port = await freePort();
  const admin = await freePort();
  const ca = join(work, "good-ca.pem");
  const wrongCa = join(work, "wrongname-ca.pem");
  const yaml = `
version: 1
listener: { address: 127.0.0.1, port: ${port} }
admin: { address: 127.0.0.1, port: ${admin} }
sidecar: { grpc_port: ${await freePort()}, http_port: ${await freePort()} }
providers:
  - { name: verified, base_url: "https://localhost:${good.port}/base", tls_ca_file: "${ca}" }
  - { name: untrusted, base_url: "https://localhost:${good.port}", tls_ca_file: "${wrongCa}" }
  - { name: system-ca, base_url: "https://localhost:${good.port}" }
  - { name: wrong-host, base_url: "https://localhost:${otherName.port}", tls_ca_file: "${wrongCa}" }
  - { name: unverified, base_url: "https://localhost:${good.port}", tls_verify: false }
modules:
  auth: { enabled: false }
  quota: { enabled: false }
  usage: { enabled: false }
`;
  const cfg = parseConfig(yaml, "tls-test.yaml", {});
  writeEnvoyConfig(cfg, { wasmDir: join(work, "wasm"), outDir: join(work, "envoy") });
  envoy = new RunningEnvoy(join(work, "envoy", "bootstrap.yaml"), admin);
  await envoy.ready();
  await waitFor("listener", async () => ((await httpGet(port, "/health")).status === 200 ? true : undefined));
});

after(async () => {
  await envoy?.stop();
  good?.server.close();
  otherName?.server.close();
  rmSync(work, { recursive: true, force: true });
});

describe("upstream TLS", () => {
  it("sends SNI, validates the chain and name against the configured CA, and negotiates TLS 1.3", async () => {
    const r = await httpGet(port, "/verified/v1/models");
    assert.equal(r.status, 200, r.body);
    const last = good.seen[good.seen.length - 1];
    assert.equal(last.sni, "localhost");
    assert.equal(last.protocol, "TLSv1.3");
    assert.equal(last.path, "/base/v1/models");
  });

  it("refuses a certificate from a CA it does not trust (configured CA or system bundle)", async () => {
    const before = good.seen.length;
    for (const prefix of ["/untrusted", "/system-ca"]) {
      const r = await httpGet(port, `${prefix}/v1/models`);
      assert.equal(r.status, 503, `${prefix}: ${r.body}`);
    }
    assert.equal(good.seen.length, before, "a request reached a server whose certificate was not trusted");
  });

  it("refuses a trusted certificate issued for another host name", async () => {
    const r = await httpGet(port, "/wrong-host/v1/models");
    assert.equal(r.status, 503, r.body);
    assert.equal(otherName.seen.length, 0);
  });

  it("skips validation only where tls_verify: false says so", async () => {
    const r = await httpGet(port, "/unverified/v1/models");
    assert.equal(r.status, 200, r.body);
  });
});
