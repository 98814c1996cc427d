// A byte-level test that proves which detector families (PII, secrets) cannot find anything in a
// JSON string, read as it sits in the body (UTF-8, escapes unresolved), so that the redact filter
// skips decoding and scanning a string where neither can, and runs only the family that can on the
// others. Most strings of a chat request (a system prompt, a tool description, prose without
// numbers) cost one pass of eight bytes at a time instead of a decode and two detector passes.
//
// A family is kept whenever the decoded text has one of its necessary conditions below; each is
// what gates a detector in findPii / findSecrets, so a family dropped wrongly would need a
// detector to fire without its own gate (README.md, "Prefilter", and __tests__/prefilter.spec.ts):
//
//   e-mail                       an '@'                        (findPii lists "@"s)
//   phone, card, SSN, IPv4, IBAN an ASCII digit                (findPii: digits > 0)
//   IPv6                         a ':'                         (findPii: two colons)
//   keyword rule, URL password   a ':' or '='                  (findSecrets: genericAt, ":/")
//   Slack webhook                a '/'                         ("hooks.slack.com/services/")
//   private key                  "--"                          (findSecrets: dashes in a run)
//   prefixed keys, JWTs          16 token characters in a row  (the shortest key is a 4-letter
//                                [A-Za-z0-9_-]                  prefix + 16, a JWT signature 16+)
//
// Escapes need no decoding for this. A \u escape may stand for any character (a letter that joins
// a run, a ':'), so it keeps both families. The short escapes (\n \t \r \b \f \" \\ \/) decode
// to none of the triggers except '/', whose byte is there as it is; the letter after the backslash
// counts as a token character, so a run in the bytes is never shorter than the run it decodes to.
// Non-ASCII bytes are none of the triggers (every detector reads ASCII only) and end a run.

import { ALL_KINDS } from "./finding";
import { PII_KINDS } from "./pii";

/** Shortest run of token characters that a prefixed key or a JWT needs (secrets-tokens.ts, secrets-jwt.ts). */
export const MIN_TOKEN_RUN: i32 = 16;

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;
const LOWS7: u64 = 0x7f7f7f7f7f7f7f7f;

/** Bit 7 of each byte of x (every byte below 0x80) set where the byte equals b. Exact per byte. */
@inline function eqBytes(x: u64, b: u64): u64 {
  const t = x ^ (ONES * b);
  // t's bytes are below 0x80: + 0x7f sets bit 7 unless the byte is 0, and never carries.
  return ~((t + LOWS7) | t) & HIGHS;
}

/** Bit 7 of each byte of x (every byte below 0x80) set where lo <= byte <= hi. Exact per byte. */
@inline function inRange(x: u64, lo: u64, hi: u64): u64 {
  // x + (0x80 - lo) reaches bit 7 from lo up, x + (0x7f - hi) from hi + 1 up; neither carries
  // (at most 0x7f + 0x80 - lo with lo >= 1).
  return (x + ONES * (0x80 - lo)) & ~(x + ONES * (0x7f - hi)) & HIGHS;
}

/** Bytes that settle the question or need a closer look: '/' '0'-'9' ':' '=' '@' '-' '\'. */
@inline function specialBytes(x: u64): u64 {
  return inRange(x, 0x2f, 0x3a) | eqBytes(x, 0x3d) | eqBytes(x, 0x40) | eqBytes(x, 0x2d) | eqBytes(x, 0x5c);
}

/** The bytes of specialBytes that still matter once PII is kept: ':' '=' '/' '-' '\'. */
@inline function secretBytes(x: u64): u64 {
  return eqBytes(x, 0x3a) | eqBytes(x, 0x3d) | eqBytes(x, 0x2f) | eqBytes(x, 0x2d) | eqBytes(x, 0x5c);
}

/** Token characters [A-Za-z0-9_-] of x (every byte below 0x80). */
@inline function tokenBytes(x: u64): u64 {
  return inRange(x | (ONES * 0x20), 0x61, 0x7a) | inRange(x, 0x30, 0x39) | eqBytes(x, 0x5f) | eqBytes(x, 0x2d);
}

@inline function isTokenByte(c: u32): bool {
  const l = c | 0x20;
  return (l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x5f || c == 0x2d;
}

const SECRET_KINDS: u32 = ALL_KINDS & ~PII_KINDS;

/**
 * The kinds that may be found in the JSON string whose content (quotes excluded) is the `len`
 * bytes at `p` (valid JSON string content, as checkJson accepted it), by family: PII_KINDS when a
 * PII detector may fire, the secret kinds when a secret rule may, 0 when none can. A family left
 * out would find nothing: findEntities with the kinds masked by this finds what it finds without.
 */
export function kindsThatMayFire(p: usize, len: i32): u32 {
  let may: u32 = 0;
  let run = 0;   // token bytes in a row just before i (counted while no secret trigger is seen)
  let prev: u32 = 0;
  let i = 0;
  while (i < len) {
    if (i + 8 <= len) {
      // Safe: bytes [i, i + 8) are inside the string.
      const v = load<u64>(p + <usize>i);
      const x = v & LOWS7;
      const ascii = ~v & HIGHS;
      // Once PII is kept, digits and '@' (most of a text full of numbers) need no closer look.
      const special = (may & PII_KINDS) != 0 ? secretBytes(x) : specialBytes(x);
      if ((special & ascii) == 0) {
        // No byte of interest: only the runs need counting. A run inside the eight bytes is
        // shorter than MIN_TOKEN_RUN; the ones that cross the edges are counted on.
        if ((may & SECRET_KINDS) == 0) {
          const other = (~tokenBytes(x) & HIGHS) | (v & HIGHS);
          if (other == 0) {
            run += 8;
          } else {
            if (run + (<i32>ctz(other) >> 3) >= MIN_TOKEN_RUN) may |= SECRET_KINDS;
            run = <i32>clz(other) >> 3;
          }
          if (run >= MIN_TOKEN_RUN) may |= SECRET_KINDS;
          if (may == ALL_KINDS) return may;
        }
        prev = <u32>(v >> 56);
        i += 8;
        continue;
      }
    }
    // One byte at a time: the tail, and eight bytes holding one of interest.
    const stop = i + 8 < len ? i + 8 : len;
    for (; i < stop; i++) {
      const c = <u32>load<u8>(p + <usize>i);
      if ((c >= 0x30 && c <= 0x39) || c == 0x40) may |= PII_KINDS;                     // digit, '@'
      else if (c == 0x3a) may |= ALL_KINDS;                                               // ':'
      else if (c == 0x2f || c == 0x3d || (c == 0x2d && prev == 0x2d)) may |= SECRET_KINDS; // '/', '=', "--"
      else if (c == 0x5c && i + 1 < len && <u32>load<u8>(p + <usize>(i + 1)) == 0x75) return ALL_KINDS; // \u
      if (isTokenByte(c)) {
        if (++run >= MIN_TOKEN_RUN) may |= SECRET_KINDS;
      } else {
        run = 0;
      }
      if (may == ALL_KINDS) return may;
      prev = c;
    }
  }
  return may;
}
