// Export of one tenant's audit trail over a time range, opened (decrypted) entry by entry: the read
// side behind `GET /admin/v1/tenants/{id}/audit` and `bin/leash audit export`. Pages through the
// table by its key in started_at order, so an export of any size holds one page in memory. An
// entry that does not open (unknown master key, altered or moved row) is exported with an `error`
// instead of bodies: the export says what is missing rather than skipping it.
import { openAudit } from "./audit-record.ts";
import type { Queryable } from "./db.ts";
import type { KeyRing } from "./master-key.ts";

/** The plain columns of an entry, as stored and as exported. */
interface AuditColumns {
  request_id: string;
  tenant_id: string;
  key_id: string;
  provider: string;
  model: string;
  status: number;
  guard_decisions: string;
}

/** One exported entry (a JSON line). */
export interface AuditExportEntry extends AuditColumns {
  started_at: string;
  request_body?: string;
  response_body?: string;
  truncated?: boolean;
  /** Why the bodies are missing: unknown_master_key | authentication_failed. */
  error?: string;
}

interface AuditRow extends AuditColumns {
  started_at: Date | string;
  master_key_id: string;
  nonce: Buffer | Uint8Array;
  auth_tag: Buffer | Uint8Array;
  ciphertext: Buffer | Uint8Array;
}

/** Largest page. */
export const MAX_AUDIT_PAGE = 500;

const PAGE_SQL = `SELECT request_id, tenant_id, key_id, provider, model, status, guard_decisions, started_at,
    master_key_id, nonce, auth_tag, ciphertext
  FROM audit_log
  WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 AND (started_at, request_id) > ($4::timestamptz, $5)
  ORDER BY started_at, request_id
  LIMIT $6`;

function iso(v: Date | string): string {
  return (v instanceof Date ? v : new Date(v)).toISOString();
}

/** Where a page ends: opaque to clients (base64url of "<started_at>|<request_id>"). */
export function encodeAuditCursor(startedAt: string, requestId: string): string {
  return Buffer.from(`${startedAt}|${requestId}`, "utf8").toString("base64url");
}

/** The cursor's position, or null when it is not one of ours. */
export function decodeAuditCursor(cursor: string): { at: string; id: string } | null {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const bar = text.indexOf("|");
  if (bar < 0) return null;
  const at = text.slice(0, bar);
  return Number.isNaN(Date.parse(at)) ? null : { at, id: text.slice(bar + 1) };
}

function entryOf(ring: KeyRing | null, r: AuditRow): AuditExportEntry {
  const entry: AuditExportEntry = {
    request_id: r.request_id,
    tenant_id: r.tenant_id,
    key_id: r.key_id,
    provider: r.provider,
    model: r.model,
    status: Number(r.status),
    guard_decisions: r.guard_decisions,
    started_at: iso(r.started_at),
  };
  if (!ring) {
    entry.error = "unknown_master_key";
    return entry;
  }
  const opened = openAudit(ring, r.tenant_id, r.request_id, {
    master_key_id: r.master_key_id,
    nonce: Buffer.from(r.nonce),
    auth_tag: Buffer.from(r.auth_tag),
    ciphertext: Buffer.from(r.ciphertext),
  });
  if ("error" in opened) entry.error = opened.error;
  else Object.assign(entry, opened);
  return entry;
}

/** One page of `tenantId`'s entries with from <= started_at < to, oldest first, after `cursor`. */
export async function readAuditPage(
  db: Queryable,
  ring: KeyRing | null,
  q: { tenantId: string; from: Date; to: Date; cursor: { at: string; id: string } | null; limit: number },
): Promise<{ entries: AuditExportEntry[]; next: string | null }> {
  const after = q.cursor ?? { at: new Date(0).toISOString(), id: "" };
  const limit = Math.max(1, Math.min(MAX_AUDIT_PAGE, q.limit));
  const page = await db.query<AuditRow>(PAGE_SQL, [q.tenantId, q.from.toISOString(), q.to.toISOString(), after.at, after.id, limit]);
  const entries = page.rows.map((r) => entryOf(ring, r));
  const last = entries[entries.length - 1];
  return { entries, next: entries.length === limit && last ? encodeAuditCursor(last.started_at, last.request_id) : null };
}

/** Every entry of `tenantId` with from <= started_at < to, oldest first, a page at a time. */
export async function* exportAudit(db: Queryable, ring: KeyRing | null, tenantId: string, from: Date, to: Date): AsyncGenerator<AuditExportEntry> {
  let cursor: { at: string; id: string } | null = null;
  for (;;) {
    const page = await readAuditPage(db, ring, { tenantId, from, to, cursor, limit: MAX_AUDIT_PAGE });
    yield* page.entries;
    if (page.next === null) return;
    cursor = decodeAuditCursor(page.next);
  }
}
