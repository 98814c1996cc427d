import { findSecrets, secretHoldStart } from "../secrets";
import { Finding, ALL_KINDS } from "../finding";
import { rnd, ALNUM, pemBody } from "./secrets-fixtures";

const MB: i32 = 1 << 20;

function count(text: string): i32 {
  const f = new Array<Finding>();
  findSecrets(text, ALL_KINDS, f);
  return f.length;
}

/** The piece repeated to about 1 MB (UTF-16 code units). */
function mb(piece: string): string { return piece.repeat(MB / piece.length + 1); }

// A quadratic scanner would take minutes on these; the suite's runtime is the timing check, and
// every call must return (an abort would kill the VM) with the documented result.
describe("secrets: hostile input", () => {
  it("1 MB runs of one character and of key prefixes", () => {
    expect(count(mb("a"))).toBe(0);
    expect(count(mb("-"))).toBe(0);
    expect(count("sk-" + mb("A"))).toBe(0);
    expect(count(mb("sk-"))).toBe(0);
    expect(count(mb("AKIA"))).toBe(0);
    expect(count(mb("eyJ."))).toBe(0);
    // header.header.header is a well-formed JWT (the middle part decodes to JSON): every triple counts.
    expect(count(mb("eyJhbGciOiJIUzI1NiJ9."))).toBe((MB / 21 + 1) / 3);
    const a = mb("a");
    expect(secretHoldStart(a)).toBeGreaterThanOrEqual(a.length - 64); // at most a key name's length
    const s = "sk-" + mb("A");
    expect(secretHoldStart(s)).toBeGreaterThanOrEqual(s.length - 64);
  });

  it("1 MB of separators, keywords and URL schemes", () => {
    expect(count(mb("token:"))).toBe(0);
    expect(count(mb("password="))).toBe(0);
    expect(count(mb("="))).toBe(0);
    expect(count(mb("://"))).toBe(0);
    expect(count(mb("postgres://"))).toBe(0);
    expect(count(mb("https://a:b"))).toBe(0);
    expect(count("password=" + mb("Xy7"))).toBe(0); // one value far over the length cap
    const t = mb("token:");
    expect(secretHoldStart(t)).toBeLessThanOrEqual(t.length);
  });

  it("1 MB of PEM headers without END, and a huge block", () => {
    const h = mb("-----BEGIN RSA PRIVATE KEY-----\n");
    expect(count(h)).toBe(0); // headers without key material
    expect(secretHoldStart(h)).toBe(0);
    const big = "-----BEGIN PRIVATE KEY-----\n" + mb(rnd(64, ALNUM) + "\n");
    expect(count(big)).toBe(1);
    expect(count(mb("-----BEGIN PRIVATE KEY-----\n" + pemBody(1) + "-----END PRIVATE KEY-----\n"))).toBeGreaterThan(1000);
  });

  it("a 1 MB random alphanumeric blob and base64 with many runs", () => {
    expect(count(rnd(MB, ALNUM))).toBe(0);
    expect(count(rnd(MB, ALNUM + "+/.-_:=@"))).toBeLessThan(50);
  });

  it("non-ASCII, lone surrogates and control characters", () => {
    const weird = "\uD800\uDC00\uDFFF\uD800 \u0000\u0001\u200B\uFEFF caf\u00e9 \u{1F600}";
    expect(count(mb(weird))).toBe(0);
    expect(count("\uD800sk-" + rnd(48, ALNUM) + "\uDFFF")).toBe(1); // lone surrogates are boundaries
    expect(secretHoldStart("\uD800")).toBe(1);
  });
});
