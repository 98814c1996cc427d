// Character helpers shared by the secret scanners. Everything works on UTF-16 code units and
// only ASCII ever counts as part of a key, so non-Latin text never joins (or splits) a token.

import { codeAt } from "./text-at";

@inline export function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }
@inline export function isUpper(c: i32): bool { return c >= 0x41 && c <= 0x5a; }
@inline export function isLower(c: i32): bool { return c >= 0x61 && c <= 0x7a; }
@inline export function isAlpha(c: i32): bool { return isUpper(c) || isLower(c); }
@inline export function isAlnum(c: i32): bool { return isDigit(c) || isAlpha(c); }

// One byte per ASCII code: 1 for [A-Za-z0-9_-]. The token scanner tests every character of the
// text with it, so a table load beats the chain of range compares.
const TOKEN_TABLE: StaticArray<u8> = tokenTable();

function tokenTable(): StaticArray<u8> {
  const t = new StaticArray<u8>(128);
  for (let c = 0; c < 128; c++) t[c] = isAlnum(c) || c == 0x5f || c == 0x2d ? 1 : 0;
  return t;
}

/** [A-Za-z0-9_-]: base64url, and the alphabet of almost every key body. A maximal stretch of these
 *  is a "run"; prefixed keys must start a run, which plays the part of a regex \b. */
@inline export function isTokenChar(c: i32): bool { return <u32>c < 128 && unchecked(TOKEN_TABLE[c]) != 0; }

/** Standard base64 alphabet (PEM bodies, AWS secret keys). */
@inline export function isBase64Char(c: i32): bool { return isAlnum(c) || c == 0x2b || c == 0x2f || c == 0x3d; }

@inline export function isSpace(c: i32): bool { return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d || c == 0x0c || c == 0x0b; }

@inline export function isQuote(c: i32): bool { return c == 0x22 || c == 0x27 || c == 0x60; }

@inline export function lower(c: i32): i32 { return isUpper(c) ? c + 32 : c; }

/** text[pos..] starts with lit (exact). No allocation: this runs once per candidate position. */
export function hasAt(text: string, pos: i32, lit: string): bool {
  if (pos < 0 || pos + lit.length > text.length) return false;
  for (let i = 0; i < lit.length; i++) if (codeAt(text, pos + i) != codeAt(lit, i)) return false;
  return true;
}

/** Like hasAt, ASCII case-insensitive; lit must be lower case. */
export function hasAtNoCase(text: string, pos: i32, lit: string): bool {
  if (pos < 0 || pos + lit.length > text.length) return false;
  for (let i = 0; i < lit.length; i++) if (lower(codeAt(text, pos + i)) != codeAt(lit, i)) return false;
  return true;
}

/** text[pos..end) is a prefix of lit (possibly empty): the literal may still arrive in a stream. */
export function isPrefixOf(text: string, pos: i32, end: i32, lit: string): bool {
  if (end - pos > lit.length) return false;
  for (let i = pos; i < end; i++) if (codeAt(text, i) != codeAt(lit, i - pos)) return false;
  return true;
}

/** Case-insensitive search for lit (lower case) inside text[start..end). */
export function containsNoCase(text: string, start: i32, end: i32, lit: string): bool {
  const last = end - lit.length;
  for (let i = start; i <= last; i++) if (hasAtNoCase(text, i, lit)) return true;
  return false;
}
