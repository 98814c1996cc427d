// Retention of the usage ledger (and, in the same job, of the audit trail: audit-retention.ts): deletes each tenant's rows older than its retention (tenant column
// retention_days; NULL = the gateway default sidecar.ledger_retention_days; 0 = forever), and drops
// whole monthly partitions once they are older than the longest retention in force, which is how
// the bulk of old data leaves (a DROP TABLE instead of a huge DELETE).
//
// Every sidecar replica runs the job on a timer, but a PostgreSQL advisory lock lets only one of
// them work at a time; the others skip that round. The lock is transaction-scoped, so a crashed
// replica never leaves it held. Keyed by the schema the ledger lives in: sidecars of different
// ledgers on one server never block each other.
import { Counter, type Registry } from "prom-client";
import type { Db, Queryable } from "./db.ts";
import type { Logger } from "./logger.ts";
import { runAuditRetention } from "./audit-retention.ts";

const DAY_MS = 86_400_000;
/** First half of the advisory lock key ("lret" in ASCII); the second is the schema's hash. */
const RETENTION_LOCK_CLASS = 0x6c726574;
const PARTITION_NAME = /^(?:usage_ledger|audit_log)_p(\d{4})(\d{2})$/;
/** How long a partition drop may wait for the ledger writer's locks before the drops wait for the next run. */
const DROP_LOCK_TIMEOUT = "2s";

/** What one run did. */
export interface RetentionResult {
  /** False when another replica held the lock (nothing was done). */
  ran: boolean;
  deletedRows: number;
  /** Names of the partitions dropped. */
  droppedPartitions: string[];
}

/** Options of {@link runLedgerRetention}. */
export interface LedgerRetentionOptions {
  db: Db;
  /** sidecar.ledger_retention_days: for tenants without their own (and rows of unknown tenants). 0 = forever. */
  defaultDays: number;
  /** Epoch ms. */
  now: number;
  log: Logger;
}

/** The upper bound (exclusive, epoch ms) of a monthly partition, from its name; null if not one of ours. */
export function partitionEndMs(name: string): number | null {
  const m = PARTITION_NAME.exec(name);
  if (!m) return null;
  // Month index m[2] (1-based) is the next month's 0-based index.
  return Date.UTC(Number(m[1]), Number(m[2]), 1);
}

async function deleteExpiredRows(tx: Queryable, explicit: Array<{ id: string; days: number }>, defaultDays: number, now: number): Promise<number> {
  let deleted = 0;
  for (const t of explicit) {
    if (t.days === 0) continue;
    const res = await tx.query("DELETE FROM usage_ledger WHERE tenant_id = $1 AND started_at < $2", [t.id, new Date(now - t.days * DAY_MS).toISOString()]);
    deleted += res.rowCount;
  }
  if (defaultDays > 0) {
    // Everyone else: tenants on the default, deleted tenants, refused requests (tenant_id '').
    const res = await tx.query(
      `DELETE FROM usage_ledger WHERE started_at < $1
         AND tenant_id NOT IN (SELECT id FROM tenants WHERE retention_days IS NOT NULL)`,
      [new Date(now - defaultDays * DAY_MS).toISOString()],
    );
    deleted += res.rowCount;
  }
  return deleted;
}

/** Drops the monthly partitions of `table` that end at or before `cutoffMs`; returns their names. */
export async function dropOldPartitions(tx: Queryable, table: "usage_ledger" | "audit_log", cutoffMs: number, log: Logger): Promise<string[]> {
  // `table` is one of two literals: safe to inline.
  const parts = await tx.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.inhparent = '${table}'::regclass`,
  );
  const dropped: string[] = [];
  for (const p of parts.rows) {
    const end = partitionEndMs(p.name);
    if (end === null || end > cutoffMs) continue;
    // Dropping a partition locks the parent briefly; bounded, and undone alone if it cannot get it.
    await tx.query("SAVEPOINT retention_drop");
    try {
      await tx.query(`SET LOCAL lock_timeout = '${DROP_LOCK_TIMEOUT}'`);
      // Both names come from the catalog and the name matched PARTITION_NAME; quoted anyway.
      await tx.query(`DROP TABLE "${p.schema.replaceAll('"', '""')}"."${p.name}"`);
      await tx.query("RELEASE SAVEPOINT retention_drop");
      dropped.push(p.name);
    } catch (err) {
      await tx.query("ROLLBACK TO SAVEPOINT retention_drop");
      log.warn("retention: partition not dropped this time", { partition: p.name, error: err });
    }
  }
  return dropped;
}

/** One retention run, in one transaction under the advisory lock. */
export async function runLedgerRetention(opts: LedgerRetentionOptions): Promise<RetentionResult> {
  return opts.db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>(
      "SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema())) AS ok",
      [RETENTION_LOCK_CLASS],
    );
    if (!lock.rows[0]?.ok) return { ran: false, deletedRows: 0, droppedPartitions: [] };
    const res = await tx.query<{ id: string; retention_days: number }>("SELECT id, retention_days FROM tenants WHERE retention_days IS NOT NULL");
    const explicit = res.rows.map((r) => ({ id: r.id, days: Number(r.retention_days) }));
    const deletedRows = await deleteExpiredRows(tx, explicit, opts.defaultDays, opts.now);
    // A partition may go only when no row in it could still be kept: every retention is finite and
    // the partition ends before the longest one's cutoff.
    const forever = opts.defaultDays === 0 || explicit.some((t) => t.days === 0);
    const longest = Math.max(opts.defaultDays, ...explicit.map((t) => t.days));
    const droppedPartitions = forever ? [] : await dropOldPartitions(tx, "usage_ledger", opts.now - longest * DAY_MS, opts.log);
    return { ran: true, deletedRows, droppedPartitions };
  });
}

/** Options of {@link startLedgerRetention}. */
export interface RetentionJobOptions {
  db: Db;
  defaultDays: number;
  /** Seconds between runs; 0 = the job never runs. */
  intervalS: number;
  registry: Registry;
  log: Logger;
  /** Epoch ms clock. Default Date.now. */
  now?: () => number;
}

/** A running retention timer. */
export interface RetentionJob {
  /** Runs once now (unless a run is in progress, which is then awaited). */
  runNow(): Promise<RetentionResult | null>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** Delay of the first run: not during start-up, not later than one interval. */
const FIRST_RUN_MAX_MS = 60_000;

export function startLedgerRetention(opts: RetentionJobOptions): RetentionJob {
  const now = opts.now ?? Date.now;
  const registers = [opts.registry];
  const runs = new Counter({
    name: "leash_ledger_retention_runs_total",
    help: "Ledger retention runs: ran, skipped (another replica held the lock), failed.",
    labelNames: ["result"],
    registers,
  });
  const rows = new Counter({ name: "leash_ledger_retention_rows_deleted_total", help: "Usage ledger rows deleted by retention.", registers });
  const partitions = new Counter({ name: "leash_ledger_retention_partitions_dropped_total", help: "Monthly usage ledger partitions dropped by retention.", registers });
  const auditRows = new Counter({ name: "leash_audit_retention_rows_deleted_total", help: "Audit-trail entries deleted by retention.", registers });
  const auditPartitions = new Counter({ name: "leash_audit_retention_partitions_dropped_total", help: "Monthly audit_log partitions dropped by retention.", registers });
  let running: Promise<RetentionResult | null> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const run = (): Promise<RetentionResult | null> => {
    if (running) return running;
    const at = now();
    running = runLedgerRetention({ db: opts.db, defaultDays: opts.defaultDays, now: at, log: opts.log }).then(
      async (r) => {
        // The audit trail's own retention (audit-retention.ts), in the same run.
        const a = await runAuditRetention({ db: opts.db, now: at, log: opts.log });
        auditRows.inc(a.deletedRows);
        auditPartitions.inc(a.droppedPartitions.length);
        if (a.deletedRows > 0 || a.droppedPartitions.length > 0) {
          opts.log.info("audit retention", { deleted_rows: a.deletedRows, dropped_partitions: a.droppedPartitions });
        }
        runs.inc({ result: r.ran ? "ran" : "skipped" });
        rows.inc(r.deletedRows);
        partitions.inc(r.droppedPartitions.length);
        if (r.deletedRows > 0 || r.droppedPartitions.length > 0) {
          opts.log.info("ledger retention", { deleted_rows: r.deletedRows, dropped_partitions: r.droppedPartitions });
        }
        return r;
      },
      (err: unknown) => {
        runs.inc({ result: "failed" });
        opts.log.warn("ledger retention failed; next run retries", { error: err });
        return null;
      },
    ).finally(() => {
      running = null;
    });
    return running;
  };

  if (opts.intervalS > 0) {
    const intervalMs = opts.intervalS * 1000;
    timer = setTimeout(function tick() {
      void run().finally(() => {
        if (stopped) return;
        timer = setTimeout(tick, intervalMs);
        timer.unref();
      });
    }, Math.min(intervalMs, FIRST_RUN_MAX_MS));
    timer.unref();
  }

  return {
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
