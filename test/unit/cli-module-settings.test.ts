// `leash policy set --redact/--injection` and `leash audit set` send one PATCH holding only their
// module_settings section, as a merge patch, and never read the tenant first: a read-merge-write in
// the CLI would undo another admin's concurrent change to another section. Run against a fake admin
// API that records every request.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { adminCommand } from "../../cli/admin-commands.ts";
import { auditCommand } from "../../cli/audit-commands.ts";
import type { LeashConfig } from "../../config/types.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";

interface Seen { method: string; url: string; body: unknown }

const seen: Seen[] = [];
let server: http.Server;
let cfg: LeashConfig;

before(async () => {
  server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => { text += c.toString(); });
    req.on("end", () => {
      const body: unknown = text === "" ? undefined : JSON.parse(text);
      seen.push({ method: req.method!, url: req.url!, body });
      const settings = (body as { module_settings?: unknown } | undefined)?.module_settings ?? {};
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: "acme", module_settings: settings }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cfg = sidecarTestConfig({
    providers: [{ name: "mock", api: "openai" }],
    sidecar: { admin_address: "127.0.0.1", admin_port: (server.address() as AddressInfo).port },
  });
  process.env.LEASH_ADMIN_TOKEN = "test-token";
});

after(() => new Promise<void>((r) => server.close(() => r())));

test("policy set --redact/--injection: one PATCH of the guard sections only", async () => {
  seen.length = 0;
  assert.equal(await adminCommand(cfg, "policy", "set", [], { tenant: "acme", redact: "email=hash", injection: "flag" }), 0);
  assert.deepEqual(seen, [{
    method: "PATCH",
    url: "/admin/v1/tenants/acme",
    body: { module_settings: { redact: { entities: { email: "hash" } }, injection: { action: "flag", threshold: null } } },
  }]);
  seen.length = 0;
  assert.equal(await adminCommand(cfg, "policy", "set", [], { tenant: "acme", redact: "default", status: "active" }), 0);
  assert.deepEqual(seen.map((s) => [s.method, s.body]), [["PATCH", { status: "active", module_settings: { redact: null } }]]);
});

test("audit set: one PATCH of the audit fields given", async () => {
  seen.length = 0;
  assert.equal(await auditCommand(cfg, "set", { tenant: "acme", enabled: "on" }), 0);
  assert.deepEqual(seen, [{ method: "PATCH", url: "/admin/v1/tenants/acme", body: { module_settings: { audit: { enabled: true } } } }]);
});
