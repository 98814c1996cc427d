import { RedactPolicy, RedactState, redactText } from "../redactor";
import { StreamRedactor } from "../stream";

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
