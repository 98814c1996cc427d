// Retention of the audit trail: each tenant's entries are kept for its policy's retention_days
// (audit-policy.ts; DEFAULT_AUDIT_RETENTION_DAYS for tenants without one, and for entries of
// deleted tenants), then deleted; whole monthly partitions entirely older than the longest
// retention in force are dropped (cheap, and it returns the disk space a DELETE would not).
// Runs inside the ledger retention job (ledger-retention.ts), under its own advisory lock so that
// one replica at a time does it.
import type { Db } from "./db.ts";
import { auditPolicyOf, DEFAULT_AUDIT_RETENTION_DAYS } from "./audit-policy.ts";
import { dropOldPartitions, type RetentionResult } from "./ledger-retention.ts";
import type { Logger } from "./logger.ts";

/** First half of the advisory lock key ("laud" in ASCII); the second is the schema's hash. */
const AUDIT_LOCK_CLASS = 0x6c617564;
const DAY_MS = 86_400_000;

/** One audit retention pass at `now` (epoch ms), in one transaction. */
export async function runAuditRetention(opts: { db: Db; now: number; log: Logger }): Promise<RetentionResult> {
  const { now } = opts;
  return opts.db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema())) AS ok", [AUDIT_LOCK_CLASS]);
    if (!lock.rows[0]?.ok) return { ran: false, deletedRows: 0, droppedPartitions: [] };
    const tenants = await tx.query<{ id: string; module_settings: Record<string, unknown> | string }>("SELECT id, module_settings FROM tenants");
    let longest = DEFAULT_AUDIT_RETENTION_DAYS;
    let deletedRows = 0;
    const ids: string[] = [];
    for (const t of tenants.rows) {
      const settings = typeof t.module_settings === "string" ? (JSON.parse(t.module_settings) as Record<string, unknown>) : t.module_settings;
      const days = auditPolicyOf(settings).retentionDays;
      longest = Math.max(longest, days);
      ids.push(t.id);
      const del = await tx.query("DELETE FROM audit_log WHERE tenant_id = $1 AND started_at < $2", [t.id, new Date(now - days * DAY_MS).toISOString()]);
      deletedRows += del.rowCount;
    }
    // Entries of tenants that no longer exist: the default retention.
    const orphans = await tx.query("DELETE FROM audit_log WHERE NOT (tenant_id = ANY($1::text[])) AND started_at < $2", [
      ids,
      new Date(now - DEFAULT_AUDIT_RETENTION_DAYS * DAY_MS).toISOString(),
    ]);
    deletedRows += orphans.rowCount;
    const droppedPartitions = await dropOldPartitions(tx, "audit_log", now - longest * DAY_MS, opts.log);
    return { ran: true, deletedRows, droppedPartitions };
  });
}
