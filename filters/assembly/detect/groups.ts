// Reads a run of digit groups ("+44 (0)20 7946 0958", "4111-1111-1111-1111", "10.0.0.1") once, so
// the number detectors (phone, card, SSN, IPv4) validate shapes instead of re-scanning characters.
// The run is maximal for the separators allowed: a detector that rejects it skips the whole run,
// which keeps every scan linear and stops a valid-looking piece of a longer number from matching.
import { EntityKind, Finding } from "./finding";
import { codeAt } from "./text-at";
import { isDigit, isGroupSpace, rightBoundary } from "./chars";

export const SEP_SPACE: i32 = 1;
export const SEP_DASH: i32 = 2;
export const SEP_DOT: i32 = 4;
export const SEP_SLASH: i32 = 8;
/** Groups may be wrapped in parentheses: "(415) 555-0100", "+44 (0)20 …". */
export const PARENS: i32 = 16;
/** The run may open with "+" (international phone numbers). */
export const PLUS: i32 = 32;

/** More groups than any entity has; a longer run is read to its end and reported as overflowed. */
export const MAX_GROUPS: i32 = 12;
const MAX_DIGITS: i32 = 24;

/**
 * One run's groups. The detectors read the per-group arrays unchecked: every index they use is
 * below `count` (at most MAX_GROUPS, the arrays' length), which each check tests before reading.
 */
export class Groups {
  /** Digit span of each group (parentheses excluded). */
  start: StaticArray<i32> = new StaticArray<i32>(MAX_GROUPS);
  end: StaticArray<i32> = new StaticArray<i32>(MAX_GROUPS);
  /** The separator before group i (0 for the first group or when groups touch, as in "(0)20"). */
  sep: StaticArray<i32> = new StaticArray<i32>(MAX_GROUPS);
  paren: StaticArray<bool> = new StaticArray<bool>(MAX_GROUPS);
  count: i32 = 0;
  digits: i32 = 0;
  plus: bool = false;
  /** Start of the run (the "+" or "(" included) and its end (exclusive, closing ")" included). */
  runStart: i32 = 0;
  runEnd: i32 = 0;
  /** Too many groups or digits: no entity, skip to runEnd. */
  overflow: bool = false;

  @inline len(i: i32): i32 { return unchecked(this.end[i]) - unchecked(this.start[i]); }
}

function sepAllowed(c: i32, flags: i32): bool {
  if (isGroupSpace(c)) return (flags & SEP_SPACE) != 0;
  if (c == 0x2d) return (flags & SEP_DASH) != 0;
  if (c == 0x2e) return (flags & SEP_DOT) != 0;
  if (c == 0x2f) return (flags & SEP_SLASH) != 0;
  return false;
}

/** A group starts at `pos`: a digit, or "(" + digit when parentheses are allowed. */
function groupStartsAt(text: string, pos: i32, flags: i32): bool {
  if (pos >= text.length) return false;
  const c = <i32>codeAt(text, pos);
  if (isDigit(c)) return true;
  return c == 0x28 && (flags & PARENS) != 0 && pos + 1 < text.length && isDigit(<i32>codeAt(text, pos + 1));
}

/**
 * Reads the run starting at `pos` into `g`. `g.count` is 0 when no group starts there. A "("
 * without its ")" ends the run before it.
 */
export function readGroups(text: string, pos: i32, flags: i32, g: Groups): void {
  const n = text.length;
  g.count = 0;
  g.digits = 0;
  g.plus = false;
  g.overflow = false;
  g.runStart = pos;
  g.runEnd = pos;
  let p = pos;
  if ((flags & PLUS) != 0 && p < n && codeAt(text, p) == 0x2b) {
    if (p + 1 >= n || !isDigit(<i32>codeAt(text, p + 1))) return;
    g.plus = true;
    p++;
  }
  let sep: i32 = 0;
  while (true) {
    // One group: optional "(", digits, ")" if opened.
    let q = p;
    let paren = false;
    if (codeAt(text, q) == 0x28) { paren = true; q++; }
    const ds = q;
    while (q < n && isDigit(<i32>codeAt(text, q))) q++;
    const de = q;
    if (de == ds) break;
    if (paren) {
      if (q >= n || codeAt(text, q) != 0x29) break; // unclosed "(": the run ends before it
      q++;
    }
    if (g.count < MAX_GROUPS && g.digits + (de - ds) <= MAX_DIGITS) {
      const i = g.count;
      // Safe: i < MAX_GROUPS, the length of these arrays (checked just above).
      unchecked(g.start[i] = ds);
      unchecked(g.end[i] = de);
      unchecked(g.sep[i] = sep);
      unchecked(g.paren[i] = paren);
      g.count++;
    } else {
      g.overflow = true;
    }
    g.digits += de - ds;
    g.runEnd = q;
    p = q;
    // Next: one separator then a group, or a group right after ")" / right before "(".
    if (p >= n) break;
    const c = <i32>codeAt(text, p);
    if (sepAllowed(c, flags) && groupStartsAt(text, p + 1, flags)) {
      sep = c;
      p++;
      continue;
    }
    if ((flags & PARENS) != 0 && (paren || c == 0x28) && groupStartsAt(text, p, flags)) {
      sep = 0;
      continue;
    }
    break;
  }
}

// Where groupDigits assembles the digits: one string allocation per call instead of a substring
// and a concatenation per group. A run keeps at most MAX_DIGITS digits in its groups.
const digitUnits: StaticArray<u16> = new StaticArray<u16>(MAX_DIGITS);

/** The digits of the run, separators dropped (for checksums). */
export function groupDigits(text: string, g: Groups): string {
  let n = 0;
  for (let i = 0; i < g.count; i++) {
    for (let k = unchecked(g.start[i]); k < unchecked(g.end[i]); k++) digitUnits[n++] = <u16>codeAt(text, k);
  }
  return String.UTF16.decodeUnsafe(changetype<usize>(digitUnits), <usize>n << 1);
}

/** True when every separator of groups [from, count) is `sep`. */
export function sepsAre(g: Groups, from: i32, sep: i32): bool {
  for (let i = from; i < g.count; i++) if (unchecked(g.sep[i]) != sep) return false;
  return true;
}

/** Decides whether a run read by readGroups is an entity. */
export type RunCheck = (text: string, g: Groups) => bool;

/** The check of no detector: the default second check of findRuns. */
export function noRun(text: string, g: Groups): bool { return false; }

/**
 * The scan shared by the number detectors: at each position of `starts` (where a number run may
 * start: a digit, "+" or "(" not glued to a preceding token, listed once per text by findPii) that
 * this detector can start from, read the maximal run, report it as `kind` when `check` accepts it and nothing glues
 * to its end, then continue after it (a rejected run is skipped whole). Two detectors that read
 * runs with the same flags (card and SSN) share one scan: `check2` reports as `kind2`.
 */
export function findRuns(text: string, starts: Array<i32>, flags: i32, kind: EntityKind, check: RunCheck, g: Groups, out: Array<Finding>,
  kind2: EntityKind = kind, check2: RunCheck = noRun): void {
  let next = 0;
  for (let k = 0; k < starts.length; k++) {
    const i = starts[k];
    if (i < next) continue;
    const c = <i32>codeAt(text, i);
    if (!(isDigit(c) || (c == 0x2b && (flags & PLUS) != 0) || (c == 0x28 && (flags & PARENS) != 0))) continue;
    readGroups(text, i, flags, g);
    if (g.count == 0) continue;
    const end = g.runEnd;
    const first = check(text, g);
    const second = check2(text, g);
    if ((first || second) && rightBoundary(text, end)) {
      if (first) out.push(new Finding(kind, i, end));
      if (second) out.push(new Finding(kind2, i, end));
    }
    next = end > i ? end : i + 1;
  }
}
