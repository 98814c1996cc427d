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
  let depth = 0;
  let i = 0;
  let expectKey = false;
  while (i < len) {
    const c = at(base, i);
    if (c == 0x22) {
      const end = skipString(base, len, i);
      if (end < 0) return null;
      if (depth == 1 && expectKey) {
        const key = decodeString(base, i, end);
        // skip whitespace and the colon
        let j = end;
        while (j < len && at(base, j) != 0x3a) j++;
        j++;
        while (j < len && (at(base, j) == 0x20 || at(base, j) == 0x0a || at(base, j) == 0x0d || at(base, j) == 0x09)) j++;
        if (key == name) {
          if (j >= len || at(base, j) != 0x22) return null;
          const vEnd = skipString(base, len, j);
          return vEnd < 0 ? null : decodeString(base, j, vEnd);
        }
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
  return null;
}
