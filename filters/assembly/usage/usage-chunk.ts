// Takes the usage-only chunk out of an OpenAI stream whose request the module changed to ask for
// it (stream-options.ts): `data: {..., "choices": [], "usage": {...}}`. A client that did not ask
// for it may read choices[0] of every chunk and would fail on that one. Events can be split across
// response chunks anywhere, so bytes after the last complete event wait for the next chunk (an
// event is complete at its blank line; providers flush whole events, so normally nothing waits).
import { topLevelValues } from "../sdk/json-field";
import { hasByte } from "../sdk/swar";
import { newlineFrom } from "../sdk/sse";

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
  /** The held bytes and the chunk, joined, while one call reads them. */
  private joined: ArrayBuffer | null = null;

  /** The bytes to send on for this response chunk (`endOfStream`: also whatever still waits). */
  next(base: usize, len: i32, endOfStream: bool): ArrayBuffer {
    return this.pass(base, len, endOfStream, null);
  }

  /**
   * next() for a chunk held in its own buffer: when it passes unchanged (nearly every chunk of a
   * stream) the chunk itself is returned, not a copy.
   */
  nextChunk(chunk: ArrayBuffer, endOfStream: bool): ArrayBuffer {
    return this.pass(changetype<usize>(chunk), chunk.byteLength, endOfStream, chunk);
  }

  private pass(base: usize, len: i32, endOfStream: bool, chunk: ArrayBuffer | null): ArrayBuffer {
    const held = this.pending.byteLength;
    // The bytes to read: the chunk in place, or the held bytes and the chunk in one buffer.
    let a = base;
    if (held > 0) {
      const all = new ArrayBuffer(held + len);
      // Kept in a field while `a` points into it: a raw pointer does not keep it alive.
      this.joined = all;
      a = changetype<usize>(all);
      // Safe: `all` has room for the held bytes and the chunk's len bytes.
      memory.copy(a, changetype<usize>(this.pending), <usize>held);
      memory.copy(a + <usize>held, base, <usize>len);
      this.pending = new ArrayBuffer(0);
    }
    const total = held + len;

    // What goes on is [0, keepEnd) without the usage-only event [removedFrom, removedTo), if any:
    // there is at most one, everything after it passes.
    let removedFrom = 0;
    let removedTo = 0;
    let start = 0;
    let i = 0;
    while (i < total && !this.done) {
      i = newlineFrom(a, total, i);
      if (i < 0) break;
      // An event ends at a blank line: "\n\n" or "\n\r\n".
      if (i + 1 < total && (byteAt(a, i + 1) == 0x0a ||
          (byteAt(a, i + 1) == 0x0d && i + 2 < total && byteAt(a, i + 2) == 0x0a))) {
        const end = byteAt(a, i + 1) == 0x0a ? i + 2 : i + 3;
        if (isUsageOnly(a, start, end)) { this.done = true; removedFrom = start; removedTo = end; }
        start = end;
        i = end;
        continue;
      }
      i++;
    }
    let keepEnd = total;
    if (this.done || endOfStream) {
      this.done = true;
    } else if (start < total) {
      this.pending = copyOf(a, start, total);
      keepEnd = start;
    }
    const removed = removedTo - removedFrom;
    this.unchanged = held == 0 && removed == 0 && keepEnd == total;
    if (this.unchanged && chunk != null) return chunk;
    // Safe: both ranges lie inside the total bytes at `a` (the chunk, or `joined`, still held).
    const out = new ArrayBuffer(keepEnd - removed);
    const o = changetype<usize>(out);
    memory.copy(o, a, <usize>(removed > 0 ? removedFrom : keepEnd));
    if (removed > 0) memory.copy(o + <usize>removedFrom, a + <usize>removedTo, <usize>(keepEnd - removedTo));
    this.joined = null;
    return out;
  }
}

/** A copy of [from, to) of the bytes at `base`. */
function copyOf(base: usize, from: i32, to: i32): ArrayBuffer {
  const out = new ArrayBuffer(to - from);
  memory.copy(changetype<usize>(out), base + <usize>from, <usize>(to - from));
  return out;
}

/** Whether the event in [from, to) is one `data:` line of a chunk with empty choices and a usage object. */
function isUsageOnly(base: usize, from: i32, to: i32): bool {
  if (to - from < 6 || byteAt(base, from) != 0x64 || byteAt(base, from + 1) != 0x61 || byteAt(base, from + 2) != 0x74 ||
      byteAt(base, from + 3) != 0x61 || byteAt(base, from + 4) != 0x3a) return false; // "data:"
  let j = from + 5;
  while (j < to && byteAt(base, j) == 0x20) j++;
  if (j >= to || byteAt(base, j) != 0x7b) return false;
  // Most events have no empty array anywhere: no need to look for their members.
  if (!hasEmptyArray(base, j, to)) return false;
  const found = topLevelValues(base + <usize>j, to - j, FIELDS);
  const choices = found[0];
  const usage = found[1];
  if (choices < 0 || usage < 0 || byteAt(base, j + usage) != 0x7b || byteAt(base, j + choices) != 0x5b) return false;
  let k = j + choices + 1;
  while (k < to && (byteAt(base, k) == 0x20 || byteAt(base, k) == 0x0a || byteAt(base, k) == 0x0d || byteAt(base, k) == 0x09)) k++;
  return k < to && byteAt(base, k) == 0x5d;
}

@inline function isWs(c: u32): bool { return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09; }

/**
 * Whether "[", optional whitespace and "]" occur in [from, to) of `base`: the empty choices of a
 * usage-only chunk do (elsewhere, e.g. inside a string, they only cost the full look).
 */
function hasEmptyArray(base: usize, from: i32, to: i32): bool {
  let k = from;
  while (k < to) {
    // Safe: the load reads bytes [k, k + 8) < to.
    while (k + 8 <= to && !hasByte(load<u64>(base + <usize>k), 0x5b)) k += 8;
    if (k >= to) break;
    if (byteAt(base, k) == 0x5b) {
      let m = k + 1;
      while (m < to && isWs(byteAt(base, m))) m++;
      if (m < to && byteAt(base, m) == 0x5d) return true;
    }
    k++;
  }
  return false;
}
