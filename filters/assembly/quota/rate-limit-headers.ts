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
  if (limits.hasRequestLimit) {
    out.push(REQUEST_HEADERS[0]); out.push(limits.limitRequests.toString());
    out.push(REQUEST_HEADERS[1]); out.push(limits.remainingRequests.toString());
    out.push(REQUEST_HEADERS[2]); out.push(formatResetDuration(limits.resetRequestsMs));
  }
  if (limits.hasTokenLimit) {
    out.push(TOKEN_HEADERS[0]); out.push(limits.limitTokens.toString());
    out.push(TOKEN_HEADERS[1]); out.push(limits.remainingTokens.toString());
    out.push(TOKEN_HEADERS[2]); out.push(formatResetDuration(limits.resetTokensMs));
  }
  return out;
}
