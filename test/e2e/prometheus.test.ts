// The shipped Prometheus rules and Grafana dashboard against a real Prometheus scraping a real
// gateway: `promtool check rules` / `check config`, then a live Prometheus (temp TSDB, free port,
// 1 s scrapes) on the sidecar's /metrics and Envoy's /stats/prometheus. Every metric name used by
// deploy/prometheus/alerts.yml and deploy/grafana/leash-dashboard.json must be among the scraped
// series, so neither can silently refer to a metric that does not exist.
// Skipped only when `prometheus`/`promtool` are not installed (scripts/services.sh installs them).
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { freePort, waitFor } from "../integration/envoy-harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ALERTS = join(ROOT, "deploy/prometheus/alerts.yml");
const EXAMPLE_CONFIG = join(ROOT, "deploy/prometheus/prometheus.yml");
const DASHBOARD = join(ROOT, "deploy/grafana/leash-dashboard.json");

function installed(bin: string): boolean {
  return spawnSync(bin, ["--version"], { stdio: "ignore" }).status === 0;
}
const missing = ["prometheus", "promtool"].filter((b) => !installed(b));
const skip = missing.length > 0 ? `${missing.join(" and ")} not installed (bash scripts/services.sh installs the Debian prometheus package)` : false;

/** Runs promtool; returns its output, or throws with it. */
function promtool(...args: string[]): string {
  const r = spawnSync("promtool", args, { encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`promtool ${args.join(" ")} failed (${r.status}):\n${out}`);
  return out;
}

/** Metric names referenced by a PromQL expression (Leash's and Envoy's, plus `up`). */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/(?<![\w$:])((?:leash|envoy)_[A-Za-z0-9_:]+)/g)) names.add(m[1]!);
  if (/(?<![\w$:])up\s*\{/.test(expr)) names.add("up");
  return [...names];
}

function alertExprs(): string[] {
  const doc = parse(readFileSync(ALERTS, "utf8")) as { groups: Array<{ rules: Array<{ expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules.map((r) => String(r.expr)));
}

function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: Array<{ targets?: Array<{ expr?: string }>; panels?: unknown[] }>;
    templating: { list: Array<{ type: string; query?: string | { query?: string } }> };
  };
  const exprs: string[] = [];
  for (const p of dash.panels) for (const t of p.targets ?? []) if (t.expr) exprs.push(t.expr);
  for (const v of dash.templating.list) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    if (q) exprs.push(q);
  }
  return exprs;
}

describe("Prometheus rules and Grafana dashboard", { skip }, () => {
  let gw: Gateway | undefined;
  let tenant: Tenant;
  let prom: ChildProcess | undefined;
  let promOutput = "";
  let promPort = 0;
  let dir = "";

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${promPort}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== "success") throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  }

  async function scalar(query: string): Promise<number | undefined> {
    const data = await api<{ result: Array<{ value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(query)}`);
    return data.result.length > 0 ? Number(data.result[0]!.value[1]) : undefined;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "leash-prometheus-"));
    gw = await startGateway();
    tenant = await gw.newTenant();
  });

  after(async () => {
    if (prom && prom.exitCode === null && prom.signalCode === null) {
      const p = prom;
      const gone = new Promise<void>((r) => p.once("exit", () => r()));
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(t);
    }
    await gw?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("promtool accepts the alert rules and the example config", () => {
    assert.match(promtool("check", "rules", ALERTS), /SUCCESS: \d+ rules found/);
    assert.match(promtool("check", "config", EXAMPLE_CONFIG), /SUCCESS/);
  });

  it("scrapes a live gateway and finds every metric the rules and the dashboard use", async () => {
    const g = gw!;
    const post = async (path: string, key: string, body: unknown): Promise<number> => {
      const res = await fetch(`${g.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const messages = [{ role: "user", content: "prometheus e2e" }];
    for (let i = 0; i < 3; i++) assert.equal(await post("/mock/v1/chat/completions", tenant.key, { model: "gpt-4o-mini", messages }), 200);
    // A stream without usage (the mock's legacy completions stream has none, even when the usage
    // module asks for it): the gateway counts completion tokens (leash_usage_estimated_total).
    assert.equal(await post("/mock/v1/completions", tenant.key, { model: "gpt-4o-mini", prompt: "prometheus e2e", stream: true }), 200);
    // A model missing from the price table (leash_usage_unpriced_total).
    assert.equal(await post("/mock/v1/chat/completions", tenant.key, { model: "leash-unpriced-model", messages }), 200);
    assert.equal(await post("/mock-anthropic/v1/messages", tenant.key, { model: "claude-3-5-haiku-latest", max_tokens: 32, messages }), 200);
    // A refused key (leash_auth_denied).
    assert.equal(await post("/mock/v1/chat/completions", "lsh_not_a_real_key", { model: "gpt-4o-mini", messages }), 401);

    promPort = await freePort();
    const sidecarTarget = `127.0.0.1:${g.sidecar.httpPort}`;
    const envoyTarget = `127.0.0.1:${g.envoy.adminPort}`;
    const configPath = join(dir, "prometheus.yml");
    // Same job names as deploy/prometheus/prometheus.yml, so the rules' `job` matchers apply.
    writeFileSync(configPath, `
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - ${JSON.stringify(ALERTS)}
scrape_configs:
  - job_name: leash-sidecar
    metrics_path: /metrics
    static_configs:
      - targets: ["${sidecarTarget}"]
  - job_name: envoy
    metrics_path: /stats/prometheus
    static_configs:
      - targets: ["${envoyTarget}"]
`);
    assert.match(promtool("check", "config", configPath), /SUCCESS/);

    const child = spawn("prometheus", [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      "--log.level=warn",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    prom = child;
    child.stdout!.on("data", (d: Buffer) => (promOutput += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (promOutput += d.toString()));
    const alive = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`prometheus exited:\n${promOutput}`);
    };

    await waitFor("prometheus /-/ready", async () => {
      alive();
      const res = await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 30_000);

    type Target = { labels: { job: string }; scrapeUrl: string; health: string; lastError: string };
    await waitFor("both targets up", async () => {
      alive();
      const data = await api<{ activeTargets: Target[] }>("/api/v1/targets?state=active");
      const up = (job: string): boolean => data.activeTargets.some((t) => t.labels.job === job && t.health === "up");
      return up("leash-sidecar") && up("envoy") ? true : undefined;
    }, 30_000);

    const requests = await waitFor("sum(leash_gateway_requests_total) > 0", async () => {
      const v = await scalar("sum(leash_gateway_requests_total)");
      return v !== undefined && v >= 6 ? v : undefined;
    }, 20_000);
    assert.ok(requests >= 6, `sum(leash_gateway_requests_total) = ${requests}`);
    const allowed = await waitFor("leash_auth_allowed > 0", async () => {
      const v = await scalar("sum(leash_auth_allowed)");
      return v !== undefined && v > 0 ? v : undefined;
    }, 20_000);
    assert.ok(allowed >= 6, `leash_auth_allowed = ${allowed}`);
    assert.ok(((await scalar("sum(leash_auth_denied)")) ?? 0) >= 1, "leash_auth_denied not counted");
    assert.equal(await scalar(`up{job="leash-sidecar"}`), 1);

    // Histograms are exposed as _bucket/_sum/_count; every other name as is.
    const used = new Map<string, string>();
    for (const e of alertExprs()) for (const n of metricNames(e)) used.set(n, `alerts.yml: ${e.trim()}`);
    for (const e of dashboardExprs()) for (const n of metricNames(e)) used.set(n, `leash-dashboard.json: ${e}`);
    assert.ok(used.size >= 10, `too few metric names found: ${[...used.keys()].join(", ")}`);
    const histogram = (n: string): string[] => [`${n}_bucket`, `${n}_sum`, `${n}_count`];
    const want = new Set<string>();
    for (const n of used.keys()) {
      if (n.endsWith("_bucket") || n.endsWith("_sum") || n.endsWith("_count")) want.add(n);
      else if (n.endsWith("_seconds")) for (const h of histogram(n)) want.add(h);
      else want.add(n);
    }
    let absent: string[] = [];
    try {
      await waitFor("every metric used by the rules and the dashboard", async () => {
        const names = new Set(await api<string[]>("/api/v1/label/__name__/values"));
        absent = [...want].filter((n) => !names.has(n));
        return absent.length === 0 ? true : undefined;
      }, 20_000);
    } catch {
      assert.fail(`metrics used but never scraped:\n${absent.map((n) => `  ${n}  (${used.get(n.replace(/_(bucket|sum|count)$/, "")) ?? used.get(n)})`).join("\n")}`);
    }

    // The rules were loaded by the real server and evaluate without error.
    const rules = await waitFor("rules evaluated", async () => {
      const data = await api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>("/api/v1/rules");
      const all = data.groups.flatMap((gr) => gr.rules);
      return all.length > 0 && all.every((r) => r.health !== "unknown") ? all : undefined;
    }, 20_000);
    assert.equal(rules.length, alertExprs().length);
    for (const r of rules) assert.equal(r.health, "ok", `${r.name}: ${r.lastError}`);
    // A healthy gateway fires nothing.
    const firing = await api<{ alerts: Array<{ labels: { alertname: string }; state: string }> }>("/api/v1/alerts");
    assert.deepEqual(firing.alerts.filter((a) => a.state === "firing").map((a) => a.labels.alertname), []);
  });
});
