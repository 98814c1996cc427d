// US Social Security numbers written ddd-dd-dddd (or with spaces). Numbers the SSA never issues
// are excluded: area 000, 666 and 900-999, group 00, serial 0000. Nine solid digits are not
// matched: without surrounding context they are as likely an order or account number.
import { EntityKind, Finding } from "./finding";
import { Groups, findRuns, SEP_SPACE, SEP_DASH } from "./groups";

const groups: Groups = new Groups();

function num(text: string, start: i32, end: i32): i32 {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (<i32>text.charCodeAt(i) - 0x30);
  return v;
}

/** True for an issuable area-group-serial triple. */
export function ssnValid(area: i32, group: i32, serial: i32): bool {
  if (area == 0 || area == 666 || area >= 900) return false;
  return group != 0 && serial != 0;
}

function plausibleSsn(text: string, g: Groups): bool {
  if (g.overflow || g.count != 3) return false;
  if (g.len(0) != 3 || g.len(1) != 2 || g.len(2) != 4 || g.sep[1] != g.sep[2]) return false;
  return ssnValid(num(text, g.start[0], g.end[0]), num(text, g.start[1], g.end[1]), num(text, g.start[2], g.end[2]));
}

/** Appends, given the run starts findPii listed, the SSNs of `text` to `out`. */
export function findSsns(text: string, starts: Array<i32>, out: Array<Finding>): void {
  findRuns(text, starts, SEP_SPACE | SEP_DASH, EntityKind.Ssn, plausibleSsn, groups, out);
}
