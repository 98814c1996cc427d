// JSON string values between their byte form in a body and AssemblyScript strings (UTF-16), both
// ways in linear time: escapes are resolved before the detectors look (an e-mail written
// "a\u0040b.com" must be found), and a rewritten value is re-escaped as it goes back. The body was
// validated by checkJson (well-formed JSON, valid UTF-8) before any of this runs.
import { ByteSink } from "./byte-sink";

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
  // Never more UTF-16 units than bytes.
  grow(end - start);
  let n = 0;
  let i = start + 1;
  const stop = end - 1;
  while (i < stop) {
    const c = at(base, i);
    if (c == 0x5c) {
      const e = at(base, i + 1);
      if (e == 0x75) {
        units[n++] = <u16>((hexValue(at(base, i + 2)) << 12) | (hexValue(at(base, i + 3)) << 8) |
          (hexValue(at(base, i + 4)) << 4) | hexValue(at(base, i + 5)));
        i += 6;
        continue;
      }
      let u: u32 = e;
      if (e == 0x6e) u = 0x0a; else if (e == 0x74) u = 0x09; else if (e == 0x72) u = 0x0d;
      else if (e == 0x62) u = 0x08; else if (e == 0x66) u = 0x0c;
      units[n++] = <u16>u;
      i += 2;
      continue;
    }
    if (c < 0x80) { units[n++] = <u16>c; i++; continue; }
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
      units[n++] = <u16>(0xd800 + (cp >> 10));
      units[n++] = <u16>(0xdc00 + (cp & 0x3ff));
    } else {
      units[n++] = <u16>cp;
    }
  }
  return String.UTF16.decodeUnsafe(changetype<usize>(units), <usize>n << 1);
}

const HEX: string = "0123456789abcdef";

/**
 * Appends `s` to `sink` as a JSON string (quotes included), UTF-8 encoded. A lone surrogate is
 * written as a \u escape so the output stays valid UTF-8 and keeps the same string value.
 */
export function writeJsonString(sink: ByteSink, s: string): void {
  sink.writeByte(0x22);
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = <u32>s.charCodeAt(i);
    if (c == 0x22) { sink.writeByte(0x5c); sink.writeByte(0x22); continue; }
    if (c == 0x5c) { sink.writeByte(0x5c); sink.writeByte(0x5c); continue; }
    if (c < 0x20) {
      if (c == 0x0a) { sink.writeByte(0x5c); sink.writeByte(0x6e); continue; }
      if (c == 0x0d) { sink.writeByte(0x5c); sink.writeByte(0x72); continue; }
      if (c == 0x09) { sink.writeByte(0x5c); sink.writeByte(0x74); continue; }
      writeEscape(sink, c);
      continue;
    }
    if (c < 0x80) { sink.writeByte(c); continue; }
    if (c < 0x800) { sink.writeByte(0xc0 | (c >> 6)); sink.writeByte(0x80 | (c & 0x3f)); continue; }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = <u32>s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        sink.writeByte(0xf0 | (cp >> 18));
        sink.writeByte(0x80 | ((cp >> 12) & 0x3f));
        sink.writeByte(0x80 | ((cp >> 6) & 0x3f));
        sink.writeByte(0x80 | (cp & 0x3f));
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) { writeEscape(sink, c); continue; }
    sink.writeByte(0xe0 | (c >> 12));
    sink.writeByte(0x80 | ((c >> 6) & 0x3f));
    sink.writeByte(0x80 | (c & 0x3f));
  }
  sink.writeByte(0x22);
}

function writeEscape(sink: ByteSink, c: u32): void {
  sink.writeByte(0x5c);
  sink.writeByte(0x75);
  sink.writeByte(<u32>HEX.charCodeAt(<i32>((c >> 12) & 0xf)));
  sink.writeByte(<u32>HEX.charCodeAt(<i32>((c >> 8) & 0xf)));
  sink.writeByte(<u32>HEX.charCodeAt(<i32>((c >> 4) & 0xf)));
  sink.writeByte(<u32>HEX.charCodeAt(<i32>(c & 0xf)));
}
