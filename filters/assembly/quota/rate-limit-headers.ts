// OpenAI's rate-limit response headers (x-ratelimit-{limit,remaining,reset}-{requests,tokens}),
// which OpenAI clients and most other SDKs already read, filled from the quota answer.
import { RateLimits } from "./reserve-pb";

export const REQUEST_HEADERS: Array<string> = ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"];
export const TOKEN_HEADERS: Array<string> = ["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"];

/**
 * A duration the way OpenAI writes x-ratelimit-reset-* (Go's time.Duration format, to the
 * millisecond): "0s", "250ms", "1s", "1.5s", "6m0s", "1h2m3s".
 */
export function formatResetDuration(ms: u64): string {
  if (ms == 0) return "0s";
  if (ms < 1000) return ms.toString() + "ms";
  const hours = ms / 3_600_000;
  const minutes = (ms / 60_000) % 60;
  const seconds = (ms / 1000) % 60;
  const millis = ms % 1000;
  let out = "";
  if (hours > 0) out += hours.toString() + "h";
  if (hours > 0 || minutes > 0) out += minutes.toString() + "m";
  out += seconds.toString();
  if (millis > 0) {
    // Three digits, trailing zeros dropped: 500 → ".5", 50 → ".05", 5 → ".005".
    let frac = (1000 + millis).toString().substring(1);
    while (frac.endsWith("0")) frac = frac.substring(0, frac.length - 1);
    out += "." + frac;
  }
  return out + "s";
}

/** The headers for `limits` as flat [name, value, ...]: three per kind of limit the answer has. */
export function rateLimitHeaders(limits: RateLimits): Array<string> {
  const out = new Array<string>(0);
  if (limits.hasRequestLimit) pushKind(out, REQUEST_HEADERS, limits.limitRequests, limits.remainingRequests, formatResetDuration(limits.resetRequestsMs));
  if (limits.hasTokenLimit) pushKind(out, TOKEN_HEADERS, limits.limitTokens, limits.remainingTokens, formatResetDuration(limits.resetTokensMs));
  return out;
}

/** Appends one kind's three headers (`names`: limit, remaining, reset) to flat [name, value, ...]. */
function pushKind(out: Array<string>, names: Array<string>, limit: u64, remaining: u64, reset: string): void {
  out.push(names[0]); out.push(limit.toString());
  out.push(names[1]); out.push(remaining.toString());
  out.push(names[2]); out.push(reset);
}

// Anthropic's own names for the same figures, sent on Anthropic routes beside OpenAI's (clients of
// either API find what they read). Their reset is a point in time, RFC 3339 in UTC.
export const ANTHROPIC_REQUEST_HEADERS: Array<string> = ["anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset"];
export const ANTHROPIC_TOKEN_HEADERS: Array<string> = ["anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset"];

function pad2(n: i64): string { return n < 10 ? "0" + n.toString() : n.toString(); }

/** `epochMs` as an RFC 3339 UTC timestamp to the second, e.g. "2026-11-26T16:40:05Z" (proleptic Gregorian). */
export function formatRfc3339(epochMs: u64): string {
  const secs = <i64>(epochMs / 1000);
  const days = secs / 86400;
  const rem = secs % 86400;
  // Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil, inverted).
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year.toString() + "-" + pad2(month) + "-" + pad2(day) + "T" +
    pad2(rem / 3600) + ":" + pad2((rem / 60) % 60) + ":" + pad2(rem % 60) + "Z";
}

/**
 * Anthropic's anthropic-ratelimit-* headers for `limits` at `nowMs`, as flat [name, value, ...]:
 * three per kind of limit. The reset instant is rounded up to the second, so it is never earlier
 * than the moment the remaining is back at the limit.
 */
export function anthropicRateLimitHeaders(limits: RateLimits, nowMs: u64): Array<string> {
  const out = new Array<string>(0);
  if (limits.hasRequestLimit) pushKind(out, ANTHROPIC_REQUEST_HEADERS, limits.limitRequests, limits.remainingRequests, formatRfc3339(ceilSecond(nowMs + limits.resetRequestsMs)));
  if (limits.hasTokenLimit) pushKind(out, ANTHROPIC_TOKEN_HEADERS, limits.limitTokens, limits.remainingTokens, formatRfc3339(ceilSecond(nowMs + limits.resetTokensMs)));
  return out;
}

function ceilSecond(ms: u64): u64 { return (ms + 999) / 1000 * 1000; }
