// The quick start as a user runs it: `bin/leash start` on embedded defaults (PGlite, in-process
// store, bundled mock provider), the demo key it prints, the official OpenAI SDK against it, the
// admin CLI against the running gateway (tenants, keys, credentials, policy), and a clean stop on
// Ctrl-C. Also `leash config check` naming the offending key of a bad config.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { freePort, waitFor } from "../integration/envoy-harness.ts";

const LEASH = fileURLToPath(new URL("../../bin/leash", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "leash-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The environment of a user who has set nothing: no database or Redis URL, no secrets. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["DATABASE_URL", "REDIS_URL", "LEASH_KEY_PEPPER", "LEASH_DEMO_TENANT", "LEASH_ADMIN_TOKEN", "LEASH_MASTER_KEY", "LEASH_MASTER_KEYS", "LEASH_MASTER_KEY_FILE"]) delete env[k];
  return env;
}

describe("leash start (embedded defaults) and the admin CLI", () => {
  const configPath = join(dir, "leash.yaml");
  let port = 0;
  let ports: number[] = [];
  let proc: ChildProcess;
  let out = "";
  let exited: Promise<number | null>;

  /** Runs a CLI command against the running gateway's config. */
  function leash(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(LEASH, [...args, "--config", configPath], { env: userEnv(), encoding: "utf8", input });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async function status(key: string, model = "gpt-4o-mini"): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${port}/mock/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "x" }] }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  before(async () => {
    const [admin, grpcPort, httpPort, adminPort, mockPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    port = await freePort();
    ports = [port, httpPort, adminPort, mockPort];
    writeFileSync(configPath, `
version: 1
listener: { address: 127.0.0.1, port: ${port} }
admin: { address: 127.0.0.1, port: ${admin} }
sidecar: { host: 127.0.0.1, grpc_port: ${grpcPort}, http_port: ${httpPort}, admin_port: ${adminPort}, data_dir: "${join(dir, "data")}" }
providers:
  - { name: mock, api: openai, prefix: /mock, base_url: "http://127.0.0.1:${mockPort}" }
modules:
  auth: { enabled: true }
mock_provider: { enabled: true, port: ${mockPort} }
`);
    proc = spawn(LEASH, ["start", "--config", configPath, "--concurrency", "1", "--envoy-dir", join(dir, "envoy")], { env: userEnv(), stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
    await waitFor("Leash is up", async () => {
      if (proc.exitCode !== null) throw new Error(`leash start exited:\n${out}`);
      return out.includes("Leash is up") ? true : undefined;
    }, 90_000);
  });

  after(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill("SIGINT");
      await exited;
    }
  });

  it("prints the demo key and serves the OpenAI SDK with it, plain and streamed", async () => {
    const key = /API key \(shown once, store it now\): (lsh_\S+)/.exec(out)?.[1];
    assert.ok(key, `no demo key printed:\n${out}`);
    assert.match(out, new RegExp(`OPENAI_BASE_URL=http://127\\.0\\.0\\.1:${port}/mock/v1`));
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/mock/v1`, apiKey: key, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "quick start" }] });
    assert.equal(res.choices[0].message.content, "mock reply to: quick start");
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "quick stream" }] });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
    assert.equal(text, "mock reply to: quick stream");
  });

  it("administers tenants, keys, credentials and policy through the CLI", async () => {
    const created = leash(["tenants", "create", "Acme Corp", "--models", "gpt-4o*"]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /tenant acme-corp created/);
    assert.match(leash(["tenants", "list"]).stdout, /acme-corp/);

    const minted = leash(["keys", "create", "--tenant", "acme-corp", "--expires", "30d"]);
    assert.equal(minted.code, 0, minted.stderr);
    const key = /API key \(shown once, store it now\): (lsh_(\w{12})_\w+)/.exec(minted.stdout);
    assert.ok(key, minted.stdout);
    assert.equal(await status(key[1]), 200);
    assert.equal(await status(key[1], "o3"), 403, "model policy not applied");

    const listed = leash(["keys", "list", "--tenant", "acme-corp", "--json"]);
    const rows = JSON.parse(listed.stdout) as Array<{ key_id: string; status: string }>;
    assert.deepEqual(rows.map((r) => [r.key_id, r.status]), [[key[2], "active"]]);
    assert.ok(!listed.stdout.includes(key[1]), "key listing shows the secret");

    const cred = leash(["credentials", "set", "--provider", "mock", "--tenant", "acme-corp"], "sk-acme-from-stdin-123456");
    assert.equal(cred.code, 0, cred.stderr);
    const creds = leash(["credentials", "list", "--json"]).stdout;
    assert.ok(creds.includes("acme-corp") && !creds.includes("sk-acme-from-stdin-123456"));
    // One master key in embedded mode: everything is already under it.
    const rewrap = leash(["credentials", "reencrypt"]);
    assert.equal(rewrap.code, 0, rewrap.stderr);
    assert.match(rewrap.stdout, /^0 of 1 credentials rewrapped under master key \S+/);

    const rotated = leash(["keys", "rotate", key[2], "--grace", "1h"]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = /API key \(shown once, store it now\): (lsh_\S+)/.exec(rotated.stdout)![1];
    assert.ok(fresh.startsWith(`lsh_${key[2]}_`));
    assert.equal(await status(fresh), 200);

    assert.equal(leash(["keys", "revoke", key[2]]).code, 0);
    await waitFor("revocation", async () => ((await status(fresh)) === 401 ? true : undefined), 2000);

    assert.equal(leash(["policy", "set", "--tenant", "acme-corp", "--retention-days", "30"]).code, 0);
    const retained = JSON.parse(leash(["tenants", "list", "--json"]).stdout) as Array<{ id: string; retention_days: number | null }>;
    assert.equal(retained.find((t) => t.id === "acme-corp")?.retention_days, 30);
    assert.match(leash(["policy", "set", "--tenant", "acme-corp", "--retention-days", "soon"]).stderr, /--retention-days must be/);
    assert.equal(leash(["policy", "set", "--tenant", "acme-corp", "--status", "disabled"]).code, 0);
    const bad = leash(["keys", "create", "--tenant", "no-such-tenant"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /admin\.not_found/);

    // Usage of the requests above, from the ledger on the embedded database (written within ~100 ms).
    type UsageAnswer = { group_by: string; rows: Array<{ group: string; requests: number; prompt_tokens: number; errors: number }>; totals: { requests: number } };
    const report = await waitFor("usage rows", async () => {
      const r = leash(["usage", "--tenant", "acme-corp", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const u = JSON.parse(r.stdout) as UsageAnswer;
      return u.rows[0] && u.rows[0].requests >= 2 ? u : undefined;
    }, 5000);
    assert.equal(report.group_by, "tenant");
    assert.deepEqual(report.rows.map((r) => r.group), ["acme-corp"]);
    assert.equal(report.totals.requests, report.rows[0]!.requests);
    assert.ok(typeof report.rows[0]!.prompt_tokens === "number" && report.rows[0]!.prompt_tokens > 0, JSON.stringify(report));
    const table = leash(["usage", "--by", "model", "--from", "1d"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /gpt-4o-mini/);
    assert.match(table.stdout, /^TOTAL /m);
  });

  it("runs the sidecar below Envoy's CPU priority (nice 10), every thread, collecting garbage on one thread", () => {
    const nice = (pid: string): number => {
      // /proc/<pid>/stat: the command name is in parentheses; nice is field 19 of the whole line.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    };
    // Running processes whose argv (NUL-separated) and pid match; one that exits meanwhile is skipped.
    const processes = (match: (pid: string, argv: string[]) => boolean): string[] =>
      readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return match(p, readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0"));
        } catch {
          return false;
        }
      });
    const sidecars = processes((_, argv) => argv.some((a) => a.endsWith("sidecar/main.js")) && argv.includes(configPath));
    assert.equal(sidecars.length, 1, `one sidecar for this config: ${sidecars.join(", ")}`);
    // With the node flags of cli/processes.ts (SIDECAR_NODE_FLAGS), before the bundle.
    const argv = readFileSync(`/proc/${sidecars[0]}/cmdline`, "utf8").split("\0");
    assert.ok(argv.indexOf("--single-threaded-gc") > 0 && argv.indexOf("--single-threaded-gc") < argv.findIndex((a) => a.endsWith("sidecar/main.js")), argv.join(" "));
    const threads = readdirSync(`/proc/${sidecars[0]}/task`);
    assert.ok(threads.length > 1, "node runs several threads");
    for (const t of threads) assert.equal(nice(t), 10, `sidecar thread ${t}`);
    // Envoy: the sidecar's sibling under `leash start`, at the default priority.
    const parent = (pid: string): string => /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];
    const envoys = processes((p, argv) => argv[0].endsWith("envoy") && parent(p) === parent(sidecars[0]));
    assert.equal(envoys.length, 1, "Envoy beside the sidecar");
    for (const e of envoys) assert.equal(nice(e), 0, `envoy ${e}`);
  });

  it("stops cleanly on SIGINT and frees its ports", async () => {
    proc.kill("SIGINT");
    assert.equal(await exited, 0, `leash start did not exit cleanly:\n${out}`);
    for (const p of ports) {
      const r = await fetch(`http://127.0.0.1:${p}/`).then(() => "open", () => "closed");
      assert.equal(r, "closed", `port ${p} still served after stop`);
    }
  });
});

describe("leash config check", () => {
  it("accepts the embedded default config and validates its Envoy config", () => {
    const r = spawnSync(LEASH, ["config", "check"], { env: userEnv(), encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /generated Envoy config: ok/);
  });

  it("names the offending key of a bad config and exits 2", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "version: 1\nproviders:\n  - name: x\n    base_url: ftp://nope\nmodules:\n  auth: { failure_mode: sometimes }\n");
    const r = spawnSync(LEASH, ["config", "check", "--config", bad], { env: userEnv(), encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /providers\[0\]\.base_url/);
    assert.match(r.stderr, /modules\.auth\.failure_mode/);
  });
});
