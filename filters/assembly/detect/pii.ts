// The PII detectors behind one call, and the stream hold-back rule that matches them.
import { EntityKind, Finding, kindBit } from "./finding";
import { codeAt, unitAt } from "./text-at";
import { isAlpha, isDigit, isGroupSpace, isHex, isLocalChar, leftBoundary } from "./chars";
import { findEmails } from "./email";
import { findPhones } from "./phone";
import { findCards, findCardsAndSsns } from "./card";
import { findSsns } from "./ssn";
import { findIbans, ibanLength, readIban, IBAN_MAX_WRITTEN } from "./iban";
import { findIpv4s, findIpv6s } from "./ip";

/** Bit set of the PII kinds (email … ipv6). */
export const PII_KINDS: u32 = kindBit(EntityKind.Email) | kindBit(EntityKind.Phone) | kindBit(EntityKind.Card) |
  kindBit(EntityKind.Ssn) | kindBit(EntityKind.Iban) | kindBit(EntityKind.Ipv4) | kindBit(EntityKind.Ipv6);

@inline function wants(kinds: u32, kind: EntityKind): bool { return (kinds & kindBit(kind)) != 0; }

/** The kinds read from digit runs (groups.ts). */
const NUMBER_KINDS: u32 = kindBit(EntityKind.Phone) | kindBit(EntityKind.Card) | kindBit(EntityKind.Ssn) | kindBit(EntityKind.Ipv4);
/** Where number runs may start (a digit, "+" or "(" not glued to a token); reused across calls. */
const runStarts: Array<i32> = new Array<i32>();
/** Where the "@"s are (e-mail addresses are read outward from them); reused. */
const atSigns: Array<i32> = new Array<i32>();
/** Where the colons are (IPv6 addresses are read from the runs around them); reused. */
const colonsAt: Array<i32> = new Array<i32>();
/** Where an IBAN may start: two before each digit that follows a letter (country code, check digit); reused. */
const ibanStarts: Array<i32> = new Array<i32>();

/**
 * Appends the PII of the kinds in `kinds` found in `text` to `out`, detector by detector (not sorted
 * across kinds, may overlap: the redactor resolves that). Linear in text.length for any input.
 */
export function findPii(text: string, kinds: u32, out: Array<Finding>): void {
  // One pass first: where number runs, e-mail addresses ("@") and IBANs may start, and where
  // the colons are (IPv6 needs two). Most prose skips most detectors, and the others visit only
  // these positions instead of searching the text again.
  const n = text.length;
  let digits = 0;
  runStarts.length = 0;
  atSigns.length = 0;
  colonsAt.length = 0;
  ibanStarts.length = 0;
  const data = changetype<usize>(text);
  for (let i = 0; i < n; i++) {
    const c = unitAt(data, i); // safe: i < n
    // Every character this pass looks for is at most '@': one compare settles letters.
    if (c > 0x40) continue;
    if (c == 0x40) atSigns.push(i);
    else if (c == 0x3a) colonsAt.push(i);
    else if (isDigit(c) || c == 0x2b || c == 0x28) {
      if (isDigit(c)) {
        digits++;
        if (i >= 2 && isAlpha(unitAt(data, i - 1))) ibanStarts.push(i - 2); // safe: i - 1 < n
      }
      // After a digit there is no boundary (leftBoundary would say so): skip the call inside numbers.
      if ((i == 0 || !isDigit(unitAt(data, i - 1))) && leftBoundary(text, i)) runStarts.push(i);
    }
  }
  if (atSigns.length > 0 && wants(kinds, EntityKind.Email)) findEmails(text, atSigns, out);
  if (digits > 0) {
    if (wants(kinds, EntityKind.Phone)) findPhones(text, runStarts, out);
    const cards = wants(kinds, EntityKind.Card);
    const ssns = wants(kinds, EntityKind.Ssn);
    if (cards && ssns) findCardsAndSsns(text, runStarts, out);
    else if (cards) findCards(text, runStarts, out);
    else if (ssns) findSsns(text, runStarts, out);
    if (wants(kinds, EntityKind.Ipv4)) findIpv4s(text, runStarts, out);
    if (digits >= 2 && wants(kinds, EntityKind.Iban)) findIbans(text, ibanStarts, out);
  }
  if (colonsAt.length >= 2 && wants(kinds, EntityKind.Ipv6)) findIpv6s(text, colonsAt, out);
}

/** Characters of a digit run as the number detectors read it (digits, group separators, + ( )). */
@inline function isNumberRunChar(c: i32): bool {
  return isDigit(c) || isGroupSpace(c) || c == 0x2d || c == 0x2e || c == 0x2f || c == 0x2b || c == 0x28 || c == 0x29;
}

/**
 * Earliest index from which a PII entity of `kinds` may still be in progress at the end of `text`
 * (text.length when none): the text before it can be redacted and released now, because no
 * detector's decision about it depends on characters not yet received. Each rule mirrors what its
 * detector reads; an entity that ends exactly at the end is in progress too, since the next
 * character decides whether it is glued to something longer.
 */
export function piiHoldStart(text: string, kinds: u32): i32 {
  const n = text.length;
  let hold = n;
  // E-mail: the trailing run of local-part/domain characters and "@" (any trailing word may be
  // the local part of an address whose "@" has not arrived yet).
  if (wants(kinds, EntityKind.Email)) {
    let s = n;
    while (s > 0) {
      const c = <i32>codeAt(text, s - 1);
      if (!(isLocalChar(c) || c == 0x40)) break;
      s--;
    }
    if (s < hold) hold = s;
  }
  // Phone, card, SSN, IPv4: the trailing run of digits and separators, from its first character
  // that can start a number ("+", "(", a digit); a run of separators alone holds nothing.
  if ((kinds & NUMBER_KINDS) != 0) {
    let s = n;
    while (s > 0 && isNumberRunChar(<i32>codeAt(text, s - 1))) s--;
    while (s < n) {
      const c = <i32>codeAt(text, s);
      if (isDigit(c) || c == 0x2b || c == 0x28) break;
      s++;
    }
    if (s < hold) hold = s;
  }
  // IPv6: the trailing run of hex digits, colons and dots.
  if (wants(kinds, EntityKind.Ipv6)) {
    let s = n;
    while (s > 0) {
      const c = <i32>codeAt(text, s - 1);
      if (!(isHex(c) || c == 0x3a || c == 0x2e)) break;
      s--;
    }
    if (s < hold) hold = s;
  }
  // IBAN: the earliest start within the last IBAN_MAX_WRITTEN characters from which the rest of
  // the text reads as the beginning of an IBAN (country code, check digits, grouped BBAN).
  if (wants(kinds, EntityKind.Iban)) {
    const from = n - IBAN_MAX_WRITTEN > 0 ? n - IBAN_MAX_WRITTEN : 0;
    for (let p = from; p < hold && p < n; p++) {
      if (!isAlpha(<i32>codeAt(text, p)) || !leftBoundary(text, p)) continue;
      // With one letter only, any country code may follow.
      const length = p + 1 < n ? ibanLength(text, p) : 1;
      if (length == 0) continue;
      if (p + 1 >= n || readIban(text, p, length, true) == n) { hold = p; break; }
    }
  }
  return hold;
}
