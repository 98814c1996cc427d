// `leash audit set|export`: a tenant's audit-trail policy, and the export of its trail as JSON
// lines (opened by the sidecar, which holds the master keys), page by page so an export of any
// size never sits in memory.
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import type { LeashConfig } from "../config/types.ts";
import { adminClient, type AdminClient } from "./admin-client.ts";
import { parseWhen } from "./admin-commands.ts";

export interface AuditOptions {
  tenant?: string;
  enabled?: string;
  retentionDays?: string;
  from?: string;
  to?: string;
  out?: string;
}

const USAGE = "usage: leash audit set --tenant T --enabled on|off [--retention-days N] | leash audit export --tenant T [--from WHEN] [--to WHEN] [--out FILE]";

function need(value: string | undefined, what: string): string {
  if (!value) throw new Error(`missing ${what}\n${USAGE}`);
  return value;
}

/**
 * Sets the given fields of the tenant's "audit" section. The API merges the patch into the stored
 * settings, so the other fields and sections stay as they are without reading them first.
 */
async function set(api: AdminClient, opts: AuditOptions): Promise<number> {
  const tenant = need(opts.tenant, "--tenant");
  const section: Record<string, unknown> = {};
  if (opts.enabled !== undefined) {
    if (opts.enabled !== "on" && opts.enabled !== "off") throw new Error("--enabled must be on or off");
    section.enabled = opts.enabled === "on";
  }
  if (opts.retentionDays !== undefined) section.retention_days = Number(opts.retentionDays);
  if (Object.keys(section).length === 0) throw new Error(`nothing to set: give --enabled or --retention-days\n${USAGE}`);
  const path = `/tenants/${encodeURIComponent(tenant)}`;
  const t = await api.request<{ module_settings?: Record<string, unknown> }>("PATCH", path, { module_settings: { audit: section } });
  console.log(`audit policy of ${tenant}: ${JSON.stringify(t.module_settings?.audit ?? {})}`);
  return 0;
}

async function write(out: WriteStream | NodeJS.WriteStream, line: string): Promise<void> {
  if (!out.write(line)) await once(out, "drain");
}

async function exportTrail(api: AdminClient, opts: AuditOptions): Promise<number> {
  const tenant = need(opts.tenant, "--tenant");
  const now = Date.now();
  const base = new URLSearchParams({
    from: opts.from ? parseWhen(opts.from, now) : new Date(now - 30 * 86_400_000).toISOString(),
    to: opts.to ? parseWhen(opts.to, now) : new Date(now).toISOString(),
  });
  const out = opts.out ? createWriteStream(opts.out, { mode: 0o600 }) : process.stdout;
  let count = 0;
  let failed = 0;
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams(base);
    if (cursor !== null) q.set("cursor", cursor);
    const page: { entries: Array<{ error?: string }>; next: string | null } = await api.request("GET", `/tenants/${encodeURIComponent(tenant)}/audit?${q}`);
    for (const e of page.entries) {
      await write(out, JSON.stringify(e) + "\n");
      count += 1;
      if (e.error) failed += 1;
    }
    cursor = page.next;
  } while (cursor !== null);
  if (out !== process.stdout) {
    (out as WriteStream).end();
    await once(out, "close");
  }
  console.error(`${count} audit entries of ${tenant} exported${failed > 0 ? `, ${failed} could not be opened (see their "error")` : ""}`);
  return failed > 0 ? 1 : 0;
}

export async function auditCommand(cfg: LeashConfig, sub: string | undefined, opts: AuditOptions): Promise<number> {
  const api = adminClient(cfg);
  if (sub === "set") return set(api, opts);
  if (sub === "export") return exportTrail(api, opts);
  throw new Error(USAGE);
}
