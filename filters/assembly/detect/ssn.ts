// US Social Security numbers written ddd-dd-dddd (or with spaces). Numbers the SSA never issues
// are excluded: area 000, 666 and 900-999, group 00, serial 0000. Nine solid digits match only
// when "SSN" or "social security" comes shortly before them: without that context they are as
// likely an order or account number.
import { EntityKind, Finding } from "./finding";
import { codeAt } from "./text-at";
import { isAlpha } from "./chars";
import { Groups, findRuns, SEP_SPACE, SEP_DASH } from "./groups";

/** How far before nine solid digits the keyword may end ("SSN (no dashes): 123456789"). */
export const SSN_CONTEXT_WINDOW: i32 = 24;
const KEYWORDS: Array<string> = ["ssn", "social security"];

const groups: Groups = new Groups();

function num(text: string, start: i32, end: i32): i32 {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (<i32>codeAt(text, i) - 0x30);
  return v;
}

/** True for an issuable area-group-serial triple. */
export function ssnValid(area: i32, group: i32, serial: i32): bool {
  if (area == 0 || area == 666 || area >= 900) return false;
  return group != 0 && serial != 0;
}

/** text[at, at + word.length) equals the lowercase `word`, ASCII case-insensitively, as a whole word. */
function wordAt(text: string, at: i32, word: string): bool {
  if (at < 0 || at + word.length > text.length) return false;
  for (let k = 0; k < word.length; k++) {
    let c = <i32>codeAt(text, at + k);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c != <i32>codeAt(word, k)) return false;
  }
  const before = at > 0 ? <i32>codeAt(text, at - 1) : 0x20;
  const after = at + word.length < text.length ? <i32>codeAt(text, at + word.length) : 0x20;
  return !isAlpha(before) && !isAlpha(after);
}

/** A keyword ends within SSN_CONTEXT_WINDOW characters before `pos`. */
function keywordBefore(text: string, pos: i32): bool {
  const from = pos - SSN_CONTEXT_WINDOW > 0 ? pos - SSN_CONTEXT_WINDOW : 0;
  for (let k = 0; k < KEYWORDS.length; k++) {
    const w = KEYWORDS[k];
    for (let end = pos; end >= from; end--) if (wordAt(text, end - w.length, w)) return true;
  }
  return false;
}

export function plausibleSsn(text: string, g: Groups): bool {
  if (!g.overflow && g.count == 1 && g.len(0) == 9) {
    const s = unchecked(g.start[0]);
    return keywordBefore(text, s) &&
      ssnValid(num(text, s, s + 3), num(text, s + 3, s + 5), num(text, s + 5, s + 9));
  }
  if (g.overflow || g.count != 3) return false;
  if (g.len(0) != 3 || g.len(1) != 2 || g.len(2) != 4 || unchecked(g.sep[1]) != unchecked(g.sep[2])) return false;
  return ssnValid(num(text, unchecked(g.start[0]), unchecked(g.end[0])), num(text, unchecked(g.start[1]), unchecked(g.end[1])), num(text, unchecked(g.start[2]), unchecked(g.end[2])));
}

/** Appends, given the run starts findPii listed, the SSNs of `text` to `out`. */
export function findSsns(text: string, starts: Array<i32>, out: Array<Finding>): void {
  findRuns(text, starts, SEP_SPACE | SEP_DASH, EntityKind.Ssn, plausibleSsn, groups, out);
}
