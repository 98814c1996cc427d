// JSON string values between their byte form in a body and AssemblyScript strings (UTF-16), both
// ways in linear time: escapes are resolved before the detectors look (an e-mail written
// "a\u0040b.com" must be found), and a rewritten value is re-escaped as it goes back. The body was
// validated by checkJson (well-formed JSON, valid UTF-8) before any of this runs.
import { ByteSink } from "./byte-sink";
import { hasByte, hasHighByte, plainJsonBytes } from "../sdk/swar";

// Scratch space for decoded UTF-16 units, reused (grown, never shrunk) across calls.
let units: StaticArray<u16> = new StaticArray<u16>(1024);

function grow(need: i32): void {
  if (need <= units.length) return;
  let cap = units.length * 2;
  while (cap < need) cap *= 2;
  const next = new StaticArray<u16>(cap);
  memory.copy(changetype<usize>(next), changetype<usize>(units), <usize>units.length << 1);
  units = next;
}

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

function hexValue(c: u32): u32 {
  const h = c | 0x20;
  return h >= 0x61 ? h - 0x61 + 10 : h - 0x30;
}

/**
 * Decodes the JSON string whose opening quote is at `start` and whose closing quote is at
 * `end - 1`. Unpaired surrogate escapes are kept as lone UTF-16 units, like JavaScript does.
 */
export function decodeJsonString(base: usize, start: i32, end: i32): string {
  // Never more UTF-16 units than bytes: after this, the stores below need no bounds check.
  grow(end - start);
  let n = 0;
  let i = start + 1;
  const stop = end - 1;
  const dst = changetype<usize>(units);
  while (i < stop) {
    // Eight ASCII bytes without a backslash (most of a prompt) become eight units at once. Safe:
    // the load reads bytes [i, i + 8) < stop, and the stores units [n, n + 8) <= the bytes read.
    while (i + 8 <= stop) {
      const v = load<u64>(base + <usize>i);
      if (hasHighByte(v) || hasByte(v, 0x5c)) break;
      store<u64>(dst + (<usize>n << 1), widen(v & 0xffffffff));
      store<u64>(dst + (<usize>(n + 4) << 1), widen(v >> 32));
      i += 8;
      n += 8;
    }
    if (i >= stop) break;
    const c = at(base, i);
    if (c == 0x5c) {
      const e = at(base, i + 1);
      if (e == 0x75) {
        unchecked(units[n++] = <u16>((hexValue(at(base, i + 2)) << 12) | (hexValue(at(base, i + 3)) << 8) |
          (hexValue(at(base, i + 4)) << 4) | hexValue(at(base, i + 5))));
        i += 6;
        continue;
      }
      let u: u32 = e;
      if (e == 0x6e) u = 0x0a; else if (e == 0x74) u = 0x09; else if (e == 0x72) u = 0x0d;
      else if (e == 0x62) u = 0x08; else if (e == 0x66) u = 0x0c;
      unchecked(units[n++] = <u16>u);
      i += 2;
      continue;
    }
    if (c < 0x80) { unchecked(units[n++] = <u16>c); i++; continue; }
    // Valid UTF-8 (checked): lead byte gives the length.
    let cp: u32 = 0;
    if (c < 0xe0) { cp = ((c & 0x1f) << 6) | (at(base, i + 1) & 0x3f); i += 2; }
    else if (c < 0xf0) { cp = ((c & 0x0f) << 12) | ((at(base, i + 1) & 0x3f) << 6) | (at(base, i + 2) & 0x3f); i += 3; }
    else {
      cp = ((c & 0x07) << 18) | ((at(base, i + 1) & 0x3f) << 12) | ((at(base, i + 2) & 0x3f) << 6) | (at(base, i + 3) & 0x3f);
      i += 4;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unchecked(units[n++] = <u16>(0xd800 + (cp >> 10)));
      unchecked(units[n++] = <u16>(0xdc00 + (cp & 0x3ff)));
    } else {
      unchecked(units[n++] = <u16>cp);
    }
  }
  return String.UTF16.decodeUnsafe(changetype<usize>(units), <usize>n << 1);
}

/** Four bytes (the low 32 bits of x) as four UTF-16 units (little-endian, as memory holds them). */
@inline function widen(x: u64): u64 {
  x = (x | (x << 16)) & 0x0000ffff0000ffff;
  return (x | (x << 8)) & 0x00ff00ff00ff00ff;
}

/** Four UTF-16 units (x, as loaded from memory) as four bytes, when all are below 0x80. */
@inline function narrow(x: u64): u32 {
  return <u32>((x & 0xff) | ((x >> 8) & 0xff00) | ((x >> 16) & 0xff0000) | ((x >> 24) & 0xff000000));
}

const HEX: string = "0123456789abcdef";

/** The most bytes one UTF-16 unit of a string takes in JSON: a \u escape. */
const MAX_BYTES_PER_UNIT: i32 = 6;

/**
 * Appends `s` to `sink` as a JSON string (quotes included), UTF-8 encoded. A lone surrogate is
 * written as a \u escape so the output stays valid UTF-8 and keeps the same string value.
 */
export function writeJsonString(sink: ByteSink, s: string): void {
  const n = s.length;
  // Room for the worst case once, then plain stores: this runs over every rewritten string.
  const start = sink.reserve(n * MAX_BYTES_PER_UNIT + 2);
  const src = changetype<usize>(s);
  let p = start;
  store<u8>(p++, 0x22);
  for (let i = 0; i < n; i++) {
    // Four plain ASCII units at a time (most of a prompt): one load, one 4-byte store. The bytes
    // are tested doubled up to fill the eight lanes. Safe: the load reads units [i, i + 4) < n,
    // and 4 bytes for 4 units is within the room reserved.
    while (i + 4 <= n) {
      const v = load<u64>(src + (<usize>i << 1));
      if ((v & 0xff80ff80ff80ff80) != 0) break; // a unit of 0x80 or more
      const b = narrow(v);
      if (!plainJsonBytes(<u64>b | (<u64>b << 32))) break;
      store<u32>(p, b);
      p += 4;
      i += 4;
    }
    if (i >= n) break;
    // Safe: i < n = s.length.
    const c = <u32>load<u16>(src + (<usize>i << 1));
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x22 && c != 0x5c) { store<u8>(p++, <u8>c); continue; }
      store<u8>(p++, 0x5c);
      if (c == 0x22 || c == 0x5c) { store<u8>(p++, <u8>c); continue; }
      if (c == 0x0a) { store<u8>(p++, 0x6e); continue; }
      if (c == 0x0d) { store<u8>(p++, 0x72); continue; }
      if (c == 0x09) { store<u8>(p++, 0x74); continue; }
      p = storeUnicodeEscape(p, c);
      continue;
    }
    if (c < 0x800) { store<u8>(p++, <u8>(0xc0 | (c >> 6))); store<u8>(p++, <u8>(0x80 | (c & 0x3f))); continue; }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = <u32>load<u16>(src + (<usize>(i + 1) << 1));
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        store<u8>(p++, <u8>(0xf0 | (cp >> 18)));
        store<u8>(p++, <u8>(0x80 | ((cp >> 12) & 0x3f)));
        store<u8>(p++, <u8>(0x80 | ((cp >> 6) & 0x3f)));
        store<u8>(p++, <u8>(0x80 | (cp & 0x3f)));
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) { store<u8>(p++, 0x5c); p = storeUnicodeEscape(p, c); continue; }
    store<u8>(p++, <u8>(0xe0 | (c >> 12)));
    store<u8>(p++, <u8>(0x80 | ((c >> 6) & 0x3f)));
    store<u8>(p++, <u8>(0x80 | (c & 0x3f)));
  }
  store<u8>(p++, 0x22);
  sink.commit(<i32>(p - start));
}

/** Stores "u" and four hex digits of `c` at `p` (the backslash is already written); returns the next address. */
function storeUnicodeEscape(p: usize, c: u32): usize {
  store<u8>(p, 0x75);
  store<u8>(p + 1, <u8>HEX.charCodeAt(<i32>((c >> 12) & 0xf)));
  store<u8>(p + 2, <u8>HEX.charCodeAt(<i32>((c >> 8) & 0xf)));
  store<u8>(p + 3, <u8>HEX.charCodeAt(<i32>((c >> 4) & 0xf)));
  store<u8>(p + 4, <u8>HEX.charCodeAt(<i32>(c & 0xf)));
  return p + 5;
}
