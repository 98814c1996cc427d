// `leash tenants|keys|credentials|policy|limits|usage …`: tenant and key administration through the sidecar's
// admin API. Secrets (new keys) are printed once, to stdout; provider credentials are read from
// stdin or an environment variable, never from the command line (shell history, process list).
import { readFileSync } from "node:fs";
import type { LeashConfig } from "../config/types.ts";
import { adminClient, type AdminClient } from "./admin-client.ts";
import { guardPolicyPatch } from "./guard-policy-args.ts";

export interface AdminOptions {
  tenant?: string;
  provider?: string;
  providers?: string;
  models?: string;
  status?: string;
  /** `policy set --retention-days`: days, 0 (forever) or "default". */
  retentionDays?: string;
  expires?: string;
  grace?: string;
  fromEnv?: string;
  key?: string;
  model?: string;
  from?: string;
  to?: string;
  by?: string;
  json?: boolean;
  /** `policy set --redact email=mask,card=block|default` (cli/guard-policy-args.ts). */
  redact?: string;
  /** `policy set --injection block:0.7|flag|default`. */
  injection?: string;
  /** `leash limits set`: each a number, or "none" to remove that limit. */
  limits?: Partial<Record<LimitFlag, string>>;
  onStoreFailure?: string;
}

/** `leash limits set` flags → admin API fields. */
export const LIMIT_FLAGS = { rpm: "rpm", tpm: "tpm", tpd: "tpd", tpmo: "tpmo", "usd-day": "usd_per_day", "usd-month": "usd_per_month" } as const;
export type LimitFlag = keyof typeof LIMIT_FLAGS;

type Row = Record<string, unknown>;

/** "30d", "12h", "90m", "45s" → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m) throw new Error(`bad duration ${JSON.stringify(text)}: use e.g. 90s, 30m, 12h, 7d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new Error(`missing ${what}`);
  return value;
}

function print(rows: Row[], columns: string[], json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  const cell = (v: unknown): string => (v === null || v === undefined ? "-" : Array.isArray(v) ? (v.length ? v.join(",") : "*") : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  console.log(columns.map((c, i) => c.padEnd(widths[i])).join("  "));
  for (const r of rows) console.log(columns.map((c, i) => cell(r[c]).padEnd(widths[i])).join("  "));
}

function printKey(k: { key_id: string; key: string }, what: string): void {
  console.log(`${what} ${k.key_id}\nAPI key (shown once, store it now): ${k.key}`);
}

async function readSecret(opts: AdminOptions): Promise<string> {
  if (opts.fromEnv) {
    const v = process.env[opts.fromEnv];
    if (!v) throw new Error(`environment variable ${opts.fromEnv} is empty`);
    return v;
  }
  if (process.stdin.isTTY) throw new Error("pipe the provider key on stdin (e.g. `printf %s \"$KEY\" | leash credentials set …`) or use --from-env VAR");
  const v = readFileSync(0, "utf8").trim();
  if (!v) throw new Error("no provider key on stdin");
  return v;
}

async function tenants(api: AdminClient, sub: string | undefined, args: string[], opts: AdminOptions): Promise<number> {
  if (sub === "create") {
    const t = await api.request<Row>("POST", "/tenants", {
      name: need(args[0], "tenant NAME"),
      allowed_providers: list(opts.providers),
      allowed_models: list(opts.models),
    });
    console.log(`tenant ${t.id} created`);
    return 0;
  }
  if (sub === "list") {
    const r = await api.request<{ tenants: Row[] }>("GET", "/tenants");
    print(r.tenants, ["id", "name", "status", "allowed_providers", "allowed_models", "retention_days", "created_at"], opts.json);
    return 0;
  }
  throw new Error("usage: leash tenants create NAME [--providers a,b] [--models m1,m2*] | leash tenants list");
}

async function keys(api: AdminClient, sub: string | undefined, args: string[], opts: AdminOptions): Promise<number> {
  if (sub === "create") {
    const tenant = need(opts.tenant, "--tenant");
    const body: Row = {};
    if (opts.expires) body.expires_at = new Date(Date.now() + parseDuration(opts.expires) * 1000).toISOString();
    printKey(await api.request<{ key_id: string; key: string }>("POST", `/tenants/${encodeURIComponent(tenant)}/keys`, body), `tenant ${tenant}: key`);
    return 0;
  }
  if (sub === "list") {
    const tenant = need(opts.tenant, "--tenant");
    const r = await api.request<{ keys: Row[] }>("GET", `/tenants/${encodeURIComponent(tenant)}/keys`);
    print(r.keys, ["key_id", "status", "created_at", "expires_at", "rotated_at", "revoked_at", "last_used_at"], opts.json);
    return 0;
  }
  if (sub === "rotate") {
    const keyId = need(args[0], "KEY_ID");
    const body = opts.grace ? { grace_seconds: parseDuration(opts.grace) } : {};
    printKey(await api.request<{ key_id: string; key: string }>("POST", `/keys/${encodeURIComponent(keyId)}/rotate`, body), "rotated key");
    console.log(`the previous secret keeps working for ${opts.grace ?? "1h"}`);
    return 0;
  }
  if (sub === "revoke") {
    const keyId = need(args[0], "KEY_ID");
    await api.request("POST", `/keys/${encodeURIComponent(keyId)}/revoke`);
    console.log(`revoked ${keyId}`);
    return 0;
  }
  throw new Error("usage: leash keys create --tenant T [--expires 30d] | list --tenant T | rotate KEY_ID [--grace 1h] | revoke KEY_ID");
}

async function credentials(api: AdminClient, sub: string | undefined, opts: AdminOptions): Promise<number> {
  const tenant = opts.tenant ?? null;
  if (sub === "set") {
    const provider = need(opts.provider, "--provider");
    await api.request("PUT", "/credentials", { tenant_id: tenant, provider, api_key: await readSecret(opts) });
    console.log(`credential for ${provider} set (${tenant ? `tenant ${tenant}` : "shared by all tenants"})`);
    return 0;
  }
  if (sub === "list") {
    const r = await api.request<{ credentials: Row[] }>("GET", `/credentials${tenant ? `?tenant_id=${encodeURIComponent(tenant)}` : ""}`);
    print(r.credentials, ["tenant_id", "provider", "hint", "master_key_id", "updated_at"], opts.json);
    return 0;
  }
  if (sub === "delete") {
    const provider = need(opts.provider, "--provider");
    await api.request("DELETE", "/credentials", { tenant_id: tenant, provider });
    console.log(`credential for ${provider} deleted`);
    return 0;
  }
  if (sub === "reencrypt") {
    // After a master key rotation (a new key first in LEASH_MASTER_KEYS): rewrap every row.
    const r = await api.request<{ total: number; rewrapped: number; master_key_id: string }>("POST", "/credentials/reencrypt");
    console.log(`${r.rewrapped} of ${r.total} credentials rewrapped under master key ${r.master_key_id}`);
    return 0;
  }
  throw new Error("usage: leash credentials set --provider P [--tenant T] [--from-env VAR] | list [--tenant T] | delete --provider P [--tenant T] | reencrypt");
}

/** --retention-days: "default" (the gateway's sidecar.ledger_retention_days), "0" (forever) or days. */
function retentionDays(value: string): number | null {
  if (value === "default") return null;
  if (!/^\d{1,4}$/.test(value)) throw new Error(`--retention-days must be a number of days, 0 (forever) or "default", got ${JSON.stringify(value)}`);
  return Number(value);
}

async function policy(api: AdminClient, sub: string | undefined, opts: AdminOptions): Promise<number> {
  if (sub !== "set") {
    throw new Error("usage: leash policy set --tenant T [--providers a,b] [--models m1,m2*] [--status active|disabled] [--retention-days N|default] "
      + "[--redact email=mask,card=block,responses=off|default] [--injection block:0.7|flag|default]");
  }
  const tenant = need(opts.tenant, "--tenant");
  const body: Row = {};
  if (opts.providers !== undefined) body.allowed_providers = list(opts.providers);
  if (opts.models !== undefined) body.allowed_models = list(opts.models);
  if (opts.status !== undefined) body.status = opts.status;
  if (opts.retentionDays !== undefined) body.retention_days = retentionDays(opts.retentionDays);
  if (opts.redact !== undefined || opts.injection !== undefined) {
    // A merge patch of the guard sections only: the API merges it into the stored settings.
    body.module_settings = guardPolicyPatch(opts.redact, opts.injection);
  }
  if (Object.keys(body).length === 0) throw new Error("nothing to set: give --providers, --models, --status, --retention-days, --redact or --injection");
  await api.request("PATCH", `/tenants/${encodeURIComponent(tenant)}`, body);
  console.log(`policy of ${tenant} updated`);
  return 0;
}

/**
 * A --from/--to value as RFC 3339 for the API: a date (2026-11-01 = midnight UTC), a full RFC 3339
 * timestamp (passed on), or a duration ago (7d, 12h).
 */
export function parseWhen(text: string, nowMs: number = Date.now()): string {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return `${t}T00:00:00Z`;
  if (/^\d+[smhd]$/.test(t)) return new Date(nowMs - parseDuration(t) * 1000).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/i.test(t)) return t;
  throw new Error(`bad time ${JSON.stringify(text)}: use a date (2026-11-01), an RFC 3339 timestamp, or a duration ago (7d)`);
}

const USAGE_COLUMNS = ["requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd", "unpriced_requests", "estimated_requests", "errors"];

async function usage(api: AdminClient, opts: AdminOptions): Promise<number> {
  const now = Date.now();
  const query = new URLSearchParams({
    from: opts.from ? parseWhen(opts.from, now) : new Date(now - 30 * 86_400_000).toISOString(),
    to: opts.to ? parseWhen(opts.to, now) : new Date(now).toISOString(),
    group_by: opts.by ?? "tenant",
  });
  if (opts.tenant !== undefined) query.set("tenant_id", opts.tenant);
  if (opts.key !== undefined) query.set("key_id", opts.key);
  if (opts.provider !== undefined) query.set("provider", opts.provider);
  if (opts.model !== undefined) query.set("model", opts.model);
  const r = await api.request<{ from: string; to: string; group_by: string; rows: Row[]; totals: Row }>("GET", `/usage?${query}`);
  if (opts.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  console.log(`usage from ${r.from} to ${r.to}, by ${r.group_by}`);
  const rows = r.rows.map((row) => ({ ...row, [r.group_by]: row.group === "" ? "(none)" : row.group }));
  print([...rows, { ...r.totals, [r.group_by]: "TOTAL" }], [r.group_by, ...USAGE_COLUMNS], false);
  return 0;
}

/** A limit flag's value as the API wants it: a number, or null for "none" (remove the limit). */
export function limitValue(flag: string, text: string): number | null {
  if (text.trim().toLowerCase() === "none") return null;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) throw new Error(`--${flag}: give a number or "none", not ${JSON.stringify(text)}`);
  return n;
}

const LIMITS_USAGE =
  "usage: leash limits set --tenant T [--key KEY_ID] [--rpm N] [--tpm N] [--tpd N] [--tpmo N] [--usd-day USD] [--usd-month USD] [--on-store-failure closed|open] | show --tenant T [--key KEY_ID] | clear --tenant T [--key KEY_ID]";

async function limits(api: AdminClient, sub: string | undefined, opts: AdminOptions): Promise<number> {
  const tenant = need(opts.tenant, "--tenant");
  // A key's limits live under the key; --tenant names the owner (and is checked against it).
  const path = opts.key ? `/keys/${encodeURIComponent(opts.key)}/limits` : `/tenants/${encodeURIComponent(tenant)}/limits`;
  type View = Row & { tenant_id: string; limits: Row; usage: Row[] };
  const owned = (v: View): View => {
    if (v.tenant_id !== tenant) throw new Error(`key ${opts.key} belongs to tenant ${v.tenant_id}, not ${tenant}`);
    return v;
  };
  // Check a key's owner before changing anything.
  if (opts.key && sub !== "show") owned(await api.request<View>("GET", path));
  let view: View;
  if (sub === "set") {
    const body: Row = {};
    for (const [flag, field] of Object.entries(LIMIT_FLAGS)) {
      const v = opts.limits?.[flag as LimitFlag];
      if (v !== undefined) body[field] = limitValue(flag, v);
    }
    if (opts.onStoreFailure !== undefined) {
      if (opts.key) throw new Error("--on-store-failure is a tenant setting: leave out --key");
      body.on_store_failure = opts.onStoreFailure;
    }
    if (Object.keys(body).length === 0) throw new Error(`nothing to set\n${LIMITS_USAGE}`);
    view = await api.request("PATCH", path, body);
  } else if (sub === "clear") view = await api.request("DELETE", path);
  else if (sub === "show") view = await api.request("GET", path);
  else throw new Error(LIMITS_USAGE);
  owned(view);
  if (opts.json) {
    console.log(JSON.stringify(view, null, 2));
    return 0;
  }
  const who = opts.key ? `key ${opts.key} (tenant ${tenant})` : `tenant ${tenant}`;
  const policy = view.on_store_failure ? `; when Redis is down: ${view.on_store_failure === "open" ? "allow unmetered" : "refuse (503)"}` : "";
  if (view.usage.length === 0) {
    console.log(`${who}: no limits${policy}`);
    return 0;
  }
  console.log(`${who}${policy}`);
  print(view.usage, ["limit", "value", "used", "remaining", "resets_at"], false);
  return 0;
}

export async function adminCommand(cfg: LeashConfig, area: string, sub: string | undefined, args: string[], opts: AdminOptions): Promise<number> {
  const api = adminClient(cfg);
  if (area === "tenants") return tenants(api, sub, args, opts);
  if (area === "keys") return keys(api, sub, args, opts);
  if (area === "credentials") return credentials(api, sub, opts);
  if (area === "limits") return limits(api, sub, opts);
  if (area === "usage") {
    if (sub !== undefined) throw new Error("usage: leash usage [--tenant T] [--key KEY_ID] [--provider P] [--model M] [--from WHEN] [--to WHEN] [--by tenant|key|model|provider|day] [--json]");
    return usage(api, opts);
  }
  return policy(api, sub, opts);
}
