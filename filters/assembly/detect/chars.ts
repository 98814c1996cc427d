// Character classes shared by the detectors and the stream hold-back rule. ASCII only on purpose:
// the entities we look for are ASCII, and treating a non-ASCII letter as a boundary keeps
// "Tél:0612…" or CJK text directly before an e-mail address detectable.

import { codeAt } from "./text-at";

@inline export function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }
@inline export function isUpper(c: i32): bool { return c >= 0x41 && c <= 0x5a; }
@inline export function isLower(c: i32): bool { return c >= 0x61 && c <= 0x7a; }
@inline export function isAlpha(c: i32): bool { return isUpper(c) || isLower(c); }
@inline export function isAlnum(c: i32): bool { return isDigit(c) || isAlpha(c); }
@inline export function isHex(c: i32): bool {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** A character that glues to an entity and makes it part of a longer token (letters, digits, _). */
@inline export function isWordChar(c: i32): bool { return isAlnum(c) || c == 0x5f; }

/** Spaces that may separate digit groups: space, no-break space, narrow no-break space (French typography). */
@inline export function isGroupSpace(c: i32): bool { return c == 0x20 || c == 0xa0 || c == 0x202f; }

/** Accented Latin letters (U+00C0-U+024F without × and ÷): names in local parts ("andré.lefèvre@…"). */
@inline export function isLatinLetter(c: i32): bool { return c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7; }

/**
 * Characters of an e-mail local part: the dot-atom subset people actually use (letters, digits,
 * . _ % + - and the apostrophe of "o'neil"), plus accented Latin letters (RFC 6531 addresses).
 */
@inline export function isLocalChar(c: i32): bool {
  return isAlnum(c) || c == 0x2e || c == 0x5f || c == 0x25 || c == 0x2b || c == 0x2d || c == 0x27 || isLatinLetter(c);
}

/** Characters of a domain name (labels and dots). */
@inline export function isDomainChar(c: i32): bool { return isAlnum(c) || c == 0x2e || c == 0x2d; }

/** Punctuation that joins two alphanumeric tokens into one ("v1.2", "ORD-123", "a/b", "1,234"). */
@inline export function isJoiner(c: i32): bool {
  return c == 0x2e || c == 0x2d || c == 0x2f || c == 0x2c || c == 0x2b || c == 0x5f;
}

/**
 * True when an entity starting at `pos` is not glued to a preceding token: the character before is
 * not a letter/digit/_, and is not a joiner that itself follows a letter/digit ("ORD-2024…", "v1.2…").
 */
export function leftBoundary(text: string, pos: i32): bool {
  if (pos <= 0) return true;
  const c = <i32>codeAt(text, pos - 1);
  if (isWordChar(c)) return false;
  if (isJoiner(c) && pos >= 2 && isAlnum(<i32>codeAt(text, pos - 2))) return false;
  return true;
}

/**
 * The mirror of leftBoundary for an entity ending (exclusive) at `end`, except that "/" + digits
 * may follow (a CIDR prefix length: 10.0.0.0/8, 2001:db8::/32).
 */
export function rightBoundary(text: string, end: i32): bool {
  if (end >= text.length) return true;
  const c = <i32>codeAt(text, end);
  if (isWordChar(c)) return false;
  if (end + 1 >= text.length) return true;
  const next = <i32>codeAt(text, end + 1);
  if (c == 0x2f && isDigit(next)) return true;
  if (isJoiner(c) && isAlnum(next)) return false;
  return true;
}
