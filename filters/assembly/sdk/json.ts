// A small JSON reader: plugin configuration and tenant policies (parsed once and cached), and the
// usage module's read of every non-streamed response and every SSE event (the hot path: it is
// why a value allocates no more than it needs). Errors are values, not exceptions: an exception
// would abort the VM.

export enum JsonKind { Null, Bool, Number, String, Array, Object }

// What a value that is not an array or object holds in items/keys/values: shared by all of them,
// never written (only the parser fills these, and only in the arrays it gives a container). Each
// value had three arrays of its own before, six allocations per number or string.
const NO_ITEMS: Array<JsonValue> = new Array<JsonValue>(0);
const NO_KEYS: Array<string> = new Array<string>(0);

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  b: bool = false;
  n: f64 = 0;
  s: string = "";
  /** Array elements; empty (shared, read-only) unless this is an array. */
  items: Array<JsonValue> = NO_ITEMS;
  /** Object member names and values; empty (shared, read-only) unless this is an object. */
  keys: Array<string> = NO_KEYS;
  values: Array<JsonValue> = NO_ITEMS;

  /**
   * Member of an object, or null when absent (or when this is not an object). A member named twice
   * resolves to its LAST occurrence, as in json-field.ts (topLevelValues) and the providers' own
   * parsers (Python's json, JSON.parse): the two readers of the SDK must not disagree on a body.
   */
  get(key: string): JsonValue | null {
    for (let i = this.keys.length - 1; i >= 0; i--) if (this.keys[i] == key) return this.values[i];
    return null;
  }

  isString(): bool { return this.kind == JsonKind.String; }
  isNumber(): bool { return this.kind == JsonKind.Number; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isObject(): bool { return this.kind == JsonKind.Object; }
}

export class JsonResult {
  constructor(public value: JsonValue | null, public error: string) {}
}

const MAX_DEPTH: i32 = 64;

class Parser {
  pos: i32 = 0;
  error: string = "";
  constructor(public text: string) {}

  fail(msg: string): JsonValue | null {
    if (this.error.length == 0) this.error = msg + " at offset " + this.pos.toString();
    return null;
  }

  ws(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) this.pos++; else break;
    }
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting too deep");
    this.ws();
    if (this.pos >= this.text.length) return this.fail("unexpected end");
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const v = new JsonValue();
      v.kind = JsonKind.String;
      const s = this.string();
      if (s == null) return null;
      v.s = s;
      return v;
    }
    if (this.text.startsWith("true", this.pos)) { this.pos += 4; const v = new JsonValue(); v.kind = JsonKind.Bool; v.b = true; return v; }
    if (this.text.startsWith("false", this.pos)) { this.pos += 5; const v = new JsonValue(); v.kind = JsonKind.Bool; return v; }
    if (this.text.startsWith("null", this.pos)) { this.pos += 4; return new JsonValue(); }
    return this.number();
  }

  number(): JsonValue | null {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45) this.pos++; else break;
    }
    if (this.pos == start) return this.fail("unexpected character");
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.n = parseFloat(this.text.substring(start, this.pos));
    if (isNaN(v.n)) return this.fail("bad number");
    return v;
  }

  string(): string | null {
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c == 0x22) {
        // Without escapes (nearly every key and value) the string is the one slice.
        const run = this.text.substring(runStart, this.pos);
        this.pos++;
        return out.length == 0 ? run : out + run;
      }
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c == 0x5c) {
        out += this.text.substring(runStart, this.pos);
        this.pos++;
        if (this.pos >= this.text.length) break;
        const e = this.text.charCodeAt(this.pos);
        if (e == 0x6e) out += "\n";
        else if (e == 0x74) out += "\t";
        else if (e == 0x72) out += "\r";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x75) {
          if (this.pos + 4 >= this.text.length) break;
          const code = I32.parseInt(this.text.substring(this.pos + 1, this.pos + 5), 16);
          if (isNaN(<f64>code)) { this.fail("bad unicode escape"); return null; }
          out += String.fromCharCode(code);
          this.pos += 4;
        } else if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
        else { this.fail("bad escape"); return null; }
        this.pos++;
        runStart = this.pos;
        continue;
      }
      this.pos++;
    }
    this.fail("unterminated string");
    return null;
  }

  array(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    v.items = new Array<JsonValue>(0);
    this.ws();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x5d) { this.pos++; return v; }
    while (true) {
      const item = this.value(depth + 1);
      if (item == null) return null;
      v.items.push(item);
      this.ws();
      if (this.pos >= this.text.length) return this.fail("unterminated array");
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) return this.fail("expected , or ]");
    }
  }

  object(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    v.keys = new Array<string>(0);
    v.values = new Array<JsonValue>(0);
    this.ws();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x7d) { this.pos++; return v; }
    while (true) {
      this.ws();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x22) return this.fail("expected object key");
      const key = this.string();
      if (key == null) return null;
      this.ws();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x3a) return this.fail("expected :");
      this.pos++;
      const item = this.value(depth + 1);
      if (item == null) return null;
      v.keys.push(key);
      v.values.push(item);
      this.ws();
      if (this.pos >= this.text.length) return this.fail("unterminated object");
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) return this.fail("expected , or }");
    }
  }
}

export function parseJson(text: string): JsonResult {
  const p = new Parser(text);
  const v = p.value(0);
  if (v == null) return new JsonResult(null, p.error);
  p.ws();
  if (p.pos != text.length) return new JsonResult(null, "trailing characters at offset " + p.pos.toString());
  return new JsonResult(v, "");
}

/** Escapes a string for embedding in a JSON document (quotes included). */
export function jsonString(s: string): string {
  let out = "\"";
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c || c < 0x20) {
      out += s.substring(runStart, i);
      if (c == 0x22) out += "\\\"";
      else if (c == 0x5c) out += "\\\\";
      else if (c == 0x0a) out += "\\n";
      else if (c == 0x0d) out += "\\r";
      else if (c == 0x09) out += "\\t";
      else {
        const hex = c.toString(16);
        out += "\\u" + "0000".substring(hex.length) + hex;
      }
      runStart = i + 1;
    }
  }
  return out + s.substring(runStart) + "\"";
}
