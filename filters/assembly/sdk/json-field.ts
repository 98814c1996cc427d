// Reads one top-level string member of a JSON object (e.g. a request's "model") without building a
// tree. Expects a body that checkJson() already accepted; on anything unexpected it answers null.

import { hasByte } from "./swar";

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

/** Index just past the string that starts at `i` (the opening quote), or -1. */
export function skipString(base: usize, len: i32, i: i32): i32 {
  i++;
  while (i < len) {
    // Eight bytes at a time while none is a quote or a backslash: a long prompt is mostly that.
    // Safe: the load reads bytes [i, i + 8) < len.
    while (i + 8 <= len) {
      const v = load<u64>(base + <usize>i);
      if (hasByte(v, 0x22) || hasByte(v, 0x5c)) break;
      i += 8;
    }
    if (i >= len) break;
    const c = at(base, i);
    if (c == 0x5c) { i += 2; continue; }
    if (c == 0x22) return i + 1;
    i++;
  }
  return -1;
}

/** Decodes the JSON string whose opening quote is at `start` and closing quote just before `end`. */
function decodeString(base: usize, start: i32, end: i32): string | null {
  // Fast path: no escapes.
  let escaped = false;
  for (let i = start + 1; i < end - 1; i++) if (at(base, i) == 0x5c) { escaped = true; break; }
  if (!escaped) return String.UTF8.decodeUnsafe(base + <usize>(start + 1), <usize>(end - start - 2));
  // Rare: resolve escapes through the full reader (model names never need this in practice).
  let out = "";
  let i = start + 1;
  let runStart = i;
  while (i < end - 1) {
    if (at(base, i) != 0x5c) { i++; continue; }
    out += String.UTF8.decodeUnsafe(base + <usize>runStart, <usize>(i - runStart));
    const e = at(base, i + 1);
    if (e == 0x75) {
      let code: u32 = 0;
      for (let k = 2; k < 6; k++) {
        const h = at(base, i + k) | 0x20;
        code = code * 16 + (h >= 0x61 ? h - 0x61 + 10 : h - 0x30);
      }
      out += String.fromCharCode(<i32>code);
      i += 6;
    } else {
      if (e == 0x6e) out += "\n"; else if (e == 0x74) out += "\t"; else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b"; else if (e == 0x66) out += "\f"; else out += String.fromCharCode(<i32>e);
      i += 2;
    }
    runStart = i;
  }
  return out + String.UTF8.decodeUnsafe(base + <usize>runStart, <usize>(end - 1 - runStart));
}

/** The value of top-level member `name` when it is a string; null if absent or not a string. */
export function topLevelString(base: usize, len: i32, name: string): string | null {
  return stringAt(base, len, topLevelValueAt(base, len, name));
}

/** The JSON string value starting at offset `j` (from topLevelValues), or null. */
export function stringAt(base: usize, len: i32, j: i32): string | null {
  if (j < 0 || at(base, j) != 0x22) return null;
  const vEnd = skipString(base, len, j);
  return vEnd < 0 ? null : decodeString(base, j, vEnd);
}

/**
 * The value at offset `j` when it is a non-negative integer that fits in 53 bits (token counts);
 * -1 if `j` < 0, or the value is not a number, negative, fractional or too large.
 */
export function uintAt(base: usize, len: i32, j: i32): i64 {
  if (j < 0) return -1;
  let v: i64 = 0;
  let i = j;
  while (i < len) {
    const c = at(base, i);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + <i64>(c - 0x30);
    if (v > 9007199254740991) return -1;
    i++;
  }
  if (i == j) return -1;
  // "1.5", "1e3": not an integer count.
  if (i < len && (at(base, i) == 0x2e || (at(base, i) | 0x20) == 0x65)) return -1;
  return v;
}

/** Whether the value at offset `j` is the literal true. */
export function trueAt(base: usize, len: i32, j: i32): bool {
  return j >= 0 && j + 4 <= len && at(base, j) == 0x74 && at(base, j + 1) == 0x72 && at(base, j + 2) == 0x75 && at(base, j + 3) == 0x65;
}

/** Offset of top-level member `name`'s value, or -1 (see topLevelValues). */
export function topLevelValueAt(base: usize, len: i32, name: string): i32 {
  const names = new Array<string>(1);
  names[0] = name;
  return topLevelValues(base, len, names)[0];
}

/**
 * Offsets of the first byte of each top-level member's value (after the colon and whitespace), -1
 * for a member the object lacks, in one pass over the body: bodies can be megabytes, so a filter
 * that needs several members asks for them together. Expects a body checkJson() accepted.
 * A member named twice resolves to its LAST occurrence, as the providers' JSON parsers (Python's
 * json, JavaScript's JSON.parse) do: checking the first one would let {"model":"allowed",
 * "model":"forbidden"} past the model policy while the provider serves the second.
 */
export function topLevelValues(base: usize, len: i32, names: Array<string>): Int32Array {
  const out = new Int32Array(names.length);
  out.fill(-1);
  let depth = 0;
  let i = 0;
  let expectKey = false;
  // The whole top level is read (no early exit): a later duplicate must win.
  while (i < len) {
    const c = at(base, i);
    if (c == 0x22) {
      const end = skipString(base, len, i);
      if (end < 0) return out;
      if (depth == 1 && expectKey) {
        const k = nameIndex(base, i, end, names);
        // skip whitespace and the colon
        let j = end;
        while (j < len && at(base, j) != 0x3a) j++;
        j++;
        while (j < len && (at(base, j) == 0x20 || at(base, j) == 0x0a || at(base, j) == 0x0d || at(base, j) == 0x09)) j++;
        if (k >= 0 && j < len) out[k] = j;
        expectKey = false;
        i = j;
        continue;
      }
      i = end;
      continue;
    }
    if (c == 0x7b || c == 0x5b) {
      depth++;
      expectKey = c == 0x7b && depth == 1;
    } else if (c == 0x7d || c == 0x5d) {
      depth--;
    } else if (c == 0x2c && depth == 1) {
      expectKey = true;
    }
    i++;
  }
  return out;
}

/**
 * Which of `names` the key string [start, end) (quotes included) is, or -1. A key without escapes
 * is compared byte for byte with ASCII names, allocating nothing (this runs for every member of
 * every object read, e.g. each SSE event of a stream); a key with an escape, or a name that is
 * not ASCII, is decoded and compared as a string, so "mod\u0065l" still is "model".
 */
function nameIndex(base: usize, start: i32, end: i32, names: Array<string>): i32 {
  const n = end - start - 2;
  for (let i = start + 1; i < end - 1; i++) {
    if (at(base, i) == 0x5c) return names.indexOf(<string>decodeString(base, start, end));
  }
  for (let k = 0; k < names.length; k++) {
    const name = names[k];
    let ascii = true;
    for (let c = 0; c < name.length; c++) if (name.charCodeAt(c) >= 0x80) { ascii = false; break; }
    if (!ascii) {
      if (<string>decodeString(base, start, end) == name) return k;
      continue;
    }
    if (name.length != n) continue;
    let same = true;
    for (let c = 0; c < n; c++) {
      if (at(base, start + 1 + c) != <u32>name.charCodeAt(c)) { same = false; break; }
    }
    if (same) return k;
  }
  return -1;
}

/**
 * Index just past the JSON value that starts at `j` (a string, object, array or scalar), or -1.
 * Expects a body checkJson() accepted.
 */
export function valueEndAt(base: usize, len: i32, j: i32): i32 {
  if (j < 0 || j >= len) return -1;
  const first = at(base, j);
  if (first == 0x22) return skipString(base, len, j);
  if (first != 0x7b && first != 0x5b) {
    let i = j;
    while (i < len) {
      const c = at(base, i);
      if (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  let i = j;
  while (i < len) {
    const c = at(base, i);
    if (c == 0x22) {
      i = skipString(base, len, i);
      if (i < 0) return -1;
      continue;
    }
    if (c == 0x7b || c == 0x5b) depth++;
    else if (c == 0x7d || c == 0x5d) {
      depth--;
      if (depth == 0) return i + 1;
    }
    i++;
  }
  return -1;
}
