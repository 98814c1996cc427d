// IP addresses. IPv4: exactly four dot-separated decimal octets 0-255, not part of a longer dotted
// number (a version like 1.2.3.4.5). IPv6: RFC 4291 text forms — eight groups, "::" compression,
// an IPv4 tail — read from a maximal run of hex digits, colons and dots, so times (12:30:45), MAC
// addresses (six groups) and hex hashes (no colon) fail validation instead of half-matching.
import { EntityKind, Finding } from "./finding";
import { codeAt } from "./text-at";
import { isDigit, isHex, isWordChar, leftBoundary, rightBoundary } from "./chars";
import { Groups, findRuns, SEP_DOT } from "./groups";

const groups: Groups = new Groups();

/** A decimal octet 0-255 in text[start, end), without leading zeros ("01" is not written by tools). */
function octet(text: string, start: i32, end: i32): bool {
  const len = end - start;
  if (len < 1 || len > 3) return false;
  if (len > 1 && codeAt(text, start) == 0x30) return false;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = <i32>codeAt(text, i);
    if (!isDigit(c)) return false;
    v = v * 10 + (c - 0x30);
  }
  return v <= 255;
}

function ipv4Run(text: string, g: Groups): bool {
  if (g.overflow || g.count != 4) return false;
  for (let k = 0; k < 4; k++) if (!octet(text, unchecked(g.start[k]), unchecked(g.end[k]))) return false;
  return true;
}

/** Appends, given the run starts findPii listed, the IPv4 addresses of `text` to `out`. */
export function findIpv4s(text: string, starts: Array<i32>, out: Array<Finding>): void {
  findRuns(text, starts, SEP_DOT, EntityKind.Ipv4, ipv4Run, groups, out);
}

@inline function isV6Char(c: i32): bool { return isHex(c) || c == 0x3a || c == 0x2e; }

/** The dotted IPv4 tail of an IPv6 address in text[start, end). */
function v4Tail(text: string, start: i32, end: i32): bool {
  let parts = 0;
  let p = start;
  while (p <= end) {
    let q = p;
    while (q < end && codeAt(text, q) != 0x2e) q++;
    if (!octet(text, p, q)) return false;
    parts++;
    p = q + 1;
  }
  return parts == 4;
}

/** Validates text[start, end) as an IPv6 address. */
export function ipv6Valid(text: string, start: i32, end: i32): bool {
  let groupsSeen = 0;
  let compressed = false;
  let p = start;
  if (end - start >= 2 && codeAt(text, p) == 0x3a) {
    if (codeAt(text, p + 1) != 0x3a) return false; // a single leading ":" is not allowed
    compressed = true;
    p += 2;
    if (p == end) return false; // "::" alone is not an address worth redacting
  }
  while (p < end) {
    let q = p;
    let dots = false;
    while (q < end && codeAt(text, q) != 0x3a) { if (codeAt(text, q) == 0x2e) dots = true; q++; }
    if (dots) {
      if (q != end || !v4Tail(text, p, q)) return false; // the IPv4 part comes last
      groupsSeen += 2;
    } else {
      const len = q - p;
      if (len < 1 || len > 4) return false;
      for (let i = p; i < q; i++) if (!isHex(<i32>codeAt(text, i))) return false;
      groupsSeen++;
    }
    if (q == end) break;
    // q is at ":". "::" compresses once; a trailing "::" ends the address.
    if (q + 1 < end && codeAt(text, q + 1) == 0x3a) {
      if (compressed) return false;
      compressed = true;
      p = q + 2;
      if (p == end) break;
    } else {
      if (q + 1 == end) return false; // trailing single ":"
      p = q + 1;
    }
  }
  if (compressed) return groupsSeen >= 2 && groupsSeen <= 7;
  return groupsSeen == 8;
}

/**
 * Appends the IPv6 addresses of `text` to `out`, given the positions of its colons (ascending;
 * findPii lists them). An address is read from a maximal run of hex digits, colons and dots with
 * two or more colons, so only the runs around colons are visited, not the whole text: in prose a
 * colon ends a label ("Note:") and its run is a word or nothing.
 */
export function findIpv6s(text: string, colons: Array<i32>, out: Array<Finding>): void {
  const n = text.length;
  // End of the last run read: the colons inside it belong to it.
  let done = 0;
  for (let k = 0; k < colons.length; k++) {
    const p = colons[k];
    if (p < done) continue;
    let i = p;
    while (i > 0 && isV6Char(<i32>codeAt(text, i - 1))) i--;
    let j = p + 1;
    while (j < n && isV6Char(<i32>codeAt(text, j))) j++;
    done = j;
    // The run is read only from its start, and not when it starts with "." or is glued to a word
    // on the left (std::vector, Foo::Bar): its colons then start nothing either.
    if (codeAt(text, i) == 0x2e || (i > 0 && isWordChar(<i32>codeAt(text, i - 1)))) continue;
    // Sentence punctuation after an address: "…::1." or "fe80::1:" before a port-less colon.
    while (j > i && codeAt(text, j - 1) == 0x2e) j--;
    if (j - i >= 2 && codeAt(text, j - 1) == 0x3a && codeAt(text, j - 2) != 0x3a) j--;
    let seen = 0;
    for (let q = i; q < j && seen < 2; q++) if (codeAt(text, q) == 0x3a) seen++;
    if (seen >= 2 && ipv6Valid(text, i, j) && rightBoundary(text, j) && leftBoundary(text, i)) {
      out.push(new Finding(EntityKind.Ipv6, i, j));
    }
  }
}
