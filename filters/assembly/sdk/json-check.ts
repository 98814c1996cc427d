// Validates that a request body is well-formed JSON (RFC 8259) with valid UTF-8 in strings and a
// bounded nesting depth, without building a tree: one pass over the bytes, no allocation per
// token. Used on the hot path to turn malformed requests into a clear 400 before they reach a
// provider.

import { plainJsonBytes } from "./swar";

export class JsonCheck {
  /** -1 when the document is valid, else the byte offset of the first problem. */
  offset: i32 = -1;
  reason: string = "";
  get ok(): bool { return this.offset < 0; }
}

// Container stack: 1 = object, 2 = array. Reused across calls (one stream at a time per VM thread).
const MAX_SUPPORTED_DEPTH: i32 = 512;
const stack = new Uint8Array(MAX_SUPPORTED_DEPTH + 1);

@inline function isWs(c: u32): bool { return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09; }
@inline function isDigit(c: u32): bool { return c >= 0x30 && c <= 0x39; }

class Scanner {
  pos: i32 = 0;
  constructor(public base: usize, public len: i32, public result: JsonCheck, public validateUtf8: bool = true) {}

  @inline at(i: i32): u32 { return <u32>load<u8>(this.base + <usize>i); }

  fail(reason: string): bool {
    if (this.result.offset < 0) { this.result.offset = this.pos; this.result.reason = reason; }
    return false;
  }

  skipWs(): void { while (this.pos < this.len && isWs(this.at(this.pos))) this.pos++; }

  literal(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.len) return this.fail("invalid literal");
    for (let i = 0; i < n; i++) if (this.at(this.pos + i) != <u32>word.charCodeAt(i)) return this.fail("invalid literal");
    this.pos += n;
    return true;
  }

  number(): bool {
    if (this.at(this.pos) == 0x2d) this.pos++;
    if (this.pos >= this.len) return this.fail("invalid number");
    if (this.at(this.pos) == 0x30) this.pos++;
    else if (isDigit(this.at(this.pos))) { while (this.pos < this.len && isDigit(this.at(this.pos))) this.pos++; }
    else return this.fail("invalid number");
    if (this.pos < this.len && this.at(this.pos) == 0x2e) {
      this.pos++;
      if (this.pos >= this.len || !isDigit(this.at(this.pos))) return this.fail("invalid number");
      while (this.pos < this.len && isDigit(this.at(this.pos))) this.pos++;
    }
    if (this.pos < this.len && (this.at(this.pos) | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < this.len && (this.at(this.pos) == 0x2b || this.at(this.pos) == 0x2d)) this.pos++;
      if (this.pos >= this.len || !isDigit(this.at(this.pos))) return this.fail("invalid number");
      while (this.pos < this.len && isDigit(this.at(this.pos))) this.pos++;
    }
    return true;
  }

  /** A string starting at the opening quote, including UTF-8 validation of its bytes. */
  string(): bool {
    this.pos++;
    while (this.pos < this.len) {
      // Printable ASCII other than '"' and '\' (most of a prompt) needs no other check: skip the
      // run with a local index instead of a field update per byte.
      let p = this.pos;
      // Safe: the load reads bytes [p, p + 8) < len.
      while (p + 8 <= this.len && plainJsonBytes(load<u64>(this.base + <usize>p))) p += 8;
      while (p < this.len) {
        const b = this.at(p);
        if (b < 0x20 || b >= 0x80 || b == 0x22 || b == 0x5c) break;
        p++;
      }
      this.pos = p;
      if (p >= this.len) break;
      const c = this.at(this.pos);
      if (c == 0x22) { this.pos++; return true; }
      if (c == 0x5c) {
        this.pos++;
        if (this.pos >= this.len) break;
        const e = this.at(this.pos);
        if (e == 0x75) {
          if (this.pos + 4 >= this.len) break;
          for (let i = 1; i <= 4; i++) {
            const h = this.at(this.pos + i) | 0x20;
            if (!(isDigit(h) || (h >= 0x61 && h <= 0x66))) return this.fail("invalid \\u escape");
          }
          this.pos += 5;
        } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
          this.pos++;
        } else return this.fail("invalid escape");
        continue;
      }
      if (c < 0x20) return this.fail("control character in string");
      if (c < 0x80 || !this.validateUtf8) { this.pos++; continue; }
      if (!this.utf8Sequence(c)) return false;
    }
    return this.fail("unterminated string");
  }

  /** One multi-byte UTF-8 sequence starting with lead byte `c` (no overlongs, no surrogates). */
  utf8Sequence(c: u32): bool {
    let need: i32 = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; min = 0x80; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; min = 0x800; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; min = 0x10000; cp = c & 0x07; }
    else return this.fail("invalid UTF-8");
    if (this.pos + need >= this.len) return this.fail("invalid UTF-8");
    for (let i = 1; i <= need; i++) {
      const b = this.at(this.pos + i);
      if ((b & 0xc0) != 0x80) return this.fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return this.fail("invalid UTF-8");
    this.pos += need + 1;
    return true;
  }
}

/**
 * Checks `len` bytes at `base`. `maxDepth` bounds nesting (capped at 512). `requireObject` demands
 * a top-level object, as every LLM API request body is one. `validateUtf8` false accepts any bytes
 * ≥ 0x80 inside strings (for reading what a provider sent, not for judging what a client sends).
 */
export function checkJson(base: usize, len: i32, maxDepth: i32, requireObject: bool, validateUtf8: bool = true): JsonCheck {
  const limit = maxDepth < MAX_SUPPORTED_DEPTH ? maxDepth : MAX_SUPPORTED_DEPTH;
  if (memoHolds(base, len, limit, requireObject, validateUtf8)) return new JsonCheck();
  const result = scan(base, len, limit, requireObject, validateUtf8);
  if (result.ok) remember(base, len, validateUtf8);
  return result;
}

// The last document found valid in this VM, so the next check of the same bytes costs a
// comparison, not a scan: in the module chain auth, redact and injection each check the same
// request body, and redact and usage the same response body, one after another. A hit needs the
// very same bytes, checked at least as strictly (UTF-8 validated if asked for), no deeper than the
// caller allows, and a top-level object if it demands one.
const MEMO_MAX_BYTES: i32 = 256 * 1024;
let memoBuf: ArrayBuffer = new ArrayBuffer(0);
let memoLen: i32 = -1;
let memoUtf8: bool = false;
let memoObject: bool = false;
let memoDeepest: i32 = 0;
/** Deepest nesting the last scan reached, and whether its document began with an object (set by scan). */
let scanDeepest: i32 = 0;
let scanObject: bool = false;

function memoHolds(base: usize, len: i32, limit: i32, requireObject: bool, validateUtf8: bool): bool {
  if (len != memoLen || memoDeepest > limit) return false;
  if (validateUtf8 && !memoUtf8) return false;
  if (requireObject && !memoObject) return false;
  return memory.compare(base, changetype<usize>(memoBuf), <usize>len) == 0;
}

function remember(base: usize, len: i32, validateUtf8: bool): void {
  if (len > MEMO_MAX_BYTES) {
    memoLen = -1;
    return;
  }
  if (memoBuf.byteLength < len) memoBuf = new ArrayBuffer(len);
  memory.copy(changetype<usize>(memoBuf), base, <usize>len);
  memoLen = len;
  memoUtf8 = validateUtf8;
  memoDeepest = scanDeepest;
  memoObject = scanObject;
}

function scan(base: usize, len: i32, limit: i32, requireObject: bool, validateUtf8: bool): JsonCheck {
  const result = new JsonCheck();
  const s = new Scanner(base, len, result, validateUtf8);
  let depth: i32 = 0;
  scanDeepest = 0;
  // expectValue: a value must come next; after a value we expect , or a closer.
  let expectValue = true;
  let afterKey = false; // in an object, the next token must be a key string
  s.skipWs();
  if (s.pos >= len) { s.fail("empty body"); return result; }
  scanObject = s.at(s.pos) == 0x7b;
  if (requireObject && !scanObject) { s.fail("expected a JSON object"); return result; }
  while (true) {
    s.skipWs();
    if (s.pos >= len) {
      if (depth == 0 && !expectValue) return result;
      s.fail("unexpected end of JSON");
      return result;
    }
    const c = s.at(s.pos);
    if (expectValue) {
      const inObject = depth > 0 && stack[depth] == 1;
      if (inObject && afterKey) {
        if (c != 0x22) { s.fail("expected object key"); return result; }
        if (!s.string()) return result;
        s.skipWs();
        if (s.pos >= len || s.at(s.pos) != 0x3a) { s.fail("expected :"); return result; }
        s.pos++;
        afterKey = false;
        continue;
      }
      if (c == 0x7b || c == 0x5b) {
        if (depth >= limit) { s.fail("nesting too deep"); return result; }
        depth++;
        if (depth > scanDeepest) scanDeepest = depth;
        stack[depth] = c == 0x7b ? 1 : 2;
        s.pos++;
        s.skipWs();
        const closer: u32 = c == 0x7b ? 0x7d : 0x5d;
        if (s.pos < len && s.at(s.pos) == closer) {
          s.pos++;
          depth--;
          expectValue = false;
          continue;
        }
        afterKey = c == 0x7b;
        continue;
      }
      if (c == 0x22) { if (!s.string()) return result; }
      else if (c == 0x74) { if (!s.literal("true")) return result; }
      else if (c == 0x66) { if (!s.literal("false")) return result; }
      else if (c == 0x6e) { if (!s.literal("null")) return result; }
      else if (c == 0x2d || isDigit(c)) { if (!s.number()) return result; }
      else { s.fail("unexpected character"); return result; }
      expectValue = false;
      continue;
    }
    // after a value
    if (depth == 0) { s.fail("trailing characters after JSON"); return result; }
    const kind = stack[depth];
    if (c == 0x2c) {
      s.pos++;
      expectValue = true;
      afterKey = kind == 1;
      continue;
    }
    if ((kind == 1 && c == 0x7d) || (kind == 2 && c == 0x5d)) {
      s.pos++;
      depth--;
      continue;
    }
    s.fail(kind == 1 ? "expected , or }" : "expected , or ]");
    return result;
  }
}
