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
  private pending: Array<u8> = new Array<u8>(0);
  /** Once the usage chunk is gone (or the stream ended) everything passes as it comes. */
  done: bool = false;

  /** The bytes to send on for this response chunk (`endOfStream`: also whatever still waits). */
  next(base: usize, len: i32, endOfStream: bool): ArrayBuffer {
    const all = new ArrayBuffer(this.pending.length + len);
    const a = changetype<usize>(all);
    for (let i = 0; i < this.pending.length; i++) store<u8>(a + <usize>i, this.pending[i]);
    memory.copy(a + <usize>this.pending.length, base, <usize>len);
    const total = all.byteLength;
    this.pending.length = 0;

    const out = new Array<u8>(0);
    let start = 0;
    let i = 0;
    while (i < total && !this.done) {
      // An event ends at a blank line: "\n\n" or "\n\r\n".
      if (byteAt(a, i) == 0x0a && i + 1 < total && (byteAt(a, i + 1) == 0x0a ||
          (byteAt(a, i + 1) == 0x0d && i + 2 < total && byteAt(a, i + 2) == 0x0a))) {
        const end = byteAt(a, i + 1) == 0x0a ? i + 2 : i + 3;
        if (isUsageOnly(a, start, end)) this.done = true;
        else appendRange(out, a, start, end);
        start = end;
        i = end;
        continue;
      }
      i++;
    }
    if (this.done || endOfStream) {
      appendRange(out, a, start, total);
      this.done = true;
    } else {
      for (let k = start; k < total; k++) this.pending.push(<u8>byteAt(a, k));
    }
    const result = new ArrayBuffer(out.length);
    for (let k = 0; k < out.length; k++) store<u8>(changetype<usize>(result) + <usize>k, out[k]);
    return result;
  }
}

function appendRange(out: Array<u8>, base: usize, from: i32, to: i32): void {
  for (let k = from; k < to; k++) out.push(<u8>byteAt(base, k));
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
