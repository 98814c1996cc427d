// JSON Web Tokens: header.payload.signature, each base64url ([A-Za-z0-9_-], i.e. one run). The
// header must decode to a JSON object whose first member is a JOSE header name ({"alg", {"typ"...);
// that is what makes every JWT start with "eyJ" (base64 of '{"') and keeps random dotted ids out.

import { isTokenChar, isSpace, hasAt, isPrefixOf } from "./secrets-chars";
import { codeAt } from "./text-at";

const MIN_HEADER: i32 = 10;     // eyJhbGciOi: the shortest useful header prefix
const MIN_PAYLOAD: i32 = 3;     // e30 = base64("{}")
const MIN_SIGNATURE: i32 = 16;  // HS256 gives 43; unsigned (alg none) tokens are not flagged
/** Longer parts are not credentials we can reason about (and bound the streaming hold-back). */
export const MAX_JWT_PART: i32 = 8192;

const HEADER_NAMES: Array<string> = ["alg", "typ", "kid", "cty", "enc", "jku", "x5t", "x5u", "zip", "crit"];

function runEnd(text: string, i: i32): i32 {
  let e = i;
  while (e < text.length && isTokenChar(codeAt(text, e))) e++;
  return e;
}

/** End of the JWT whose header run is text[st..hEnd), or -1. */
export function matchJwt(text: string, st: i32, hEnd: i32): i32 {
  if (!hasAt(text, st, "eyJ")) return -1;
  const hn = hEnd - st;
  if (hn < MIN_HEADER || hn > MAX_JWT_PART) return -1;
  if (hEnd >= text.length || codeAt(text, hEnd) != 0x2e) return -1;
  const p = hEnd + 1;
  const pEnd = runEnd(text, p);
  if (pEnd - p < MIN_PAYLOAD || pEnd - p > MAX_JWT_PART) return -1;
  if (pEnd >= text.length || codeAt(text, pEnd) != 0x2e) return -1;
  const q = pEnd + 1;
  const qEnd = runEnd(text, q);
  if (qEnd - q < MIN_SIGNATURE || qEnd - q > MAX_JWT_PART) return -1;
  if (!headerLooksJose(text, st, hEnd)) return -1;
  return qEnd;
}

function sextet(c: i32): i32 {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c == 0x2d) return 62;
  return 63; // '_' (the only other run character)
}

// Decoded header bytes (the first 12 are enough to see '{', optional spaces, '"' and a name).
const HEAD: StaticArray<i32> = new StaticArray<i32>(12);

function headerLooksJose(text: string, st: i32, hEnd: i32): bool {
  const chars = hEnd - st < 16 ? hEnd - st : 16;
  let n = 0;
  for (let i = 0; i + 4 <= chars; i += 4) {
    const v = (sextet(codeAt(text, st + i)) << 18) | (sextet(codeAt(text, st + i + 1)) << 12) |
      (sextet(codeAt(text, st + i + 2)) << 6) | sextet(codeAt(text, st + i + 3));
    unchecked(HEAD[n++] = (v >> 16) & 0xff);
    unchecked(HEAD[n++] = (v >> 8) & 0xff);
    unchecked(HEAD[n++] = v & 0xff);
  }
  if (n == 0 || unchecked(HEAD[0]) != 0x7b) return false;
  let k = 1;
  while (k < n && isSpace(unchecked(HEAD[k]))) k++;
  if (k >= n || unchecked(HEAD[k]) != 0x22) return false;
  k++;
  for (let h = 0; h < HEADER_NAMES.length; h++) {
    const name = HEADER_NAMES[h];
    if (k + name.length >= n) continue;
    let ok = true;
    for (let j = 0; j < name.length; j++) if (unchecked(HEAD[k + j]) != codeAt(name, j)) { ok = false; break; }
    if (ok && unchecked(HEAD[k + name.length]) == 0x22) return true;
  }
  return false;
}

/**
 * For streaming: start of a JWT that may still be in progress at the end of text (header, payload
 * or signature being written), or text.length. Walks back over at most three runs and two dots.
 */
export function jwtHoldStart(text: string): i32 {
  const n = text.length;
  let hold = n;
  let end = n;
  for (let part = 0; part < 3; part++) {
    let s = end;
    while (s > 0 && end - s <= MAX_JWT_PART && isTokenChar(codeAt(text, s - 1))) s--;
    if (end - s > MAX_JWT_PART) break;
    if (headerMayStart(text, s, end, part == 0)) hold = s;
    if (s == 0 || codeAt(text, s - 1) != 0x2e) break;
    end = s - 1;
  }
  return hold;
}

/**
 * Run text[s..end) may hold a JWT header, where findSecrets would look for one: at the run start,
 * past leading - and _, or past the letter of a raw JSON escape (\neyJ…). The last run may still be
 * a header being typed ("e", "ey"); an earlier one must be complete.
 */
function headerMayStart(text: string, s: i32, end: i32, last: bool): bool {
  let st = s;
  if (s > 0 && codeAt(text, s - 1) == 0x5c && st < end) {
    const c = codeAt(text, st);
    if (c == 0x6e || c == 0x72 || c == 0x74 || c == 0x62 || c == 0x66) {
      if (startsHeader(text, st, end, last)) return true;
      st++;
    }
  }
  while (st < end && (codeAt(text, st) == 0x5f || codeAt(text, st) == 0x2d)) st++;
  return startsHeader(text, st, end, last) || startsHeader(text, s, end, last);
}

function startsHeader(text: string, st: i32, end: i32, last: bool): bool {
  if (end - st >= 3) return hasAt(text, st, "eyJ");
  return last && st < end && isPrefixOf(text, st, end, "eyJ");
}
