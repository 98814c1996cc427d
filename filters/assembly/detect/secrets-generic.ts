// The generic rule: a key whose name ends in a secret keyword (password, secret, token, api_key,
// auth…), then = or : (also :=, =>, quoted JSON/YAML keys, raw-JSON \"), then a value that looks
// random. Only the value is the finding. The same reader finds AWS secret access keys (40 base64
// characters under an aws…secret… key), reported as aws_access_key.

import { EntityKind, Finding } from "./finding";
import { codeAt } from "./text-at";
import { isAlnum, isDigit, isUpper, isLower, isSpace, isQuote, isBase64Char, lower, hasAtNoCase } from "./secrets-chars";
import { looksRandom } from "./entropy";
import { isPlaceholderValue } from "./secrets-placeholder";

// Compared against the key name lower-cased with _ - . removed, as a suffix: "DB_PASSWORD",
// "x-api-key", "clientSecret" match; "password_policy", "token_count", "max_tokens", "author" do not.
const KEYWORDS: Array<string> = [
  "password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "accesskey", "secretkey",
  "privatekey", "signingkey", "encryptionkey", "masterkey", "authkey", "auth", "authorization",
  "credential", "credentials",
];
// Names that end in a keyword but hold opaque, non-secret values (pagination cursors).
const NOT_SECRET: Array<string> = ["pagetoken", "nexttoken", "nextpagetoken", "continuationtoken", "synctoken"];

const MAX_KEY: i32 = 64;
/** Longer values are data (blobs, documents), not credentials; also bounds the streaming hold. */
export const MAX_VALUE: i32 = 512;
const MIN_VALUE: i32 = 8;
export const AWS_SECRET_LENGTH: i32 = 40;

function isKeyChar(c: i32): bool { return isAlnum(c) || c == 0x5f || c == 0x2d || c == 0x2e; }
function isKeySep(c: i32): bool { return c == 0x5f || c == 0x2d || c == 0x2e; }

/** Where the normalized key text[ks..ke) ends with word, the index of the word's first letter, or -1. */
function endsWithWord(text: string, ks: i32, ke: i32, word: string): i32 {
  let i = ke - 1;
  for (let w = word.length - 1; w >= 0; w--) {
    while (i >= ks && isKeySep(codeAt(text, i))) i--;
    if (i < ks || lower(codeAt(text, i)) != codeAt(word, w)) return -1;
    if (w > 0) i--;
  }
  return i;
}

// The last three letters of every keyword (password, passwd, passphrase, pwd, secret, token,
// ...key, auth, authorization, credential, credentials), packed as in lastThree(): a key that ends
// otherwise ("model", "type", "url") is rejected before the keyword loop. Keep in sync with KEYWORDS.
const ENDINGS: StaticArray<i32> = [
  pack3("ord"), pack3("swd"), pack3("ase"), pack3("pwd"), pack3("ret"), pack3("ken"), pack3("key"),
  pack3("uth"), pack3("ion"), pack3("ial"), pack3("als"),
];

function pack3(s: string): i32 { return (codeAt(s, 0) << 16) | (codeAt(s, 1) << 8) | codeAt(s, 2); }

/** The last three non-separator characters of text[ks..ke), lower-cased and packed, or -1. */
function lastThree(text: string, ks: i32, ke: i32): i32 {
  let v = 0;
  let k = 0;
  for (let i = ke - 1; i >= ks && k < 3; i--) {
    const c = codeAt(text, i);
    if (isKeySep(c)) continue;
    v |= (lower(c) & 0xff) << (8 * k);
    k++;
  }
  return k == 3 ? v : -1;
}

/** Start of the secret keyword that ends key text[ks..ke), or -1 when the key is not secret-like. */
export function keywordStart(text: string, ks: i32, ke: i32): i32 {
  const end3 = lastThree(text, ks, ke);
  let known = false;
  for (let i = 0; i < ENDINGS.length; i++) if (unchecked(ENDINGS[i]) == end3) { known = true; break; }
  if (!known) return -1;
  for (let i = 0; i < NOT_SECRET.length; i++) if (endsWithWord(text, ks, ke, NOT_SECRET[i]) >= 0) return -1;
  let best = -1;
  for (let i = 0; i < KEYWORDS.length; i++) {
    const s = endsWithWord(text, ks, ke, KEYWORDS[i]);
    if (s >= 0 && (best < 0 || s < best)) best = s;
  }
  return best;
}

/** One "key: value" read around a separator (module-level, reused). */
export class Assignment {
  keyStart: i32 = 0;
  keyEnd: i32 = 0;
  valueStart: i32 = 0;
  valueEnd: i32 = 0;
  /** The value stopped at a terminator, not at the end of the text. */
  closed: bool = false;
}

/** With ':' or '=' at p: reads the key before it; false when there is no key name there. */
export function readKey(text: string, p: i32, a: Assignment): bool {
  let k = p;
  // Spaces, then closing quote and JSON escape backslash of a quoted key ("password" : / \"pwd\":).
  let skipped = 0;
  while (k > 0 && skipped < 4 && (codeAt(text, k - 1) == 0x20 || codeAt(text, k - 1) == 0x09)) { k--; skipped++; }
  skipped = 0;
  while (k > 0 && skipped < 3 && (isQuote(codeAt(text, k - 1)) || codeAt(text, k - 1) == 0x5c)) { k--; skipped++; }
  let s = k;
  while (s > 0 && k - s < MAX_KEY && isKeyChar(codeAt(text, s - 1))) s--;
  if (s == k) return false;
  // A longer run is read as its last MAX_KEY characters: the decision then never depends on how
  // far back the text goes, so a stream (which keeps only a little released text) decides alike.
  a.keyStart = s;
  a.keyEnd = k;
  return true;
}

/** With the separator at p: the value's bounds (valueEnd - valueStart > MAX_VALUE when too long). */
export function readValue(text: string, p: i32, a: Assignment): void {
  const n = text.length;
  let v = p + 1;
  // := and => and ==
  if (v < n && (codeAt(text, v) == 0x3d || codeAt(text, v) == 0x3e)) v++;
  let sp = 0;
  while (v < n && sp < 8 && (codeAt(text, v) == 0x20 || codeAt(text, v) == 0x09)) { v++; sp++; }
  let quote = 0;
  if (v + 1 < n && codeAt(text, v) == 0x5c && isQuote(codeAt(text, v + 1))) { quote = codeAt(text, v + 1); v += 2; }
  else if (v < n && isQuote(codeAt(text, v))) { quote = codeAt(text, v); v++; }
  // "Authorization: Bearer <token>": the scheme word is not part of the secret.
  if (hasAtNoCase(text, v, "bearer ")) v += 7;
  else if (hasAtNoCase(text, v, "basic ")) v += 6;
  else if (hasAtNoCase(text, v, "token ")) v += 6;
  let e = v;
  while (e < n && e - v <= MAX_VALUE) {
    const c = codeAt(text, e);
    if (isSpace(c) || c == 0x5c || isQuote(c)) break;
    if (quote == 0 && isUnquotedStop(c)) break;
    e++;
  }
  a.valueStart = v;
  a.valueEnd = e;
  a.closed = e < n;
}

function isUnquotedStop(c: i32): bool {
  return c == 0x2c || c == 0x3b || c == 0x26 || c == 0x3c || c == 0x3e || c == 0x28 || c == 0x29 ||
    c == 0x5b || c == 0x5d || c == 0x7b || c == 0x7d;
}

/** A separator at p that can start an assignment (not the second char of :=, ==, !=, <=, >=, not ://). */
export function isAssignSep(text: string, p: i32): bool {
  const c = codeAt(text, p);
  if (c != 0x3a && c != 0x3d) return false;
  if (p > 0) {
    const b = codeAt(text, p - 1);
    if (b == 0x3a || b == 0x3d || b == 0x21 || b == 0x3c || b == 0x3e) return false;
  }
  if (c == 0x3a && p + 2 < text.length && codeAt(text, p + 1) == 0x2f && codeAt(text, p + 2) == 0x2f) return false;
  return true;
}

/**
 * Generic secret values: >= 8 characters, not a placeholder, random-looking (see looksRandom), with
 * a digit or a symbol other than _ - . so that identifiers and references (process.env.API_KEY,
 * MyDatabaseName, correcthorsebatterystaple) stay untouched, and not all one character class
 * (all-digit values are ids, phone numbers, timestamps). All-letter secrets are missed (documented).
 */
export function genericValueOk(text: string, s: i32, e: i32): bool {
  const n = e - s;
  if (n < MIN_VALUE || n > MAX_VALUE) return false;
  let lo = false, up = false, dg = false, sym = false, other = false;
  for (let i = s; i < e; i++) {
    const c = codeAt(text, i);
    if (isLower(c)) lo = true;
    else if (isUpper(c)) up = true;
    else if (isDigit(c)) dg = true;
    else if (c == 0x5f || c == 0x2d || c == 0x2e) other = true;
    else sym = true;
  }
  const classes = (lo ? 1 : 0) + (up ? 1 : 0) + (dg ? 1 : 0) + (sym || other ? 1 : 0);
  if (classes < 2 || !(dg || sym)) return false;
  if (isPlaceholderValue(text, s, e)) return false;
  return looksRandom(text, s, e);
}

/**
 * AWS secret access key: 40 base64 characters with upper, lower and digits under a key ending in
 * secret(_access)_key (Terraform's secret_key, boto's aws_secret_access_key) or naming both aws
 * and secret. S3-compatible stores (MinIO…) use the same shape and are reported as AWS too.
 */
function isAwsSecret(text: string, a: Assignment): bool {
  if (a.valueEnd - a.valueStart != AWS_SECRET_LENGTH) return false;
  let up = false, lo = false, dg = false;
  for (let i = a.valueStart; i < a.valueEnd; i++) {
    const c = codeAt(text, i);
    if (!isBase64Char(c)) return false;
    if (isUpper(c)) up = true; else if (isLower(c)) lo = true; else if (isDigit(c)) dg = true;
  }
  if (!(up && lo && dg)) return false;
  const named = endsWithWord(text, a.keyStart, a.keyEnd, "secretaccesskey") >= 0 ||
    endsWithWord(text, a.keyStart, a.keyEnd, "secretkey") >= 0 ||
    (containsWord(text, a.keyStart, a.keyEnd, "aws") && containsWord(text, a.keyStart, a.keyEnd, "secret"));
  return named && looksRandom(text, a.valueStart, a.valueEnd);
}

function containsWord(text: string, s: i32, e: i32, w: string): bool {
  for (let i = s; i + w.length <= e; i++) if (hasAtNoCase(text, i, w)) return true;
  return false;
}

const A: Assignment = new Assignment();

/**
 * The keyword rule at p (a ':' or '='): appends the secret assigned there, if any, and returns
 * where the scan goes on. findSecrets calls it from its pass over the text, at each separator
 * at or after the position the previous call returned.
 */
export function genericAt(text: string, p: i32, out: Array<Finding>): i32 {
  if (!isAssignSep(text, p) || !readKey(text, p, A) || keywordStart(text, A.keyStart, A.keyEnd) < 0) return p + 1;
  readValue(text, p, A);
  // Skip past the value either way: keeps the scan linear on hostile "token:token:token…".
  const next = A.valueEnd > p ? A.valueEnd : p + 1;
  if (A.valueEnd - A.valueStart <= MAX_VALUE) {
    if (isAwsSecret(text, A)) out.push(new Finding(EntityKind.AwsAccessKey, A.valueStart, A.valueEnd));
    else if (genericValueOk(text, A.valueStart, A.valueEnd)) out.push(new Finding(EntityKind.GenericSecret, A.valueStart, A.valueEnd));
  }
  return next;
}

/**
 * For streaming: start of the key of an assignment whose value may still be in progress (or not
 * begun) at the end of text, or of a secret keyword still being typed at the very end; text.length
 * when none. Looks at most MAX_KEY + MAX_VALUE + a few characters back.
 */
export function genericHoldStart(text: string): i32 {
  const n = text.length;
  let hold = n;
  const from = n - (MAX_KEY + MAX_VALUE + 24);
  for (let p = from < 0 ? 0 : from; p < n; p++) {
    if (!isAssignSep(text, p) || !readKey(text, p, A)) continue;
    const ks = keywordStart(text, A.keyStart, A.keyEnd);
    if (ks < 0) continue;
    readValue(text, p, A);
    // Hold from the key start, not the keyword: aws_secret_access_key needs its "aws" later on.
    if (!A.closed && A.valueEnd - A.valueStart <= MAX_VALUE) { if (A.keyStart < hold) hold = A.keyStart; break; }
  }
  // A key name at the end, possibly quoted, whose separator has not arrived ("password", "\"pwd\" ").
  let k = n;
  let sp = 0;
  while (k > 0 && sp < 4 && (isSpace(codeAt(text, k - 1)) || isQuote(codeAt(text, k - 1)) || codeAt(text, k - 1) == 0x5c)) { k--; sp++; }
  let s = k;
  while (s > 0 && k - s < MAX_KEY && isKeyChar(codeAt(text, s - 1))) s--;
  if (s < k) {
    const ks = keywordStart(text, s, k);
    if (ks >= 0 && s < hold) hold = s;
    // A keyword still being typed at the very end ("pass", "aws_secret_access_k"): hold the whole
    // key, so the name is intact when the separator arrives (aws_secret_access_key decides the kind).
    if (k == n && s < hold && keywordPrefixStart(text, s, k) < n) hold = s;
  }
  return hold;
}

/** Earliest i in [s, e) such that text[i..e), normalized, is a non-empty prefix of a keyword; else e. */
function keywordPrefixStart(text: string, s: i32, e: i32): i32 {
  for (let i = s; i < e; i++) {
    if (isKeySep(codeAt(text, i))) continue;
    for (let w = 0; w < KEYWORDS.length; w++) if (normalizedPrefix(text, i, e, KEYWORDS[w])) return i;
  }
  return text.length;
}

function normalizedPrefix(text: string, s: i32, e: i32, word: string): bool {
  let k = 0;
  for (let i = s; i < e; i++) {
    const c = codeAt(text, i);
    if (isKeySep(c)) continue;
    if (k >= word.length || lower(c) != codeAt(word, k)) return false;
    k++;
  }
  return k > 0;
}
