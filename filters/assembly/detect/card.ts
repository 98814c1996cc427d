// Payment card numbers: 13-19 digits, solid or in groups separated by one kind of space or dash,
// with a known issuer prefix (IIN) for that length and a valid Luhn check digit. The prefix table
// is what turns "any Luhn-valid number" (one in ten) into "a number a card network issues".
import { EntityKind, Finding } from "./finding";
import { codeAt } from "./text-at";
import { Groups, findRuns, groupDigits, sepsAre, SEP_SPACE, SEP_DASH } from "./groups";
import { plausibleSsn } from "./ssn";

const groups: Groups = new Groups();

/** Luhn (mod 10) over a string of ASCII digits. */
export function luhnValid(digits: string): bool {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = <i32>codeAt(digits, i) - 0x30;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    double = !double;
  }
  return sum % 10 == 0;
}

function prefix(digits: string, n: i32): i32 {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 10 + (<i32>codeAt(digits, i) - 0x30);
  return v;
}

/** A card network issues numbers with this prefix at this length. */
export function knownIssuer(digits: string): bool {
  const len = digits.length;
  const p1 = prefix(digits, 1);
  const p2 = prefix(digits, 2);
  const p3 = prefix(digits, 3);
  const p4 = prefix(digits, 4);
  if (p1 == 4) return len == 13 || len == 16 || len == 19;                      // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return len == 16;   // Mastercard
  if (p4 >= 2200 && p4 <= 2204) return len >= 16 && len <= 19;                  // Mir
  if (p2 == 34 || p2 == 37) return len == 15;                                   // American Express
  if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65) return len >= 16;     // Discover
  if (p2 == 62) return len >= 16;                                               // UnionPay
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return len >= 14; // Diners Club
  if (p4 >= 3528 && p4 <= 3589) return len >= 16;                               // JCB
  if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 ||
      (p4 >= 6761 && p4 <= 6763)) return len >= 13;                             // Maestro
  return false;
}

function plausibleCard(text: string, g: Groups): bool {
  if (g.overflow || g.digits < 13 || g.digits > 19) return false;
  if (g.count > 1) {
    // One separator kind throughout, and real groups (4-4-4-4, 4-6-5, …), not a digit soup.
    if (!sepsAre(g, 2, unchecked(g.sep[1]))) return false;
    if (g.count > 5 || g.len(0) < 4) return false;
    for (let i = 1; i < g.count; i++) if (g.len(i) < 3) return false;
  }
  const digits = groupDigits(text, g);
  return knownIssuer(digits) && luhnValid(digits);
}

/** Appends, given the run starts findPii listed, the payment card numbers of `text` to `out`. */
export function findCards(text: string, starts: Array<i32>, out: Array<Finding>): void {
  findRuns(text, starts, SEP_SPACE | SEP_DASH, EntityKind.Card, plausibleCard, groups, out);
}

/** findCards and findSsns in one scan: both read runs of digit groups separated by spaces or dashes. */
export function findCardsAndSsns(text: string, starts: Array<i32>, out: Array<Finding>): void {
  findRuns(text, starts, SEP_SPACE | SEP_DASH, EntityKind.Card, plausibleCard, groups, out, EntityKind.Ssn, plausibleSsn);
}
