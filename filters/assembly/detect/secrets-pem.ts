// PEM private key blocks: "-----BEGIN <label>-----" where the label ends in PRIVATE KEY (RSA, EC,
// DSA, OPENSSH, ENCRYPTED, plain PKCS#8) or PRIVATE KEY BLOCK (PGP), through the matching
// "-----END <label>-----". The whole block is the finding. A block whose END has not arrived
// (truncated paste, stream in progress) runs to the end of the text: half a key is still a leak.

import { EntityKind, Finding } from "./finding";
import { codeAt, findLit } from "./text-at";
import { isUpper, isDigit, isBase64Char, hasAt, isPrefixOf } from "./secrets-chars";

const BEGIN: string = "-----BEGIN ";
const DASHES: string = "-----";
const MAX_LABEL: i32 = 40;
// A block needs this many consecutive base64 characters before its END (or the next dashes):
// "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----" is documentation, not a key.
const MIN_BODY_RUN: i32 = 16;

function isLabelChar(c: i32): bool { return isUpper(c) || isDigit(c) || c == 0x20; }

// Label bounds of the last header read (module-level; the caller uses them before the next read).
let labelStart: i32 = 0;
let labelEnd: i32 = 0;

/** With "-----BEGIN " at b: the index after the header's closing dashes if it is a private-key
 *  header, else -1. */
function readHeader(text: string, b: i32): i32 {
  const s = b + BEGIN.length;
  let k = s;
  while (k < text.length && k - s < MAX_LABEL && isLabelChar(codeAt(text, k))) k++;
  if (!hasAt(text, k, DASHES)) return -1;
  const label = k;
  if (!(hasAt(text, label - 11, "PRIVATE KEY") || hasAt(text, label - 17, "PRIVATE KEY BLOCK"))) return -1;
  labelStart = s;
  labelEnd = k;
  return k + DASHES.length;
}

function endMarker(text: string): string {
  return "-----END " + text.substring(labelStart, labelEnd) + DASHES;
}

function hasBase64Run(text: string, start: i32, end: i32): bool {
  let run = 0;
  for (let i = start; i < end; i++) {
    if (isBase64Char(codeAt(text, i))) {
      if (++run >= MIN_BODY_RUN) return true;
    } else run = 0;
  }
  return false;
}

/** Appends one finding per private-key block. Linear: each region is scanned a bounded number of times. */
export function scanPem(text: string, out: Array<Finding>): void {
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    const b = findLit(text, BEGIN, pos);
    if (b < 0) return;
    const he = readHeader(text, b);
    if (he < 0) { pos = b + 1; continue; }
    const marker = endMarker(text);
    // The body ends at the next run of dashes (END, or another BEGIN).
    const nd = findLit(text, DASHES, he);
    const regionEnd = nd < 0 ? n : nd;
    if (!hasBase64Run(text, he, regionEnd)) {
      if (nd < 0) return;
      pos = nd;
      continue;
    }
    const e = findLit(text, marker, he);
    if (e < 0) {
      out.push(new Finding(EntityKind.PrivateKey, b, n));
      return;
    }
    out.push(new Finding(EntityKind.PrivateKey, b, e + marker.length));
    pos = e + marker.length;
  }
}

/**
 * For streaming: the start of the first private-key header whose END has not arrived, or of a
 * header still being written at the very end ("-----BEG", "-----BEGIN RSA PRIV"), or text.length.
 * Unbounded by design: the caller caps how much it holds.
 */
export function pemHoldStart(text: string): i32 {
  const n = text.length;
  let pos = 0;
  while (pos < n) {
    const b = findLit(text, BEGIN, pos);
    if (b < 0) break;
    const he = readHeader(text, b);
    if (he < 0) { pos = b + 1; continue; }
    const marker = endMarker(text);
    const e = findLit(text, marker, he);
    if (e < 0) return b;
    pos = e + marker.length;
  }
  const from = n - (BEGIN.length + MAX_LABEL + DASHES.length);
  for (let j = from < 0 ? 0 : from; j < n; j++) {
    if (codeAt(text, j) == 0x2d && partialHeader(text, j)) return j;
  }
  return n;
}

function partialHeader(text: string, j: i32): bool {
  const n = text.length;
  // Dashes right after a label or other dashes close a marker ("...KEY-----"); they start none.
  if (j > 0) {
    const p = codeAt(text, j - 1);
    if (p == 0x2d || isUpper(p) || isDigit(p)) return false;
  }
  if (n - j <= BEGIN.length) return isPrefixOf(text, j, n, BEGIN);
  if (!hasAt(text, j, BEGIN)) return false;
  const s = j + BEGIN.length;
  let k = s;
  while (k < n && k - s < MAX_LABEL && isLabelChar(codeAt(text, k))) k++;
  if (k == n) return true;
  let d = k;
  while (d < n && codeAt(text, d) == 0x2d) d++;
  return d == n && d - k < DASHES.length;
}
