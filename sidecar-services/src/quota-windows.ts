// Window arithmetic of the quota counters, shared by both stores and by the readouts.
//
// Minute limits (rpm, tpm) are rolling: 60 one-second buckets. A bucket stamped with second s
// (floor(epoch ms / 1000)) counts from s·1000 ms until (s + 60)·1000 ms, so at any instant the
// window is the last 60 whole seconds including the current one: a burst can never meet a calendar
// minute boundary and get twice the limit. Day and month limits are calendar windows in UTC:
// [00:00:00.000, next 00:00) and [the 1st 00:00, the next month's 1st 00:00).

/** Seconds a minute bucket is counted. */
export const MINUTE_BUCKETS = 60;

/** The calendar windows around an instant. */
export interface CalendarWindows {
  /** "YYYYMMDD" (UTC) — part of the day counter's key. */
  day: string;
  /** "YYYYMM" (UTC). */
  month: string;
  /** Epoch ms of the next UTC midnight / the next month's first midnight. */
  dayEndMs: number;
  monthEndMs: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The UTC day and month containing `nowMs`. */
export function calendarWindows(nowMs: number): CalendarWindows {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  return {
    day: `${pad(y, 4)}${pad(m + 1, 2)}${pad(day, 2)}`,
    month: `${pad(y, 4)}${pad(m + 1, 2)}`,
    dayEndMs: Date.UTC(y, m, day + 1),
    monthEndMs: Date.UTC(y, m + 1, 1),
  };
}

/** Whole seconds from `nowMs` until `untilMs`, rounded up (a Retry-After value). */
export function secondsUntil(untilMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((untilMs - nowMs) / 1000));
}

/**
 * One scope's counters at an instant (after the reservation, when it comes from Reserve). Minute
 * values are sums over the live buckets; *ResetMs is how long until every counted minute bucket
 * has expired (0 = none counted).
 */
export interface ScopeUsage {
  minuteRequests: number;
  minuteTokens: number;
  minuteRequestsResetMs: number;
  minuteTokensResetMs: number;
  dayRequests: number;
  dayTokens: number;
  dayUsdMicro: number;
  monthRequests: number;
  monthTokens: number;
  monthUsdMicro: number;
}

export const EMPTY_USAGE: ScopeUsage = {
  minuteRequests: 0,
  minuteTokens: 0,
  minuteRequestsResetMs: 0,
  minuteTokensResetMs: 0,
  dayRequests: 0,
  dayTokens: 0,
  dayUsdMicro: 0,
  monthRequests: 0,
  monthTokens: 0,
  monthUsdMicro: 0,
};

/** The order of the numbers a store returns per scope (the Lua script's reply layout). */
export const USAGE_FIELDS = [
  "minuteRequests",
  "minuteTokens",
  "minuteRequestsResetMs",
  "minuteTokensResetMs",
  "dayRequests",
  "dayTokens",
  "dayUsdMicro",
  "monthRequests",
  "monthTokens",
  "monthUsdMicro",
] as const satisfies readonly (keyof ScopeUsage)[];

/** ScopeUsage from the numbers of a reply, in USAGE_FIELDS order. */
export function usageFromList(values: readonly number[]): ScopeUsage {
  const u = { ...EMPTY_USAGE };
  USAGE_FIELDS.forEach((f, i) => (u[f] = Number(values[i] ?? 0)));
  return u;
}
