// Incremental Server-Sent Events parser for response bodies that arrive in arbitrary chunks: an
// event, a line, even a multi-byte character may be split across chunks. Bytes are kept only up to
// the end of the last complete line, and a line longer than `maxLineBytes` is dropped (counted in
// `overflows`) rather than buffered without bound.

import { hasByte } from "./swar";

export class SseEvent {
  constructor(public event: string, public data: string) {}
}

export class SseParser {
  /** Bytes of the current, incomplete line: pendingLength of them at the start of `pending`. */
  private pending: ArrayBuffer = new ArrayBuffer(256);
  private pendingLength: i32 = 0;
  private eventName: string = "";
  private data: string = "";
  private hasData: bool = false;
  private skippingLine: bool = false;
  /** Lines dropped for exceeding maxLineBytes. */
  overflows: i32 = 0;

  constructor(public maxLineBytes: i32 = 1 << 20) {}

  /** Feeds `len` bytes at `base`; returns the events completed by them, in order. */
  feed(base: usize, len: i32): Array<SseEvent> {
    const out = new Array<SseEvent>(0);
    let i = 0;
    while (i < len) {
      // Each line is found with one scan and kept with one copy: the stream's hot path (this ran
      // a push per byte, most of the usage module's time on a stream).
      const nl = newlineFrom(base, len, i);
      const runEnd = nl < 0 ? len : nl;
      const run = runEnd - i;
      if (!this.skippingLine) {
        if (this.pendingLength + run > this.maxLineBytes) {
          this.overflows++;
          this.skippingLine = true;
          this.pendingLength = 0;
        } else {
          this.append(base + <usize>i, run);
        }
      }
      if (nl < 0) break;
      i = nl + 1;
      if (this.skippingLine) { this.skippingLine = false; this.pendingLength = 0; continue; }
      this.line(out);
    }
    return out;
  }

  /** Appends `n` bytes to the pending line, growing its buffer (bounded by maxLineBytes). */
  private append(src: usize, n: i32): void {
    if (n == 0) return;
    const need = this.pendingLength + n;
    if (need > this.pending.byteLength) {
      let cap = this.pending.byteLength * 2;
      while (cap < need) cap *= 2;
      const grown = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(grown), changetype<usize>(this.pending), <usize>this.pendingLength);
      this.pending = grown;
    }
    // Safe: [pendingLength, need) lies inside `pending` (grown above), and src has n readable bytes.
    memory.copy(changetype<usize>(this.pending) + <usize>this.pendingLength, src, <usize>n);
    this.pendingLength = need;
  }

  /** Handles one complete line (without its "\n"; a trailing "\r" is dropped). */
  private line(out: Array<SseEvent>): void {
    let n = this.pendingLength;
    const at = changetype<usize>(this.pending);
    if (n > 0 && load<u8>(at + <usize>(n - 1)) == 0x0d) n--;
    this.pendingLength = 0;
    if (n == 0) {
      // Blank line: dispatch.
      if (this.hasData) out.push(new SseEvent(this.eventName, this.data));
      this.eventName = "";
      this.data = "";
      this.hasData = false;
      return;
    }
    // Safe: the first n bytes of `pending` are this line's.
    const text = String.UTF8.decodeUnsafe(at, <usize>n);
    if (text.startsWith(":")) return; // comment
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.substring(0, colon);
    let value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) value = value.substring(1);
    if (field == "data") {
      this.data = this.hasData ? this.data + "\n" + value : value;
      this.hasData = true;
    } else if (field == "event") {
      this.eventName = value;
    }
  }
}

/** Index of the first newline byte at or after `i` in the `len` bytes at `base`, or -1. */
export function newlineFrom(base: usize, len: i32, i: i32): i32 {
  // Eight bytes at a time while none is a newline (an event line is mostly JSON text).
  // Safe: the load reads bytes [i, i + 8) < len.
  while (i + 8 <= len && !hasByte(load<u64>(base + <usize>i), 0x0a)) i += 8;
  while (i < len) {
    if (load<u8>(base + <usize>i) == 0x0a) return i;
    i++;
  }
  return -1;
}
