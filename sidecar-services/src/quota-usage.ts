// Reading quota counters back: the live buckets of a rolling minute (the TypeScript twin of the
// Lua helpers in quota-lua.ts), a scope's usage from its stored hashes, and what the admin API and
// the x-ratelimit headers show from it: used, remaining and reset per limit.
import type { LimitField, ScopeLimits } from "./quota-limits.ts";
import { calendarWindows, MINUTE_BUCKETS, secondsUntil, type ScopeUsage } from "./quota-windows.ts";

/** The live one-second buckets of a rolling minute: second → count. */
export interface MinuteBuckets {
  requests: Map<number, number>;
  tokens: Map<number, number>;
}

/** Splits a minute hash (`r<sec>`, `t<sec>` fields) into its live buckets at `nowMs`; `stale` gets expired field names. */
export function liveBuckets(fields: Record<string, string | number>, nowMs: number, stale: string[] = []): MinuteBuckets {
  const oldest = Math.floor(nowMs / 1000) - (MINUTE_BUCKETS - 1);
  const out: MinuteBuckets = { requests: new Map(), tokens: new Map() };
  for (const [f, v] of Object.entries(fields)) {
    const sec = Number(f.slice(1));
    if (!Number.isInteger(sec) || sec < oldest || (f[0] !== "r" && f[0] !== "t")) stale.push(f);
    else (f[0] === "r" ? out.requests : out.tokens).set(sec, Number(v));
  }
  return out;
}

/** Sum of the buckets and ms until the newest non-empty one leaves the window (0 = none). */
export function bucketTotal(b: Map<number, number>, nowMs: number): { total: number; resetMs: number } {
  let total = 0;
  let newest = -1;
  for (const [s, v] of b) {
    total += v;
    if (v > 0 && s > newest) newest = s;
  }
  return { total, resetMs: newest < 0 ? 0 : (newest + MINUTE_BUCKETS) * 1000 - nowMs };
}

/** Seconds until `need` units have left the rolling window, oldest first; 60 if they never can. */
export function retryRolling(b: Map<number, number>, need: number, nowMs: number): number {
  let freed = 0;
  for (const s of [...b.keys()].filter((s) => b.get(s)! > 0).sort((x, y) => x - y)) {
    freed += b.get(s)!;
    if (freed >= need) return secondsUntil((s + MINUTE_BUCKETS) * 1000, nowMs);
  }
  return MINUTE_BUCKETS;
}

/** The minute part of a ScopeUsage from a minute hash. */
export function minuteUsage(fields: Record<string, string | number>, nowMs: number): Pick<ScopeUsage, "minuteRequests" | "minuteTokens" | "minuteRequestsResetMs" | "minuteTokensResetMs"> {
  const b = liveBuckets(fields, nowMs);
  const r = bucketTotal(b.requests, nowMs);
  const t = bucketTotal(b.tokens, nowMs);
  return { minuteRequests: r.total, minuteTokens: t.total, minuteRequestsResetMs: r.resetMs, minuteTokensResetMs: t.resetMs };
}

const num = (v: string | number | null | undefined) => Number(v ?? 0) || 0;

/** A ScopeUsage from its minute part and the [req, tok, usd] of the day and month hashes. */
export function scopeUsage(minute: ReturnType<typeof minuteUsage>, day: readonly (string | number | null)[], month: readonly (string | number | null)[]): ScopeUsage {
  return {
    ...minute,
    dayRequests: num(day[0]),
    dayTokens: num(day[1]),
    dayUsdMicro: num(day[2]),
    monthRequests: num(month[0]),
    monthTokens: num(month[1]),
    monthUsdMicro: num(month[2]),
  };
}

/** One limit's state: what the admin readout lists, and what the headers pick from. */
export interface LimitState {
  limit: LimitField;
  /** In the limit's unit: requests, tokens, or micro-dollars for the budgets. */
  value: number;
  used: number;
  remaining: number;
  /** Ms until the limit is back at full value (rolling: the newest counted bucket leaves; calendar: the window ends). */
  resetMs: number;
}

/** The state of every limit `l` sets, in check order. */
export function limitStates(l: ScopeLimits, u: ScopeUsage, nowMs: number): LimitState[] {
  const w = calendarWindows(nowMs);
  const toDayEnd = w.dayEndMs - nowMs;
  const toMonthEnd = w.monthEndMs - nowMs;
  const rows: [LimitField, number, number, number][] = [
    ["rpm", l.rpm, u.minuteRequests, u.minuteRequestsResetMs],
    ["tpm", l.tpm, u.minuteTokens, u.minuteTokensResetMs],
    ["tpd", l.tpd, u.dayTokens, toDayEnd],
    ["tpmo", l.tpmo, u.monthTokens, toMonthEnd],
    ["usd_per_day", l.usdDayMicro, u.dayUsdMicro, toDayEnd],
    ["usd_per_month", l.usdMonthMicro, u.monthUsdMicro, toMonthEnd],
  ];
  return rows
    .filter(([, value]) => value > 0)
    .map(([limit, value, used, resetMs]) => ({ limit, value, used, remaining: Math.max(0, value - used), resetMs }));
}

/** x-ratelimit values of one kind: the limit with the least remaining (ties: the later reset). */
export interface HeaderLimit {
  limit: number;
  remaining: number;
  resetMs: number;
}

/** The tightest request limit (rpm) and token limit (tpm, tpd, tpmo) over the given scopes. */
export function tightest(states: readonly LimitState[]): { requests: HeaderLimit | null; tokens: HeaderLimit | null } {
  const pick = (kinds: readonly LimitField[]): HeaderLimit | null => {
    let best: LimitState | null = null;
    for (const s of states) {
      if (!kinds.includes(s.limit)) continue;
      if (!best || s.remaining < best.remaining || (s.remaining === best.remaining && s.resetMs > best.resetMs)) best = s;
    }
    return best ? { limit: best.value, remaining: best.remaining, resetMs: Math.max(0, best.resetMs) } : null;
  };
  return { requests: pick(["rpm"]), tokens: pick(["tpm", "tpd", "tpmo"]) };
}
