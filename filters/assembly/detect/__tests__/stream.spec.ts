import { RedactPolicy, RedactState, redactText } from "../redactor";
import { StreamRedactor } from "../stream";
import { holdStart } from "../scan";
import { PII_KINDS } from "../pii";
import { EntityKind, kindBit } from "../finding";

describe("StreamRedactor", () => {
  it("releases text without entity characters at its end immediately", () => {
    const s = new StreamRedactor(RedactPolicy.defaults(), new RedactState());
    expect(s.push("Hello, world! ")).toBe("Hello, world! ");
    expect(s.pending).toBe(0);
  });
  it("holds a trailing word (it may be an e-mail local part) and a trailing number", () => {
    const s = new StreamRedactor(RedactPolicy.defaults(), new RedactState());
    expect(s.push("write to john")).toBe("write to ");
    expect(s.push(".doe@exam")).toBe("");
    expect(s.push("ple.com or call 06 12 ")).toBe("[EMAIL_1] or call ");
    expect(s.push("34 56 78.\n")).toBe("[PHONE_1].\n");
    expect(s.finish()).toBe("");
  });
  it("matches whole-text redaction for a simple split", () => {
    const text = "card 4111 1111 1111 1111 and a@b.com";
    const whole = redactText(text, RedactPolicy.defaults(), new RedactState());
    const s = new StreamRedactor(RedactPolicy.defaults(), new RedactState());
    expect(s.push(text.substring(0, 12)) + s.push(text.substring(12)) + s.finish()).toBe(whole);
  });
});

describe("holdStart", () => {
  it("holds the shortest tail in which an entity may be in progress", () => {
    const kinds = PII_KINDS;
    expect(holdStart("Hello, world! ", kinds)).toBe(14);
    expect(holdStart("Hello, world!\n", kinds)).toBe(14);
    expect(holdStart("write to john", kinds)).toBe(9);            // a word may become a local part
    expect(holdStart("call 06 12 ", kinds)).toBe(5);              // digits and separators
    expect(holdStart("call +", kinds)).toBe(5);
    expect(holdStart("dial (", kinds)).toBe(5);
    expect(holdStart("ok - ", kinds)).toBe(5);                    // separators alone hold nothing
    expect(holdStart("ip fe80::", kinds)).toBe(3);                // hex and colons
    expect(holdStart("IBAN DE89 3704 0044", kinds)).toBe(5);      // grouped IBAN start
    expect(holdStart("IBAN D", kinds)).toBe(5);
    expect(holdStart("", kinds)).toBe(0);
  });
  it("holds nothing for kinds that are allowed", () => {
    expect(holdStart("write to john", 0)).toBe(13);
    expect(holdStart("call 06 12 ", kindBit(EntityKind.Email))).toBe(11);
    expect(holdStart("write to john", kindBit(EntityKind.Phone))).toBe(13);
  });
  it("a stream with every kind allowed passes text through at once", () => {
    const p = new RedactPolicy();
    const s = new StreamRedactor(p, new RedactState());
    expect(s.push("mail john.doe@exa")).toBe("mail john.doe@exa");
    expect(s.push("mple.com")).toBe("mple.com");
    expect(s.finish()).toBe("");
  });
});
