// Asynchronous, batched writer of request_log rows (one per Authorize decision). Recording never
// waits on the database: rows queue in memory and are flushed in one INSERT per batch, so a slow
// or unavailable database costs log rows (counted), never request latency.
import type { Queryable } from "./db.ts";
import type { Logger } from "./logger.ts";

/** One request_log row. Values come from untrusted input and are sanitized on record(). */
export interface RequestLogEntry {
  request_id: string;
  tenant_id: string | null;
  key_id: string | null;
  provider: string;
  /** "ALLOW" or "DENY". */
  decision: string;
  /** Registry code on DENY, null on ALLOW. */
  code: string | null;
}

/** Options of {@link createRequestLog}. */
export interface RequestLogOptions {
  db: Queryable;
  log: Logger;
  /** Rows per INSERT; reaching it triggers a flush. Default 200. */
  batchSize?: number;
  /** Longest time a row waits before being flushed, ms. Default 250. */
  flushIntervalMs?: number;
  /** Queue bound; rows beyond it are dropped. Default 10000. */
  maxQueue?: number;
  /** Called with the number of rows dropped. */
  onDrop?: (count: number) => void;
}

/** Handle of the writer. */
export interface RequestLog {
  /** Queues a row; returns immediately. */
  record(entry: RequestLogEntry): void;
  /** Writes everything queued so far (also waits for a flush already running). */
  flush(): Promise<void>;
  /** Flushes and stops the timer; later record() calls are dropped. */
  close(): Promise<void>;
}

/** Client-controlled strings are capped so one hostile request cannot bloat the table. */
const MAX_FIELD_LENGTH = 128;

/** Postgres text cannot hold NUL, and a single bad row would fail the whole batch. */
function clean(value: string | null): string | null {
  if (value === null) return null;
  const s = value.replace(/\u0000/g, "");
  return s.length > MAX_FIELD_LENGTH ? s.slice(0, MAX_FIELD_LENGTH) : s;
}

export function createRequestLog(opts: RequestLogOptions): RequestLog {
  const batchSize = opts.batchSize ?? 200;
  const interval = opts.flushIntervalMs ?? 250;
  const maxQueue = opts.maxQueue ?? 10_000;
  let queue: RequestLogEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const drop = (count: number) => {
    if (count > 0) opts.onDrop?.(count);
  };

  const writeBatch = async (batch: RequestLogEntry[]) => {
    const col = (f: keyof RequestLogEntry) => batch.map((e) => e[f]);
    try {
      // unnest() turns six parallel arrays into rows: one statement and six parameters for any
      // batch size, instead of a VALUES list whose parameter count grows with the batch.
      await opts.db.query(
        `INSERT INTO request_log (request_id, tenant_id, key_id, provider, decision, code)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
        [col("request_id"), col("tenant_id"), col("key_id"), col("provider"), col("decision"), col("code")],
      );
      const used = [...new Set(batch.filter((e) => e.decision === "ALLOW" && e.key_id).map((e) => e.key_id))];
      if (used.length > 0) {
        // Done here rather than per request: one UPDATE per batch keeps last_used_at cheap.
        await opts.db.query("UPDATE api_keys SET last_used_at = now() WHERE key_id = ANY($1::text[])", [used]);
      }
    } catch (err) {
      drop(batch.length);
      opts.log.warn("request_log write failed", { rows: batch.length, error: err });
    }
  };

  const flush = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    // Chained so batches are written one after another, in order, never concurrently.
    running = running.then(async () => {
      while (queue.length > 0) {
        const batch = queue.slice(0, batchSize);
        queue = queue.slice(batch.length);
        await writeBatch(batch);
      }
    });
    return running;
  };

  return {
    record(entry) {
      if (closed || queue.length >= maxQueue) {
        drop(1);
        return;
      }
      queue.push({
        request_id: clean(entry.request_id) ?? "",
        tenant_id: clean(entry.tenant_id),
        key_id: clean(entry.key_id),
        provider: clean(entry.provider) ?? "",
        decision: entry.decision,
        code: entry.code,
      });
      if (queue.length >= batchSize) void flush();
      else if (!timer) {
        timer = setTimeout(() => void flush(), interval);
        // A pending log flush must not keep a stopping process alive; close() flushes explicitly.
        timer.unref();
      }
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
}
