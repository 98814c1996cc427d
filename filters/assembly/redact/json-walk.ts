// One pass over a JSON document (already validated by checkJson) that hands each string value,
// with its path, to a visitor, and copies the document to a ByteSink with the values the visitor
// replaced. Unchanged bytes are copied as runs, so the output differs from the input only inside
// the replaced strings. No tree is built: the walker keeps the path as a stack of member keys and
// array indices, bounded by the depth checkJson allowed.
import { ByteSink } from "./byte-sink";
import { decodeJsonString, writeJsonString } from "./json-text";
import { skipString } from "../sdk/json-field";

export const MAX_DEPTH: i32 = 512;
const OBJECT: u8 = 1;
const ARRAY: u8 = 2;

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

/** Index just past the string whose opening quote is at `i` (the body is valid: it ends). */
function stringEnd(base: usize, len: i32, i: i32): i32 {
  const end = skipString(base, len, i);
  return end < 0 ? len : end;
}

/** Decides, per string value, whether to look at it and what to put instead. */
export class JsonVisitor {
  /** Whether to decode the string at the walker's path (bytes [start, end), quotes included). */
  wants(w: JsonWalker, base: usize, start: i32, end: i32): bool { return true; }
  /** The replacement of `value`, or null to keep the original bytes. */
  visit(w: JsonWalker, value: string): string | null { return null; }
  /** A number at the walker's path (bytes [start, end)). */
  number(w: JsonWalker, base: usize, start: i32, end: i32): void {}
}

export class JsonWalker {
  /** Containers from the root (1) to the current one (depth). */
  depth: i32 = 0;
  private kinds: StaticArray<u8> = new StaticArray<u8>(MAX_DEPTH + 1);
  private keys: StaticArray<string> = new StaticArray<string>(MAX_DEPTH + 1);
  private indexes: StaticArray<i32> = new StaticArray<i32>(MAX_DEPTH + 1);
  /** Whether the last walk replaced anything (the sink then holds the whole new document). */
  changed: bool = false;

  constructor() {
    for (let i = 0; i <= MAX_DEPTH; i++) this.keys[i] = "";
  }

  isObject(d: i32): bool { return this.kinds[d] == OBJECT; }
  isArray(d: i32): bool { return this.kinds[d] == ARRAY; }
  /** The member key at depth d (an object), "" for arrays. */
  key(d: i32): string { return this.kinds[d] == OBJECT ? this.keys[d] : ""; }
  /** The element index at depth d (an array), -1 for objects. */
  index(d: i32): i32 { return this.kinds[d] == ARRAY ? this.indexes[d] : -1; }

  /** The key of the nearest enclosing object member: "text" for content[2].text, "stop" for stop[1]. */
  governingKey(): string {
    for (let d = this.depth; d > 0; d--) if (this.kinds[d] == OBJECT) return this.keys[d];
    return "";
  }

  /** Whether the current path is root.k1.k2… where "[]" in `path` matches any array index. */
  pathIs(path: Array<string>): bool {
    if (path.length != this.depth) return false;
    for (let d = 1; d <= this.depth; d++) {
      const p = path[d - 1];
      if (p == "[]") { if (this.kinds[d] != ARRAY) return false; }
      else if (this.kinds[d] != OBJECT || this.keys[d] != p) return false;
    }
    return true;
  }

  /**
   * Walks `len` bytes at `base`. When a visitor replaces a value, the whole new document is written
   * to `sink` (reset first) and `changed` is set; otherwise the sink is left empty.
   */
  walk(base: usize, len: i32, visitor: JsonVisitor, sink: ByteSink): void {
    sink.reset();
    this.changed = false;
    this.depth = 0;
    let copied = 0;
    let expectKey = false;
    let i = 0;
    while (i < len) {
      const c = at(base, i);
      if (c == 0x22) {
        const end = stringEnd(base, len, i);
        if (expectKey && this.kinds[this.depth] == OBJECT) {
          this.keys[this.depth] = decodeJsonString(base, i, end);
          expectKey = false;
        } else if (visitor.wants(this, base, i, end)) {
          const replacement = visitor.visit(this, decodeJsonString(base, i, end));
          if (replacement != null) {
            sink.writeBytes(base + <usize>copied, i - copied);
            writeJsonString(sink, replacement);
            copied = end;
            this.changed = true;
          }
        }
        i = end;
        continue;
      }
      if (c == 0x7b || c == 0x5b) {
        // checkJson bounded the depth; the guard keeps a bad caller from writing past the stack.
        if (this.depth >= MAX_DEPTH) break;
        this.depth++;
        this.kinds[this.depth] = c == 0x7b ? OBJECT : ARRAY;
        this.indexes[this.depth] = 0;
        this.keys[this.depth] = "";
        expectKey = c == 0x7b;
        i++;
        continue;
      }
      if (c == 0x7d || c == 0x5d) { if (this.depth > 0) this.depth--; expectKey = false; i++; continue; }
      if (c == 0x2c) {
        if (this.kinds[this.depth] == ARRAY) this.indexes[this.depth]++;
        else expectKey = true;
        i++;
        continue;
      }
      if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
        const start = i;
        while (i < len) {
          const d = at(base, i);
          if (d == 0x2c || d == 0x7d || d == 0x5d || d == 0x20 || d == 0x0a || d == 0x0d || d == 0x09) break;
          i++;
        }
        visitor.number(this, base, start, i);
        continue;
      }
      i++; // whitespace, ':', literals
    }
    if (this.changed) sink.writeBytes(base + <usize>copied, len - copied);
  }
}

/** Parses the integer in bytes [start, end) (JSON number; fractions and exponents give -1). */
export function intAt(base: usize, start: i32, end: i32): i32 {
  let v: i32 = 0;
  if (end - start > 9) return -1;
  for (let i = start; i < end; i++) {
    const c = at(base, i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + <i32>(c - 0x30);
  }
  return end > start ? v : -1;
}
