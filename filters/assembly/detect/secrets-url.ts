// Secrets inside URLs: the password of scheme://user:PASSWORD@host (only the password is the
// finding: the rest of a connection string is useful context for the model), and Slack incoming
// webhooks (https://hooks.slack.com/services/T…/B…/…, the whole URL is the credential).

import { EntityKind, Finding } from "./finding";
import { codeAt, findLit } from "./text-at";
import { isAlnum, isSpace, isQuote, lower, hasAt, hasAtNoCase, isPrefixOf } from "./secrets-chars";
import { isPlaceholderValue } from "./secrets-placeholder";
import { looksRandom } from "./entropy";

// Schemes whose URLs carry credentials in practice. A known list (rather than any scheme) keeps
// the streaming hold-back tight: only words that can still become one of these are held.
const SCHEMES: Array<string> = [
  "postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss",
  "amqp", "amqps", "mssql", "sqlserver", "oracle", "clickhouse", "cockroachdb", "couchdb",
  "neo4j", "neo4j+s", "bolt", "memcached", "nats", "kafka", "mqtt", "mqtts", "snowflake",
  "ftp", "ftps", "sftp", "smtp", "smtps", "imap", "imaps", "pop3", "ldap", "ldaps",
  "http", "https", "ws", "wss",
];
const MAX_SCHEME: i32 = 16;
const MAX_DRIVER: i32 = 24; // "+psycopg2", "+mysqlconnector"…
/** An authority (user:password@host:port) longer than this is not a credential we handle. */
export const MAX_AUTHORITY: i32 = 256;

function isSchemeChar(c: i32): bool { return isAlnum(c) || c == 0x2b || c == 0x2e || c == 0x2d; }

// Ends the authority part: path, query, whitespace, quotes, markup, JSON escapes. Not '#': RFC 3986
// says it starts a fragment, but unencoded '#' in pasted passwords is common and a fragment right
// after a host is rare, so stopping there would cut passwords short and leak their tail.
function endsAuthority(c: i32): bool {
  return c == 0x2f || c == 0x3f || isSpace(c) || isQuote(c) || c == 0x3c || c == 0x3e || c == 0x5c;
}

/** Start of the known scheme ending at e (text[e..] is "://"), or -1. A "+driver" suffix
 *  (SQLAlchemy's postgresql+psycopg2, mysql+pymysql) is accepted after a known scheme. */
function schemeStart(text: string, e: i32): i32 {
  let s = e;
  while (s > 0 && e - s < MAX_SCHEME + MAX_DRIVER && isSchemeChar(codeAt(text, s - 1))) s--;
  // Shrink from the left so "jdbc:postgresql" and "x.postgres" still find the scheme at their end.
  for (let t = s; t < e; t++) {
    if (t > 0 && isAlnum(codeAt(text, t - 1))) continue;
    for (let i = 0; i < SCHEMES.length; i++) {
      const sc = SCHEMES[i];
      if (!hasAtNoCase(text, t, sc)) continue;
      const after = t + sc.length;
      if (after == e || (after < e && codeAt(text, after) == 0x2b && e - after <= MAX_DRIVER)) return t;
    }
  }
  return -1;
}

/** End of the authority starting at a (bounded by MAX_AUTHORITY + 1). */
function authorityEnd(text: string, a: i32): i32 {
  let k = a;
  while (k < text.length && k - a <= MAX_AUTHORITY && !endsAuthority(codeAt(text, k))) k++;
  return k;
}

export function scanConnectionPasswords(text: string, out: Array<Finding>): void {
  let pos = 0;
  while (pos < text.length) {
    const i = findLit(text, "://", pos);
    if (i < 0) return;
    const a = i + 3;
    pos = a;
    if (schemeStart(text, i) < 0) continue;
    const k = authorityEnd(text, a);
    pos = k;
    if (k - a > MAX_AUTHORITY) continue;
    // The last '@' ends the user info: unencoded '@' in passwords is common in the wild.
    let at = -1;
    for (let j = k - 1; j >= a; j--) if (codeAt(text, j) == 0x40) { at = j; break; }
    if (at < 0) continue;
    let colon = -1;
    for (let j = a; j < at; j++) if (codeAt(text, j) == 0x3a) { colon = j; break; }
    if (colon < 0 || isPlaceholderValue(text, colon + 1, at)) continue;
    out.push(new Finding(EntityKind.ConnectionPassword, colon + 1, at));
  }
}

const HOOK: string = "hooks.slack.com/services/";
const MAX_HOOK_PATH: i32 = 128;

function isHookPathChar(c: i32): bool { return isAlnum(c) || c == 0x2f; }

export function scanSlackWebhooks(text: string, out: Array<Finding>): void {
  let pos = 0;
  while (pos < text.length) {
    const h = findLit(text, HOOK, pos);
    if (h < 0) return;
    const p = h + HOOK.length;
    let e = p;
    while (e < text.length && e - p <= MAX_HOOK_PATH && isHookPathChar(codeAt(text, e))) e++;
    pos = e > p ? e : p;
    if (e - p > MAX_HOOK_PATH) continue;
    // T<team>/B<channel>/<secret of 24>: at least two slashes, and a random-looking last segment.
    let slashes = 0;
    let last = p;
    for (let j = p; j < e; j++) if (codeAt(text, j) == 0x2f) { slashes++; last = j + 1; }
    if (slashes < 2 || e - last < 16 || !looksRandom(text, last, e)) continue;
    let s = h;
    if (hasAt(text, h - 8, "https://")) s = h - 8;
    else if (hasAt(text, h - 7, "http://")) s = h - 7;
    out.push(new Finding(EntityKind.SlackToken, s, e));
  }
}

/**
 * For streaming: start of a URL whose credentials may still be in progress at the end of text —
 * a known scheme being typed ("postg", "redis:/"), an authority without its end yet
 * ("mysql://app:s3cr"), or a Slack webhook path still arriving — or text.length.
 */
export function urlHoldStart(text: string): i32 {
  const n = text.length;
  let hold = n;
  // Authorities and webhook paths that reach the end of the text.
  const from = n - (MAX_SCHEME + MAX_DRIVER + 3 + MAX_AUTHORITY + HOOK.length + MAX_HOOK_PATH);
  let pos = from < 0 ? 0 : from;
  while (pos < n) {
    const i = findLit(text, "://", pos);
    if (i < 0) break;
    pos = i + 1;
    const s = schemeStart(text, i);
    if (s < 0 || s >= hold) continue;
    const a = i + 3;
    const k = authorityEnd(text, a);
    if (k == n && k - a <= MAX_AUTHORITY) { hold = s; continue; }
    if (hookMayGrow(text, a)) hold = s;
  }
  // A webhook without a scheme right before it ("…@hooks.slack.com/…", a bare address): its
  // path may grow, or the address itself is still being written ("hooks.sla").
  const h = text.lastIndexOf(HOOK);
  if (h >= 0 && h < hold && h >= (from < 0 ? 0 : from) && hookMayGrow(text, h)) hold = h;
  for (let j = n - HOOK.length < 0 ? 0 : n - HOOK.length; j < n && j < hold; j++) {
    if (isPrefixOf(text, j, n, HOOK)) { hold = j; break; }
  }
  // A scheme still being typed: the last scheme-character word, maybe followed by ":" or ":/".
  let e = n;
  if (hasAt(text, n - 2, ":/")) e = n - 2;
  else if (hasAt(text, n - 1, ":")) e = n - 1;
  let w = e;
  while (w > 0 && e - w <= MAX_SCHEME + MAX_DRIVER && isSchemeChar(codeAt(text, w - 1))) w--;
  for (let t = w; t < e && t < hold; t++) {
    if (t > 0 && isAlnum(codeAt(text, t - 1))) continue;
    if (schemePrefix(text, t, e)) { hold = t; break; }
  }
  return hold;
}

function schemePrefix(text: string, s: i32, e: i32): bool {
  for (let i = 0; i < SCHEMES.length; i++) {
    const sc = SCHEMES[i];
    // A known scheme with a driver being typed: "postgresql+psy".
    if (hasAtNoCase(text, s, sc) && s + sc.length < e && codeAt(text, s + sc.length) == 0x2b) return true;
    if (e - s > sc.length) continue;
    let ok = true;
    for (let j = s; j < e; j++) if (lower(codeAt(text, j)) != codeAt(sc, j - s)) { ok = false; break; }
    if (ok) return true;
  }
  return false;
}

/** text[a..] (to the end of text) is a prefix of a webhook address, or a webhook whose path may grow. */
function hookMayGrow(text: string, a: i32): bool {
  const n = text.length;
  if (isPrefixOf(text, a, n, HOOK)) return true;
  if (!hasAt(text, a, HOOK)) return false;
  const p = a + HOOK.length;
  if (n - p > MAX_HOOK_PATH) return false;
  for (let j = p; j < n; j++) if (!isHookPathChar(codeAt(text, j))) return false;
  return true;
}
