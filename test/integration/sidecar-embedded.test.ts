// The sidecar with no database and no Redis URL: embedded PGlite + in-process store in a temp
// data_dir, started through the same bootstrap as `main.ts`. Covers the first-start demo tenant
// (created once, key shown once) and a restart that must keep keys valid (persisted pepper + data).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startSidecar, type RunningSidecar } from "../../sidecar-services/src/bootstrap.ts";
import { ADMIN_TOKEN_FILE } from "../../sidecar-services/src/admin-token.ts";
import { MASTER_KEY_FILE } from "../../sidecar-services/src/master-key.ts";
import { PEPPER_FILE } from "../../sidecar-services/src/pepper.ts";
import { authorizeOnce, type AuthorizeResponse } from "../support/authorize-client.ts";
import { sidecarTestConfig } from "../support/sidecar-config.ts";

function embeddedConfig(dataDir: string) {
  // No database_url or redis_url: embedded PGlite and the in-process store under data_dir.
  return sidecarTestConfig({
    sidecar: { data_dir: dataDir },
    providers: [{ name: "mock", api: "openai", api_key_env: "LEASH_TEST_MOCK_KEY" }],
  });
}

function authorize(port: number, api_key: string): Promise<AuthorizeResponse> {
  return authorizeOnce(port, { api_key, provider: "mock", request_id: "embedded-test" });
}

describe("sidecar in embedded mode (PGlite + in-process store)", () => {
  let dataDir: string;
  // No DATABASE_URL, REDIS_URL or LEASH_KEY_PEPPER: everything must come from data_dir.
  const env = { LEASH_TEST_MOCK_KEY: "sk-mock-789" };
  let running: RunningSidecar | undefined;
  let demoKey: string;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "leash-embedded-"));
  });

  after(async () => {
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("creates the demo tenant and its key on first start", async () => {
    running = await startSidecar({ config: embeddedConfig(dataDir), env });
    assert.equal(running.db.kind, "pglite");
    assert.equal(running.store.kind, "memory");
    assert.equal(running.demo.created, true);
    assert.match(running.demo.key ?? "", /^lsh_[a-z0-9]{12}_[A-Za-z0-9]{32}$/);
    demoKey = running.demo.key!;

    for (const file of [PEPPER_FILE, MASTER_KEY_FILE, ADMIN_TOKEN_FILE]) {
      const mode = statSync(join(dataDir, file)).mode & 0o777;
      assert.equal(mode, 0o600, `generated ${file} is private to its owner`);
    }
    assert.match(running.adminUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+\/admin\/v1$/);
    assert.equal(running.adminTokenFile, join(dataDir, ADMIN_TOKEN_FILE));
  });

  it("authorizes the demo key", async () => {
    const res = await authorize(running!.grpcPort, demoKey);
    assert.equal(res.decision, "ALLOW");
    assert.equal(res.tenant_id, "demo");
    assert.equal(res.key_id, demoKey.slice(4, 16));
    assert.equal(res.upstream_auth_header, "authorization");
    assert.equal(res.upstream_auth_value, "Bearer sk-mock-789");
    // The key with its last character changed (to "0", or "1" when it already ends in "0").
    const wrong = demoKey.slice(0, -1) + (demoKey.endsWith("0") ? "1" : "0");
    assert.equal((await authorize(running!.grpcPort, wrong)).code, "auth.invalid_key");

    const health = await fetch(`http://127.0.0.1:${running!.httpPort}/health`);
    assert.deepEqual(await health.json(), { status: "ok", db: "ok", store: "ok" });
  });

  it("serves the admin API with the generated token and master key: keys, policy, stored credentials", async () => {
    const token = readFileSync(join(dataDir, ADMIN_TOKEN_FILE), "utf8").trim();
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(running!.adminUrl + path, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const created = await admin("POST", "/tenants/demo/keys", {});
    assert.equal(created.status, 201);
    const put = await admin("PUT", "/credentials", { tenant_id: "demo", provider: "mock", api_key: "sk-demo-stored-credential-0001" });
    assert.equal(put.status, 200);
    assert.match(put.json.master_key_id, /^mk-[0-9a-f]{12}$/);
    const res = await authorize(running!.grpcPort, created.json.key);
    assert.equal(res.decision, "ALLOW");
    assert.equal(res.upstream_auth_value, "Bearer sk-demo-stored-credential-0001", "the tenant's stored credential wins over the env one");

    assert.equal((await admin("PATCH", "/tenants/demo", { status: "disabled" })).status, 200);
    assert.equal((await authorize(running!.grpcPort, created.json.key)).code, "auth.tenant_disabled");
    assert.equal((await admin("PATCH", "/tenants/demo", { status: "active" })).status, 200);
    // module_settings patches merge under a row lock on PGlite too (same SQL as on a server).
    const sections = await Promise.all([
      admin("PATCH", "/tenants/demo", { module_settings: { audit: { enabled: true } } }),
      admin("PATCH", "/tenants/demo", { module_settings: { injection: { action: "flag" } } }),
    ]);
    assert.deepEqual(sections.map((r) => r.status), [200, 200]);
    assert.deepEqual((await admin("GET", "/tenants/demo")).json.module_settings, { audit: { enabled: true }, injection: { action: "flag" } });
    assert.equal(JSON.parse((await authorize(running!.grpcPort, created.json.key)).module_policy).injection.action, "flag", "the cached policy was dropped");
    assert.deepEqual((await admin("PATCH", "/tenants/demo", { module_settings: { audit: null, injection: null } })).json.module_settings, {});
    assert.equal((await admin("PATCH", "/tenants/demo", { module_settings: { injection: { action: "warn" } } })).status, 400);
    assert.equal((await admin("POST", `/keys/${created.json.key_id}/revoke`)).status, 200);
    assert.equal((await authorize(running!.grpcPort, created.json.key)).code, "auth.key_revoked");
    assert.equal((await admin("DELETE", "/credentials", { tenant_id: "demo", provider: "mock" })).status, 200);
  });

  it("does not create another key on the second start, and the first key still works", async () => {
    await running!.stop();
    running = undefined;
    running = await startSidecar({ config: embeddedConfig(dataDir), env });
    assert.deepEqual(running.demo, { created: false });

    const { rows } = await running.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = 'demo' AND status = 'active'",
    );
    assert.equal(rows[0]!.n, 1);
    const res = await authorize(running.grpcPort, demoKey);
    assert.equal(res.decision, "ALLOW");
    assert.equal(res.tenant_id, "demo");
  });
});
