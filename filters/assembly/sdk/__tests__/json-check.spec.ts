import { checkJson, JsonCheck } from "../json-check";

function check(text: string, depth: i32 = 64): JsonCheck {
  const b = String.UTF8.encode(text);
  return checkJson(changetype<usize>(b), b.byteLength, depth, true);
}

function checkBytes(bytes: Array<u8>): JsonCheck {
  const b = new ArrayBuffer(bytes.length);
  for (let i = 0; i < bytes.length; i++) store<u8>(changetype<usize>(b) + <usize>i, bytes[i]);
  return checkJson(changetype<usize>(b), b.byteLength, 64, true);
}

describe("checkJson", () => {
  it("accepts well-formed request bodies", () => {
    expect(check("{}").ok).toBe(true);
    expect(check(" {\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi \\u00e9\\n\"}],\"n\":1,\"t\":-0.5e-3,\"s\":true,\"x\":null,\"a\":[]} ").ok).toBe(true);
    expect(check("{\"k\":\"caf\u00e9 \u{1F600}\"}").ok).toBe(true);
  });

  it("rejects truncated and malformed JSON with an offset", () => {
    const r = check("{\"model\":");
    expect(r.ok).toBe(false);
    expect(r.offset).toBe(9);
    expect(check("{\"a\":1,}").ok).toBe(false);
    expect(check("{\"a\":[1,]}").ok).toBe(false);
    expect(check("{\"a\" 1}").ok).toBe(false);
    expect(check("{\"a\":01}").ok).toBe(false);
    expect(check("{\"a\":1} x").ok).toBe(false);
    expect(check("{\"a\":\"\\q\"}").ok).toBe(false);
    expect(check("{\"a\":tru}").ok).toBe(false);
    expect(check("").ok).toBe(false);
  });

  it("requires a top-level object", () => {
    expect(check("[1,2]").ok).toBe(false);
    expect(check("\"s\"").ok).toBe(false);
  });

  it("bounds nesting depth", () => {
    let deep = "{\"a\":";
    for (let i = 0; i < 10; i++) deep += "[";
    for (let i = 0; i < 10; i++) deep += "]";
    deep += "}";
    expect(check(deep, 64).ok).toBe(true);
    const r = check(deep, 5);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe("nesting too deep");
  });

  it("rejects invalid UTF-8 inside strings", () => {
    // {"a":"<0xff>"}
    expect(checkBytes([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).ok).toBe(false);
    // overlong encoding of "/" (0xc0 0xaf)
    expect(checkBytes([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]).ok).toBe(false);
    // UTF-16 surrogate encoded in UTF-8 (0xed 0xa0 0x80)
    expect(checkBytes([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]).ok).toBe(false);
    // valid 2-byte sequence (é)
    expect(checkBytes([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d]).ok).toBe(true);
  });

  it("rejects raw control characters in strings", () => {
    expect(check("{\"a\":\"x\ny\"}").ok).toBe(false);
  });
});

function bytesOf(text: string): ArrayBuffer { return String.UTF8.encode(text); }
function checkBuf(b: ArrayBuffer, depth: i32, requireObject: bool, validateUtf8: bool): bool {
  return checkJson(changetype<usize>(b), b.byteLength, depth, requireObject, validateUtf8).ok;
}

describe("checkJson: the last valid document is remembered, never beyond what was checked", () => {
  it("answers the same bytes again as valid", () => {
    const b = bytesOf("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    expect(checkBuf(b, 64, true, true)).toBe(true);
    expect(checkBuf(b.slice(0), 64, true, true)).toBe(true);
  });

  it("does not let a document through a lower depth limit than it was checked under", () => {
    const b = bytesOf("{\"a\":[[{\"b\":1}]]}");
    expect(checkBuf(b, 64, true, true)).toBe(true);
    expect(checkBuf(b, 3, true, true)).toBe(false);
    expect(checkBuf(b, 4, true, true)).toBe(true);
  });

  it("does not skip UTF-8 validation that the first check did not do", () => {
    // {"k":"<0xff>"}: valid JSON only when bytes past 0x7f are not validated as UTF-8.
    const bytes: Array<u8> = [0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d];
    const doc = new ArrayBuffer(bytes.length);
    for (let i = 0; i < bytes.length; i++) store<u8>(changetype<usize>(doc) + <usize>i, bytes[i]);
    expect(checkBuf(doc, 64, true, false)).toBe(true);
    expect(checkBuf(doc, 64, true, true)).toBe(false);
  });

  it("does not answer for a top-level object when it checked an array", () => {
    const b = bytesOf("[1,2,3]");
    expect(checkBuf(b, 64, false, true)).toBe(true);
    expect(checkBuf(b, 64, true, true)).toBe(false);
  });

  it("compares the bytes: a changed document of the same length is scanned again", () => {
    const b = bytesOf("{\"a\":\"xyz\"}");
    expect(checkBuf(b, 64, true, true)).toBe(true);
    // The caller's buffer changed after the check: the memory is a copy, not a reference.
    store<u8>(changetype<usize>(b) + 6, 0x22);
    expect(checkBuf(b, 64, true, true)).toBe(false);
    expect(checkBuf(bytesOf("{\"a\":\"xyz\"}"), 64, true, true)).toBe(true);
  });
});
