// Incremental Server-Sent Events parser for response bodies that arrive in arbitrary chunks: an
// event, a line, even a multi-byte character may be split across chunks. SseLines splits the
// bytes into lines (also used on its own by readers that parse lines from bytes, e.g. the usage
// module's stream-events.ts); only the unfinished last line of a chunk is kept, and a line longer
// than `maxLineBytes` is dropped (counted in `overflows`) rather than buffered without bound.

import { hasByte } from "./swar";

export class SseEvent {
  constructor(public event: string, public data: string) {}
}

/**
 * Splits bytes that arrive in chunks into lines (ending at "\n", which is not part of the line).
 * A line wholly inside a chunk is handed out in place; only a line split across chunks is copied.
 * A line longer than `maxLineBytes` is dropped (counted in `overflows`) rather than buffered
 * without bound.
 */
export class SseLines {
  /** The line `next` found: `length` bytes at `at`, valid until the next call to `next`. */
  at: usize = 0;
  length: i32 = 0;
  /** Lines dropped for exceeding maxLineBytes. */
  overflows: i32 = 0;
  /** Bytes of the current, incomplete line: pendingLength of them at the start of `pending`. */
  private pending: ArrayBuffer = new ArrayBuffer(256);
  private pendingLength: i32 = 0;
  private skippingLine: bool = false;

  constructor(public maxLineBytes: i32 = 1 << 20) {}

  /**
   * Finds the next complete line in the `len` bytes at `base`, from offset `i` (at, length); returns
   * the offset after it, or -1 once the chunk is used up (its unfinished line kept for the next).
   */
  next(base: usize, len: i32, i: i32): i32 {
    while (i < len) {
      // Each line is found with one scan (this ran a push per byte, most of the usage module's
      // time on a stream).
      const nl = newlineFrom(base, len, i);
      const run = (nl < 0 ? len : nl) - i;
      if (!this.skippingLine) {
        if (this.pendingLength + run > this.maxLineBytes) {
          this.overflows++;
          this.skippingLine = true;
          this.pendingLength = 0;
        } else if (nl < 0 || this.pendingLength > 0) {
          this.append(base + <usize>i, run);
        }
      }
      if (nl < 0) return -1;
      if (this.skippingLine) {
        this.skippingLine = false;
        this.pendingLength = 0;
        i = nl + 1;
        continue;
      }
      if (this.pendingLength > 0) {
        // The line began in an earlier chunk: the first pendingLength bytes of `pending`.
        this.at = changetype<usize>(this.pending);
        this.length = this.pendingLength;
        this.pendingLength = 0;
      } else {
        this.at = base + <usize>i;
        this.length = run;
      }
      return nl + 1;
    }
    return -1;
  }

  /** Appends `n` bytes to the pending line, growing its buffer (bounded by maxLineBytes). */
  private append(src: usize, n: i32): void {
    if (n == 0) return;
    this.pending = ensureCapacity(this.pending, this.pendingLength, this.pendingLength + n);
    // Safe: [pendingLength, pendingLength + n) lies inside `pending` (ensured above).
    memory.copy(changetype<usize>(this.pending) + <usize>this.pendingLength, src, <usize>n);
    this.pendingLength += n;
  }
}

export class SseParser {
  private lines: SseLines;
  private eventName: string = "";
  private data: string = "";
  private hasData: bool = false;

  constructor(maxLineBytes: i32 = 1 << 20) {
    this.lines = new SseLines(maxLineBytes);
  }

  /** Lines dropped for exceeding maxLineBytes. */
  get overflows(): i32 { return this.lines.overflows; }

  /** Feeds `len` bytes at `base`; returns the events completed by them, in order. */
  feed(base: usize, len: i32): Array<SseEvent> {
    const out = new Array<SseEvent>(0);
    const lines = this.lines;
    let i = 0;
    while ((i = lines.next(base, len, i)) >= 0) this.line(lines.at, lines.length, out);
    return out;
  }

  /** Handles one complete line of `n` bytes at `at` (without its "\n"; a trailing "\r" is dropped). */
  private line(at: usize, n: i32, out: Array<SseEvent>): void {
    if (n > 0 && load<u8>(at + <usize>(n - 1)) == 0x0d) n--;
    if (n == 0) {
      // Blank line: dispatch.
      if (this.hasData) out.push(new SseEvent(this.eventName, this.data));
      this.eventName = "";
      this.data = "";
      this.hasData = false;
      return;
    }
    // Safe: the n bytes at `at` are this line's (SseLines.next).
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

/** `buf` if it holds `need` bytes, else a larger copy of its first `used` bytes. */
export function ensureCapacity(buf: ArrayBuffer, used: i32, need: i32): ArrayBuffer {
  if (need <= buf.byteLength) return buf;
  let cap = buf.byteLength * 2;
  while (cap < need) cap *= 2;
  const grown = new ArrayBuffer(cap);
  memory.copy(changetype<usize>(grown), changetype<usize>(buf), <usize>used);
  return grown;
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
