// UsageChunkStripper reads a chunk in place and looks for members only in events that have an
// empty array: it must pass exactly what the stripper before it passed (kept below, verbatim, as
// the reference), wherever the stream is split.
import { UsageChunkStripper } from "../usage-chunk";
import { topLevelValues } from "../../sdk/json-field";

const FIELDS: Array<string> = ["choices", "usage"];

@inline function refByteAt(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

class ReferenceStripper {
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
      if (refByteAt(a, i) == 0x0a && i + 1 < total && (refByteAt(a, i + 1) == 0x0a ||
          (refByteAt(a, i + 1) == 0x0d && i + 2 < total && refByteAt(a, i + 2) == 0x0a))) {
        const end = refByteAt(a, i + 1) == 0x0a ? i + 2 : i + 3;
        if (refIsUsageOnly(a, start, end)) { this.done = true; removed = true; }
        else outLength = refAppendRange(out, outLength, a, start, end);
        start = end;
        i = end;
        continue;
      }
      i++;
    }
    if (this.done || endOfStream) {
      outLength = refAppendRange(out, outLength, a, start, total);
      this.done = true;
    } else if (start < total) {
      this.pending = all.slice(start, total);
    }
    this.unchanged = held == 0 && !removed && outLength == total;
    return outLength == total ? out : out.slice(0, outLength);
  }
}

/** Copies [from, to) of `base` to `out` at `at`; returns the new length. */
function refAppendRange(out: ArrayBuffer, at: i32, base: usize, from: i32, to: i32): i32 {
  // Safe: the ranges appended are disjoint pieces of a buffer no longer than `out`.
  memory.copy(changetype<usize>(out) + <usize>at, base + <usize>from, <usize>(to - from));
  return at + to - from;
}

/** Whether the event in [from, to) is one `data:` line of a chunk with empty choices and a usage object. */
function refIsUsageOnly(base: usize, from: i32, to: i32): bool {
  if (to - from < 6 || refByteAt(base, from) != 0x64 || refByteAt(base, from + 1) != 0x61 || refByteAt(base, from + 2) != 0x74 ||
      refByteAt(base, from + 3) != 0x61 || refByteAt(base, from + 4) != 0x3a) return false; // "data:"
  let j = from + 5;
  while (j < to && refByteAt(base, j) == 0x20) j++;
  if (j >= to || refByteAt(base, j) != 0x7b) return false;
  const found = topLevelValues(base + <usize>j, to - j, FIELDS);
  const choices = found[0];
  const usage = found[1];
  if (choices < 0 || usage < 0 || refByteAt(base, j + usage) != 0x7b || refByteAt(base, j + choices) != 0x5b) return false;
  let k = j + choices + 1;
  while (k < to && (refByteAt(base, k) == 0x20 || refByteAt(base, k) == 0x0a || refByteAt(base, k) == 0x0d || refByteAt(base, k) == 0x09)) k++;
  return k < to && refByteAt(base, k) == 0x5d;
}

/** What a stripper passes for `b` cut at `cuts`, each chunk's output and unchanged flag in order. */
function run(b: Uint8Array, cuts: Array<i32>, fast: bool): string {
  const s = new UsageChunkStripper();
  const r = new ReferenceStripper();
  let out = "";
  let from = 0;
  for (let k = 0; k <= cuts.length; k++) {
    const to = k < cuts.length ? cuts[k] : b.length;
    const eos = k == cuts.length;
    const chunk = new ArrayBuffer(to - from);
    memory.copy(changetype<usize>(chunk), b.dataStart + <usize>from, <usize>(to - from));
    let passed: ArrayBuffer;
    let unchanged: bool;
    if (fast) {
      passed = s.nextChunk(chunk, eos);
      unchanged = s.unchanged;
      // The chunk itself exactly when unchanged.
      if ((passed == chunk) != unchanged) return "chunk returned but changed";
    } else {
      passed = r.next(changetype<usize>(chunk), chunk.byteLength, eos);
      unchanged = r.unchanged;
    }
    out += hex(passed) + (unchanged ? "=" : "*") + "|";
    from = to;
  }
  return out;
}

function hex(b: ArrayBuffer): string {
  let s = "";
  const u = Uint8Array.wrap(b);
  for (let i = 0; i < u.length; i++) s += (<u32>u[i]).toString(16) + " ";
  return s;
}

function agree(text: string): void {
  const b = Uint8Array.wrap(String.UTF8.encode(text));
  for (let i = 0; i < b.length; i++) if (b[i] == 0x7e) b[i] = 0xff; // "~": a byte that is not UTF-8
  expect(run(b, [], true)).toBe(run(b, [], false));
  for (let at = 0; at <= b.length; at++) expect(run(b, [at], true)).toBe(run(b, [at], false));
  const every = new Array<i32>(0);
  for (let at = 1; at < b.length; at++) every.push(at);
  expect(run(b, every, true)).toBe(run(b, every, false));
}

describe("UsageChunkStripper against the copying stripper before it", () => {
  it("agrees on a plain stream with its usage chunk and [DONE]", () => {
    agree("data: {\"choices\":[{\"delta\":{\"content\":\"h~i\"}}],\"usage\":null}\n\n" +
      "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n\ndata: [DONE]\n\n");
  });
  it("agrees on CRLF events, spaced empty choices, usage first, and an escaped key", () => {
    agree("data: {\"usage\":{\"prompt_tokens\":1},\"choices\":[ \r\n ]}\r\n\r\ndata: [DONE]\r\n\r\n");
    agree("data: {\"choices\":[],\"\\u0075sage\":{\"prompt_tokens\":1}}\n\ndata: {\"choices\":[]}\n\n");
  });
  it("agrees when [] only appears in strings or nested values, and takes out only the first usage chunk", () => {
    agree("data: {\"choices\":[{\"delta\":{\"content\":\"[]\"}}],\"usage\":{}}\n\n" +
      "data: {\"choices\":[{\"x\":[]}],\"usage\":{}}\n\n" +
      "data: {\"choices\":[],\"usage\":{}}\n\ndata: {\"choices\":[],\"usage\":{}}\n\n");
  });
  it("agrees on events that are not data or not objects, and on bytes left at the end", () => {
    agree(": ping\n\nevent: x\ndata: [ ]\n\ndata:{\"choices\":[],\"usage\":{\"a\":1}}\n\ndata: {\"choices\":[");
  });
});
