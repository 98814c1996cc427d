// Takes the usage-only chunk out of an OpenAI stream whose request the module changed to ask for
// it (stream-options.ts): `data: {..., "choices": [], "usage": {...}}`. A client that did not ask
// for it may read choices[0] of every chunk and would fail on that one. Events can be split across
// response chunks anywhere, so bytes after the last complete event wait for the next chunk (an
// event is complete at its blank line; providers flush whole events, so normally nothing waits).
import { topLevelValues } from "../sdk/json-field";

const FIELDS: Array<string> = ["choices", "usage"];

@inline function byteAt(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

export class UsageChunkStripper {
  /** Bytes of an event not complete yet. */
  private pending: ArrayBuffer = new ArrayBuffer(0);
  /** Once the usage chunk is gone (or the stream ended) everything passes as it comes. */
  done: bool = false;
  /**
   * Set by next(): the bytes it returned are exactly the chunk it was given (nothing held back or
   * taken out), so the caller need not replace the body buffer — one host call less per chunk of a
   * stream, which is nearly every chunk.
   */
  unchanged: bool = false;

  /** The bytes to send on for this response chunk (`endOfStream`: also whatever still waits). */
  next(base: usize, len: i32, endOfStream: bool): ArrayBuffer {
    const held = this.pending.byteLength;
    const all = new ArrayBuffer(held + len);
    const a = changetype<usize>(all);
    // Safe: `all` has room for the held bytes and the chunk's len bytes.
    memory.copy(a, changetype<usize>(this.pending), <usize>held);
    memory.copy(a + <usize>held, base, <usize>len);
    const total = all.byteLength;
    if (held > 0) this.pending = new ArrayBuffer(0);

    // What goes on: the ranges of `all` kept, copied in order (never more than `all`).
    const out = new ArrayBuffer(total);
    let outLength = 0;
    let removed = false;
    let start = 0;
    let i = 0;
    while (i < total && !this.done) {
      // An event ends at a blank line: "\n\n" or "\n\r\n".
      if (byteAt(a, i) == 0x0a && i + 1 < total && (byteAt(a, i + 1) == 0x0a ||
          (byteAt(a, i + 1) == 0x0d && i + 2 < total && byteAt(a, i + 2) == 0x0a))) {
        const end = byteAt(a, i + 1) == 0x0a ? i + 2 : i + 3;
        if (isUsageOnly(a, start, end)) { this.done = true; removed = true; }
        else outLength = appendRange(out, outLength, a, start, end);
        start = end;
        i = end;
        continue;
      }
      i++;
    }
    if (this.done || endOfStream) {
      outLength = appendRange(out, outLength, a, start, total);
      this.done = true;
    } else if (start < total) {
      this.pending = all.slice(start, total);
    }
    this.unchanged = held == 0 && !removed && outLength == total;
    return outLength == total ? out : out.slice(0, outLength);
  }
}

/** Copies [from, to) of `base` to `out` at `at`; returns the new length. */
function appendRange(out: ArrayBuffer, at: i32, base: usize, from: i32, to: i32): i32 {
  // Safe: the ranges appended are disjoint pieces of a buffer no longer than `out`.
  memory.copy(changetype<usize>(out) + <usize>at, base + <usize>from, <usize>(to - from));
  return at + to - from;
}

/** Whether the event in [from, to) is one `data:` line of a chunk with empty choices and a usage object. */
function isUsageOnly(base: usize, from: i32, to: i32): bool {
  if (to - from < 6 || byteAt(base, from) != 0x64 || byteAt(base, from + 1) != 0x61 || byteAt(base, from + 2) != 0x74 ||
      byteAt(base, from + 3) != 0x61 || byteAt(base, from + 4) != 0x3a) return false; // "data:"
  let j = from + 5;
  while (j < to && byteAt(base, j) == 0x20) j++;
  if (j >= to || byteAt(base, j) != 0x7b) return false;
  const found = topLevelValues(base + <usize>j, to - j, FIELDS);
  const choices = found[0];
  const usage = found[1];
  if (choices < 0 || usage < 0 || byteAt(base, j + usage) != 0x7b || byteAt(base, j + choices) != 0x5b) return false;
  let k = j + choices + 1;
  while (k < to && (byteAt(base, k) == 0x20 || byteAt(base, k) == 0x0a || byteAt(base, k) == 0x0d || byteAt(base, k) == 0x09)) k++;
  return k < to && byteAt(base, k) == 0x5d;
}
