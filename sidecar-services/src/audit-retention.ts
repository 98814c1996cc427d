// Retention of the audit trail: each tenant's entries are kept for its policy's retention_days
// (audit-policy.ts; DEFAULT_AUDIT_RETENTION_DAYS for tenants without one, and for entries of
// deleted tenants), then deleted; whole monthly partitions entirely older than the longest
// retention in force are dropped (cheap, and it returns the disk space a DELETE would not).
//
// Replicas share the database: a pass runs under a session advisory lock taken with
// pg_try_advisory_lock, so one replica works while the others skip that round.
import type { Db } from "./db.ts";
import { auditPolicyOf, DEFAULT_AUDIT_RETENTION_DAYS } from "./audit-policy.ts";
import type { Logger } from "./logger.ts";

/** "leash" + "aud" in ASCII: fixed, distinct from the migration lock. */
const RETENTION_LOCK_ID = 0x6c656173617564n;
const DAY_MS = 86_400_000;

export interface AuditRetentionResult {
  /** False when another replica held the lock (nothing done). */
  ran: boolean;
  deletedRows: number;
  droppedPartitions: string[];
}

/** One retention pass at time `now` (epoch ms). */
export async function enforceAuditRetention(db: Db, now: number): Promise<AuditRetentionResult> {
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock($1) AS ok", [RETENTION_LOCK_ID.toString()]);
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
    const droppedPartitions = await dropOldPartitions(tx, now - longest * DAY_MS);
    return { ran: true, deletedRows, droppedPartitions };
  });
}

/** Drops audit_log partitions whose whole range ends at or before `cutoff` (epoch ms). */
async function dropOldPartitions(tx: Pick<Db, "query" | "exec">, cutoff: number): Promise<string[]> {
  const parts = await tx.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'audit_log' AND p.relnamespace = c.relnamespace`,
  );
  const dropped: string[] = [];
  for (const { name } of parts.rows) {
    const m = /^audit_log_p(\d{4})(\d{2})$/.exec(name);
    if (!m) continue;
    const end = Date.UTC(Number(m[1]), Number(m[2]), 1); // first day of the next month
    if (end > cutoff) continue;
    // The name matched the pattern above: safe to inline (DDL takes no parameters).
    await tx.exec(`DROP TABLE IF EXISTS ${name}`);
    dropped.push(name);
  }
  return dropped;
}

/** Runs enforceAuditRetention every `intervalMs` (first pass right away); returns a stopper. */
export function startAuditRetention(db: Db, log: Logger, intervalMs: number, now: () => number = Date.now): () => void {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      const r = await enforceAuditRetention(db, now());
      if (r.ran && (r.deletedRows > 0 || r.droppedPartitions.length > 0)) {
        log.info("audit retention", { deleted_rows: r.deletedRows, dropped_partitions: r.droppedPartitions });
      }
    } catch (err) {
      log.warn("audit retention pass failed; next pass retries", { error: err });
    } finally {
      running = false;
    }
  };
  void pass();
  const timer = setInterval(() => void pass(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
