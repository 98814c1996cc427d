// When the slow requests of an open-loop run happened (bench/timeline.ts). Requests are placed by
// their *scheduled* index, so request i belongs to second floor(i / rate) and to scheduled time
// i / rate, whenever its answer came: a stall shows where it began, not where it was noticed.

/** One run's requests by scheduled index. */
export interface Timeline {
  /** Requests per second of the run. */
  rate: number;
  /** Latency of request i in ms; NaN when it failed or was never sent. */
  latencyMs: Float64Array;
  /** 1 when request i failed (any error kind), else 0. */
  failed: Uint8Array;
}

export interface SecondRow {
  /** Seconds since the first scheduled request. */
  second: number;
  /** Requests of this second that got an answer or an error. */
  requests: number;
  /** Answered requests slower than the threshold. */
  slow: number;
  errors: number;
  /** Slowest answered request of this second in ms (0 when none). */
  maxMs: number;
}

/** A run of slow requests: each scheduled less than the gap after the one before. */
export interface Episode {
  /** Scheduled time of its first slow request, ms since the first scheduled request. */
  startMs: number;
  /** From its first slow request's scheduled time to its last's. */
  spanMs: number;
  /** Slow requests in it. */
  requests: number;
  maxMs: number;
  /** From the previous episode's start (null for the first): evenly spaced episodes are a periodic stall. */
  sincePreviousMs: number | null;
}

export function perSecond(t: Timeline, slowMs: number): SecondRow[] {
  const rows: SecondRow[] = [];
  for (let i = 0; i < t.latencyMs.length; i++) {
    const second: number = Math.floor(i / t.rate);
    while (rows.length <= second) rows.push({ second: rows.length, requests: 0, slow: 0, errors: 0, maxMs: 0 });
    const row: SecondRow = rows[second];
    const latency: number = t.latencyMs[i];
    if (t.failed[i] === 1) {
      row.requests += 1;
      row.errors += 1;
    } else if (!Number.isNaN(latency)) {
      row.requests += 1;
      if (latency > slowMs) row.slow += 1;
      row.maxMs = Math.max(row.maxMs, latency);
    }
  }
  return rows;
}

/** Slow answered requests grouped into episodes; failed requests neither start nor end one. */
export function episodes(t: Timeline, slowMs: number, gapMs: number): Episode[] {
  const intervalMs: number = 1000 / t.rate;
  const list: Episode[] = [];
  let lastSlowAt: number = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < t.latencyMs.length; i++) {
    const latency: number = t.latencyMs[i];
    if (!(latency > slowMs)) continue;
    const at: number = i * intervalMs;
    const current: Episode | undefined = list.at(-1);
    if (current !== undefined && at - lastSlowAt < gapMs) {
      current.spanMs = at - current.startMs;
      current.requests += 1;
      current.maxMs = Math.max(current.maxMs, latency);
    } else {
      list.push({ startMs: at, spanMs: 0, requests: 1, maxMs: latency, sincePreviousMs: current === undefined ? null : at - current.startMs });
    }
    lastSlowAt = at;
  }
  return list;
}
