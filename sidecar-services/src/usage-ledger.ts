// Batched, idempotent, at-least-once writer of usage_ledger rows (migration 0003).
//
// Healthy path: record() queues the row in memory; a flush every 100 ms or 500 rows writes one
// multi-row INSERT … ON CONFLICT DO NOTHING (so replays are harmless), and record() resolves once
// its row's INSERT has committed. The RPC that carried the report is acknowledged only then, so a
// sidecar killed at any moment (SIGKILL, OOM, power loss) has acknowledged nothing it had not made
// durable: the filter still holds every unacknowledged report and sends it again.
//
// Degraded path: when a write fails (PostgreSQL down, timeout, missing partition), the failed batch
// and the whole queue move to the durable spool (usage-spool.ts), and from then on record()
// resolves only once its row is fsynced there. The spool is drained back with exponential backoff;
// after a drain pass succeeds, new rows go to memory again. The queue bound (rows beyond it are
// spooled, not dropped) and close() (whatever it cannot write goes to the spool) use the same spool,
// and a restarted sidecar drains whatever the previous one left there.
//
// Delivery guarantee (documented in docs/usage-and-metrics.md): a row whose record() resolved is
// in PostgreSQL, or in the spool and in PostgreSQL eventually, at least once (exactly once in the
// table thanks to the key), across PostgreSQL outages of any length (bounded by disk), restarts
// and crashes.
import { join } from "node:path";
import type { Queryable } from "./db.ts";
import type { Logger } from "./logger.ts";
import type { SealedAudit } from "./audit-record.ts";
import type { UsageRecord } from "./usage-report.ts";
import { plainArray, textArray } from "./pg-array.ts";
import { createUsageSpool, type UsageSpool } from "./usage-spool.ts";

/** One usage_ledger row: a validated report plus its price, and its sealed audit entry if any. */
export interface LedgerRow extends Omit<UsageRecord, "audit" | "guard_decisions" | "upstream_responded" | "reservation_id"> {
  /** USD; null when the model is not priced. */
  cost_usd: number | null;
  price_version: string;
  /** What the guard modules did; absent (rows spooled by older sidecars) reads as "". */
  guard_decisions?: string;
  /** The request's audit_log entry, already sealed (never in clear in memory queues or the spool); null or absent: none. */
  audit?: SealedAudit | null;
}

/** Counters the writer reports (wired to Prometheus by usage-metrics.ts). */
export interface UsageLedgerHooks {
  /** Rows sent to PostgreSQL in a successful INSERT: `inserted` new, the rest already present. */
  onWritten?(inserted: number, duplicates: number): void;
  /** Rows appended to the spool. */
  onSpooled?(count: number): void;
  /** Rows PostgreSQL refused as data errors (SQLSTATE class 22), which no retry can fix. */
  onDropped?(count: number): void;
  /** A write (batch or drain) failed and will be retried. */
  onWriteError?(): void;
}

/** Options of {@link createUsageLedger}. */
export interface UsageLedgerOptions extends UsageLedgerHooks {
  db: Queryable;
  log: Logger;
  /** Directory of the spool segments (the sidecar uses `<data_dir>/spool`). Required. */
  spoolDir: string;
  /** Rows per INSERT; reaching it triggers a flush. Default 500. */
  batchSize?: number;
  /** Longest time a row waits in memory before being flushed, ms. Default 100. */
  flushIntervalMs?: number;
  /** Rows held in memory at most; beyond it, rows are spooled (never dropped). Default 10000. */
  maxQueue?: number;
  /** First retry delay of the spool drain, ms; doubles per failure. Default 200. */
  retryMinMs?: number;
  /** Longest retry delay, ms. Default 5000. */
  retryMaxMs?: number;
  /** How long close() tries PostgreSQL before spooling what is left, ms. Default 3000. */
  closeTimeoutMs?: number;
}

/** Handle of the writer. */
export interface UsageLedger {
  /**
   * Takes a row. Resolves when it is safe to acknowledge: inserted (healthy) or fsynced to the
   * spool (degraded, queue full, or its batch failed). Rejects only if the spool cannot be written.
   * While neither PostgreSQL nor the disk takes it, it stays pending (the caller's deadline expires
   * and the filter sends the report again).
   */
  record(row: LedgerRow): Promise<void>;
  /** Writes the memory queue, then drains the spool once (for tests and shutdown); never throws. */
  flush(): Promise<void>;
  /** Stops timers; writes or spools everything it holds. Later record() calls go to the spool. */
  close(): Promise<void>;
  /** Current state, for metrics and tests. */
  stats(): { queued: number; degraded: boolean };
}

const COLUMNS = [
  "request_id", "tenant_id", "key_id", "provider", "api", "model", "status", "prompt_tokens",
  "completion_tokens", "cached_tokens", "cost_usd", "price_version", "streamed", "estimated",
  "duration_ms", "upstream_first_byte_ms", "started_at", "guard_decisions",
] as const;
const TYPES = [
  "text", "text", "text", "text", "text", "text", "int", "bigint", "bigint", "bigint", "numeric", "text", "bool", "bool",
  "int", "int", "timestamptz", "text",
] as const;
// unnest() turns parallel arrays into rows: one statement with 18 parameters for any batch size.
const INSERT_SQL = `INSERT INTO usage_ledger (${COLUMNS.join(", ")})
  SELECT * FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(", ")})
  ON CONFLICT DO NOTHING`;

/**
 * The 18 parameters of INSERT_SQL: one array literal per column (pg-array.ts), text columns quoted
 * where they must be, the others bare.
 */
function columnsOf(rows: readonly LedgerRow[]): string[] {
  const n = rows.length;
  const cols: (string | number | boolean | null)[][] = COLUMNS.map(() => new Array<string | number | boolean | null>(n));
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    cols[0]![i] = r.request_id;
    cols[1]![i] = r.tenant_id;
    cols[2]![i] = r.key_id;
    cols[3]![i] = r.provider;
    cols[4]![i] = r.api;
    cols[5]![i] = r.model;
    cols[6]![i] = r.status;
    cols[7]![i] = r.prompt_tokens;
    cols[8]![i] = r.completion_tokens;
    cols[9]![i] = r.cached_tokens;
    cols[10]![i] = r.cost_usd === null ? null : r.cost_usd.toFixed(9);
    cols[11]![i] = r.price_version;
    cols[12]![i] = r.streamed;
    cols[13]![i] = r.estimated;
    cols[14]![i] = r.duration_ms;
    cols[15]![i] = r.upstream_first_byte_ms;
    cols[16]![i] = new Date(r.started_at_ms).toISOString();
    cols[17]![i] = r.guard_decisions ?? "";
  }
  return cols.map((c, i) => (TYPES[i] === "text" ? textArray(c as (string | null)[]) : plainArray(c)));
}

// The audit entries of a batch, the same way: array literals from pg-array.ts (bytea arrays from
// base64 via decode()).
const AUDIT_INSERT_SQL = `INSERT INTO audit_log (request_id, tenant_id, key_id, provider, model, status, guard_decisions,
    started_at, master_key_id, nonce, auth_tag, ciphertext)
  SELECT r, t, k, p, m, s, g, a, mk, decode(n, 'base64'), decode(tg, 'base64'), decode(c, 'base64')
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[],
    $9::text[], $10::text[], $11::text[], $12::text[]) AS x(r, t, k, p, m, s, g, a, mk, n, tg, c)
  ON CONFLICT DO NOTHING`;

function auditColumnsOf(rows: readonly (LedgerRow & { audit: SealedAudit })[]): string[] {
  return [
    textArray(rows.map((r) => r.request_id)),
    textArray(rows.map((r) => r.tenant_id)),
    textArray(rows.map((r) => r.key_id)),
    textArray(rows.map((r) => r.provider)),
    textArray(rows.map((r) => r.model)),
    plainArray(rows.map((r) => r.status)),
    textArray(rows.map((r) => r.guard_decisions ?? "")),
    plainArray(rows.map((r) => new Date(r.started_at_ms).toISOString())),
    textArray(rows.map((r) => r.audit.master_key_id)),
    textArray(rows.map((r) => r.audit.nonce)),
    textArray(rows.map((r) => r.audit.auth_tag)),
    textArray(rows.map((r) => r.audit.ciphertext)),
  ];
}

/** The monthly-partitioned tables this writer fills. */
export type PartitionedTable = "usage_ledger" | "audit_log";

/** Month partition of `table` holding an epoch-ms time: name and bounds (UTC). */
export function partitionOf(ms: number, table: PartitionedTable = "usage_ledger"): { name: string; table: PartitionedTable; from: string; to: string } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return {
    name: `${table}_p${y}${String(m + 1).padStart(2, "0")}`,
    table,
    from: new Date(Date.UTC(y, m, 1)).toISOString(),
    to: new Date(Date.UTC(y, m + 1, 1)).toISOString(),
  };
}

function sqlState(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

/** A row shape check for spooled lines (written by us, but a disk can hand back anything). */
function isLedgerRow(v: unknown): v is LedgerRow {
  const r = v as Partial<LedgerRow> | null;
  return (
    typeof r === "object" && r !== null && typeof r.request_id === "string" && r.request_id !== "" &&
    typeof r.provider === "string" && typeof r.started_at_ms === "number" && typeof r.price_version === "string"
  );
}

export function createUsageLedger(opts: UsageLedgerOptions): UsageLedger {
  const batchSize = opts.batchSize ?? 500;
  const interval = opts.flushIntervalMs ?? 100;
  const maxQueue = opts.maxQueue ?? 10_000;
  const retryMin = opts.retryMinMs ?? 200;
  const retryMax = opts.retryMaxMs ?? 5000;
  const closeTimeout = opts.closeTimeoutMs ?? 3000;
  const spool: UsageSpool = createUsageSpool(opts.spoolDir);
  const log = opts.log;

  let queue: LedgerRow[] = [];
  /** record() calls waiting for their row to be made durable (by INSERT or by the spool). */
  const waiting = new Map<LedgerRow, () => void>();
  const settle = (rows: readonly LedgerRow[]) => {
    for (const r of rows) {
      const done = waiting.get(r);
      if (done) {
        waiting.delete(r);
        done();
      }
    }
  };
  /** The batch being inserted: still held so close() can spool it if the insert hangs. */
  let inflight: LedgerRow[] = [];
  let degraded = false;
  let closed = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryMin;
  let writing: Promise<void> = Promise.resolve();
  let draining: Promise<void> | null = null;
  const partitions = new Set<string>();
  /**
   * The months of the ledger partitions known to exist, as epoch-ms ranges: nearly every row falls
   * in the current month, and comparing two numbers spares partitionOf's date formatting per row.
   * Emptied with `partitions`.
   */
  const ledgerMonths: { from: number; to: number }[] = [];
  const knownLedgerMonth = (ms: number) => ledgerMonths.some((m) => ms >= m.from && ms < m.to);

  const ensurePartitions = async (rows: readonly LedgerRow[]) => {
    const wanted = new Map<string, ReturnType<typeof partitionOf>>();
    const want = (p: ReturnType<typeof partitionOf>) => {
      if (!partitions.has(p.name)) wanted.set(p.name, p);
    };
    for (const r of rows) {
      if (!knownLedgerMonth(r.started_at_ms)) want(partitionOf(r.started_at_ms));
      if (r.audit) want(partitionOf(r.started_at_ms, "audit_log"));
    }
    for (const p of wanted.values()) {
      try {
        // name and bounds are built from integers above, never from input: safe to inline (DDL takes no parameters).
        await opts.db.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF ${p.table} FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
      } catch (err) {
        // Another sidecar creating the same partition at the same moment loses with 42P07/23505;
        // anything else (database down) propagates and the batch is retried.
        const exists = await opts.db.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [p.name]).catch(() => null);
        if (!exists?.rows[0]?.t) throw err;
      }
      partitions.add(p.name);
      if (p.table === "usage_ledger") ledgerMonths.push({ from: Date.parse(p.from), to: Date.parse(p.to) });
    }
  };

  /** Inserts rows; throws on a retryable failure. Data errors (22xxx) fall back to row by row and drop only the bad rows. */
  const writeRows = async (rows: readonly LedgerRow[]) => {
    if (rows.length === 0) return;
    await ensurePartitions(rows);
    try {
      // Audit entries first: a batch whose audit insert fails is retried whole, and the ledger's
      // key absorbs the replay; the other order could leave a ledger row whose entry never lands.
      const audited = rows.filter((r): r is LedgerRow & { audit: SealedAudit } => r.audit !== null && r.audit !== undefined);
      if (audited.length > 0) await opts.db.query(AUDIT_INSERT_SQL, auditColumnsOf(audited));
      const res = await opts.db.query(INSERT_SQL, columnsOf(rows));
      opts.onWritten?.(res.rowCount, rows.length - res.rowCount);
    } catch (err) {
      if (!sqlState(err).startsWith("22") || rows.length === 1) {
        if (sqlState(err).startsWith("22")) {
          opts.onDropped?.(1);
          log.error("usage row refused by the database, dropped", { request_id: rows[0]!.request_id, error: err });
          return;
        }
        // The partition may be gone (the retention job dropped an old month): look again next time.
        partitions.clear();
        ledgerMonths.length = 0;
        throw err;
      }
      for (const row of rows) await writeRows([row]);
    }
  };

  const toSpool = async (rows: LedgerRow[]) => {
    if (rows.length === 0) return;
    await spool.append(rows);
    opts.onSpooled?.(rows.length);
    settle(rows);
  };

  const scheduleRetry = () => {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void drain();
    }, retryDelay);
    retryTimer.unref();
    retryDelay = Math.min(retryMax, retryDelay * 2);
  };

  const drainSegments = async () => {
    await spool.rotate();
    for (const seg of spool.closedSegments()) {
      const { rows, skipped } = await spool.read(seg);
      if (skipped > 0) log.warn("usage spool: unreadable lines skipped (torn write, never acknowledged)", { segment: seg, lines: skipped });
      const valid = rows.filter(isLedgerRow);
      if (valid.length !== rows.length) log.warn("usage spool: malformed rows skipped", { segment: seg, rows: rows.length - valid.length });
      for (let i = 0; i < valid.length; i += batchSize) await writeRows(valid.slice(i, i + batchSize));
      await spool.remove(seg);
      log.info("usage spool segment drained", { segment: seg, rows: valid.length });
    }
  };

  /** One drain attempt: all closed segments; on success back to the memory path, then the stragglers. */
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      try {
        await drainSegments();
        const was = degraded;
        degraded = false;
        // Rows appended while we were draining are in the segment rotate() closes now.
        await drainSegments();
        retryDelay = retryMin;
        if (was) log.info("usage ledger: PostgreSQL reachable again, spool drained");
      } catch (err) {
        degraded = true;
        opts.onWriteError?.();
        log.warn("usage ledger: spool drain failed, will retry", { retry_ms: retryDelay, error: err });
        scheduleRetry();
      } finally {
        draining = null;
      }
    })();
    return draining;
  };

  const flushQueue = (): Promise<void> => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    // Chained so batches are written one after another, never concurrently.
    writing = writing.then(async () => {
      while (queue.length > 0) {
        const batch = queue.splice(0, batchSize);
        inflight = batch;
        try {
          await writeRows(batch);
          settle(batch);
        } catch (err) {
          opts.onWriteError?.();
          const rest = [...batch, ...queue.splice(0)];
          degraded = true;
          log.warn("usage ledger write failed; spooling and retrying", { rows: rest.length, error: err });
          try {
            await toSpool(rest);
          } catch (spoolErr) {
            // Cannot reach disk either: keep the rows in memory and retry both later.
            queue.unshift(...rest);
            log.error("usage spool write failed; rows kept in memory", { rows: rest.length, error: spoolErr });
            retryTimer ??= setTimeout(() => {
              retryTimer = undefined;
              void flushQueue();
            }, retryDelay).unref();
            return;
          }
          scheduleRetry();
          return;
        } finally {
          inflight = [];
        }
      }
    });
    return writing;
  };

  // A restarted sidecar first drains what the previous one spooled.
  if (spool.closedSegments().length > 0) void drain();

  return {
    async record(row) {
      if (closed || degraded || queue.length >= maxQueue) return toSpool([row]);
      const durable = new Promise<void>((resolve) => waiting.set(row, resolve));
      queue.push(row);
      if (queue.length >= batchSize) void flushQueue();
      else if (!flushTimer) {
        flushTimer = setTimeout(() => void flushQueue(), interval);
        flushTimer.unref();
      }
      return durable;
    },
    async flush() {
      await flushQueue();
      await (draining ?? drain());
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        (async () => {
          await flushQueue();
          if (draining) await draining;
          return false;
        })(),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), closeTimeout);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        // A hanging insert may still commit later: spooling its rows too only makes a duplicate
        // that the key absorbs on the next drain.
        const rest = [...inflight, ...queue.splice(0)];
        log.warn("usage ledger: PostgreSQL too slow at shutdown; spooling", { rows: rest.length });
        await toSpool(rest);
      }
      await spool.close();
    },
    stats: () => ({ queued: queue.length + inflight.length, degraded }),
  };
}

/** `<data_dir>/spool`. */
export function spoolDirOf(dataDir: string): string {
  return join(dataDir, "spool");
}
