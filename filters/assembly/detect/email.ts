// E-mail addresses: local part (see isLocalChar) "@" domain (ASCII, at least two
// labels, letters/digits/hyphens, a top-level domain of two or more letters). Found from each
// "@" outward, so the work is linear: the local part never extends over a previous "@".
import { EntityKind, Finding } from "./finding";
import { codeAt } from "./text-at";
import { isAlpha, isAlnum, isDomainChar, isLocalChar } from "./chars";

const MAX_LOCAL: i32 = 64;
const MAX_DOMAIN: i32 = 253;

/** Start of the local part ending at `at` (exclusive), or -1 when there is none worth matching. */
function localStart(text: string, at: i32): i32 {
  let s = at;
  while (s > 0 && isLocalChar(<i32>codeAt(text, s - 1))) s--;
  // A sentence's "." or a quoting apostrophe ('a@b.com') is not part of the address.
  while (s < at && (codeAt(text, s) == 0x2e || codeAt(text, s) == 0x27)) s++;
  if (s == at || at - s > MAX_LOCAL || codeAt(text, at - 1) == 0x2e) return -1;
  for (let i = s + 1; i < at; i++) if (codeAt(text, i) == 0x2e && codeAt(text, i - 1) == 0x2e) return -1;
  return s;
}

/** End (exclusive) of the domain starting at `from`, or -1. */
function domainEnd(text: string, from: i32): i32 {
  const n = text.length;
  let e = from;
  while (e < n && isDomainChar(<i32>codeAt(text, e))) e++;
  while (e > from && (codeAt(text, e - 1) == 0x2e || codeAt(text, e - 1) == 0x2d)) e--;
  if (e - from > MAX_DOMAIN) return -1;
  // Labels: non-empty, no leading/trailing hyphen; the last is the TLD (letters, 2+).
  let labelStart = from;
  let labels = 0;
  for (let i = from; i <= e; i++) {
    if (i < e && codeAt(text, i) != 0x2e) continue;
    if (i == labelStart || i - labelStart > 63) return -1;
    if (codeAt(text, labelStart) == 0x2d || codeAt(text, i - 1) == 0x2d) return -1;
    labels++;
    if (i == e) {
      if (i - labelStart < 2) return -1;
      for (let k = labelStart; k < i; k++) if (!isAlpha(<i32>codeAt(text, k))) return -1;
    }
    labelStart = i + 1;
  }
  return labels >= 2 ? e : -1;
}

/** Appends the e-mail addresses of `text` to `out`, given the positions of its "@"s (ascending). */
export function findEmails(text: string, ats: Array<i32>, out: Array<Finding>): void {
  let from = 0;
  for (let k = 0; k < ats.length; k++) {
    const at = ats[k];
    // An "@" inside the address just found is not the start of another.
    if (at < from) continue;
    from = at + 1;
    const s = localStart(text, at);
    if (s < 0) continue;
    const e = domainEnd(text, at + 1);
    if (e < 0) continue;
    // The domain run stops at a non-domain character, so only "_" or a non-ASCII letter can glue.
    if (e < text.length && (codeAt(text, e) == 0x5f || isAlnum(<i32>codeAt(text, e)))) continue;
    out.push(new Finding(EntityKind.Email, s, e));
    from = e;
  }
}
