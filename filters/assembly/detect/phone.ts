// Phone numbers, international (+CC or 00CC) and national (trunk prefix 0, the North American
// 3-3-4 plan, or Spanish 3-2-2-2). Without a parser per country, plausibility comes from the digit
// count, the grouping and consistent separators; that is what keeps dates, versions, ids and plain
// long numbers out.
import { EntityKind, Finding } from "./finding";
import { codeAt } from "./text-at";
import { Groups, findRuns, SEP_SPACE, SEP_DASH, SEP_DOT, SEP_SLASH, PARENS, PLUS } from "./groups";

const PHONE_FLAGS: i32 = SEP_SPACE | SEP_DASH | SEP_DOT | SEP_SLASH | PARENS | PLUS;
const groups: Groups = new Groups();

function digitAt(text: string, g: Groups, group: i32, offset: i32): i32 {
  return <i32>codeAt(text, unchecked(g.start[group]) + offset) - 0x30;
}

/** North American shape: [1] NXX NXX XXXX (area code and exchange do not start with 0 or 1). */
function isNanp(text: string, g: Groups): bool {
  let first = 0;
  if (g.count == 4 && g.len(0) == 1 && digitAt(text, g, 0, 0) == 1) first = 1;
  else if (g.count != 3) return false;
  if (g.len(first) != 3 || g.len(first + 1) != 3 || g.len(first + 2) != 4) return false;
  return digitAt(text, g, first, 0) >= 2 && digitAt(text, g, first + 1, 0) >= 2;
}

/** Spanish numbers have no trunk prefix: 9 digits from 6-9, written 3-2-2-2 ("912 34 56 78"). */
function isSpanish(text: string, g: Groups): bool {
  if (g.count != 4 || g.len(0) != 3 || g.len(1) != 2 || g.len(2) != 2 || g.len(3) != 2) return false;
  return digitAt(text, g, 0, 0) >= 6;
}

/**
 * Separators agree: ignoring the one after the country code (international numbers) and the ones
 * touching a parenthesised group, all separators are the same character. "01.01.2024 12" (a date
 * and an hour) fails this; "+1 415-555-0100" and "(415) 555-0100" pass.
 */
function consistentSeps(g: Groups, from: i32): bool {
  let seen: i32 = -1;
  for (let i = from; i < g.count; i++) {
    if (unchecked(g.paren[i]) || (i > 0 && unchecked(g.paren[i - 1]))) continue;
    const s = unchecked(g.sep[i]);
    if (seen < 0) seen = s;
    else if (s != seen) return false;
  }
  return true;
}

/** Y-M-D or D.M.Y at the start of the run: a date, whatever follows. */
function startsLikeDate(g: Groups): bool {
  if (g.count < 3) return false;
  const s = unchecked(g.sep[1]);
  if (s != unchecked(g.sep[2]) || (s != 0x2d && s != 0x2e && s != 0x2f)) return false;
  if (g.len(0) == 4 && g.len(1) <= 2 && g.len(2) <= 2) return true;
  return g.len(0) <= 2 && g.len(1) <= 2 && g.len(2) == 4;
}

/** Four dot-separated groups of at most 3 digits: an IPv4 address or a version, not a phone. */
function looksDotted(g: Groups): bool {
  if (g.count != 4) return false;
  for (let i = 1; i < 4; i++) if (unchecked(g.sep[i]) != 0x2e) return false;
  for (let i = 0; i < 4; i++) if (g.len(i) > 3) return false;
  return true;
}

function plausiblePhone(text: string, g: Groups): bool {
  if (g.overflow || g.count == 0) return false;
  const d = g.digits;
  const lead = digitAt(text, g, 0, 0);
  // Short single-digit groups ("1 2 3 4 5 6 7 8 9") are counting, not dialling; a lone digit is
  // allowed only near the front (country code 1/7, trunk 1, "(0)", French "6") or as a dashed
  // extension at the end (German "+49 89 123456-0").
  let singles = 0;
  for (let i = 0; i < g.count; i++) {
    if (g.len(i) == 1) {
      singles++;
      if (i > 2 && !(i == g.count - 1 && unchecked(g.sep[i]) == 0x2d)) return false;
    }
    if (g.len(i) > 8 && g.count > 1) return false;
  }
  if (singles > 2) return false;
  if (startsLikeDate(g) || looksDotted(g)) return false;

  const paren0 = unchecked(g.paren[0]);
  const intl00 = !g.plus && !paren0 && g.len(0) >= 3 && lead == 0 && digitAt(text, g, 0, 1) == 0;
  if (g.plus || intl00) {
    const cc = intl00 ? digitAt(text, g, 0, 2) : lead;
    const n = intl00 ? d - 2 : d;
    if (cc == 0 || n < 8 || n > 15) return false;
    if (g.count == 1) return g.plus; // E.164 written solid: "+33612345678"
    // After "+", mixed separators are normal ("+7 495 123-45-67"); after "00" they must agree.
    return g.plus || consistentSeps(g, 2);
  }
  if (g.count < 2) return false; // a plain digit run is a number, not a phone
  if (!consistentSeps(g, 1)) return false;
  if (paren0) {
    // "(415) 555-0100", "(030) 1234 5678", "(0)20 7946 0958"
    if (lead == 0) return d >= 9 && d <= 12;
    return isNanp(text, g);
  }
  if (lead == 0) return d >= 9 && d <= 12; // DE mobiles reach 12: 0151 23456789
  return isNanp(text, g) || isSpanish(text, g);
}

/** Appends, given the run starts findPii listed, the phone numbers of `text` to `out`. */
export function findPhones(text: string, starts: Array<i32>, out: Array<Finding>): void {
  findRuns(text, starts, PHONE_FLAGS, EntityKind.Phone, plausiblePhone, groups, out);
}
