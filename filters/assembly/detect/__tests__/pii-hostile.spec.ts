// Hostile input: every detector must finish in linear time and never abort. A quadratic scan would
// not finish these in the test timeout; nothing here measures time.
import { Finding, ALL_KINDS } from "../finding";
import { findEntities } from "../scan";
import { RedactPolicy, RedactState, redactText } from "../redactor";
import { StreamRedactor } from "../stream";

const MB: i32 = 1 << 20;
const out: Array<Finding> = new Array<Finding>();

function count(text: string): i32 {
  findEntities(text, ALL_KINDS, out);
  return out.length;
}

function big(unit: string): string { return unit.repeat(MB / unit.length); }

describe("hostile input", () => {
  it("handles empty and tiny strings", () => {
    expect(count("")).toBe(0);
    const tiny = ["@", "+", "(", ")", ":", "::", ".", "-", "0", "A", "DE", "DE8", "a@", "@b", "1:", "(0)", "+(", "\ud800", "\udfff"];
    for (let i = 0; i < tiny.length; i++) expect(count(tiny[i])).toBe(0, tiny[i]);
    expect(redactText("", RedactPolicy.defaults(), new RedactState())).toBe("");
  });

  it("scans 1 MB runs of every detector's characters without matching", () => {
    // One unit per detector's worst case: long runs its scanner must read once and reject.
    const units = ["a", "7", "1 ", "1.", "a@", "@a.", "f:", "::1:", "+1 ", "((1)", "DE89 ", "1.2.3.4.", "\ud83d\ude00"];
    for (let i = 0; i < units.length; i++) {
      const text = big(units[i]);
      findEntities(text, ALL_KINDS, out);
      // Runs like "1 1 1 …" are one over-long number, "a@a@…" has no domain: nothing qualifies.
      expect(out.length).toBe(0, units[i]);
    }
  });

  it("finds every entity of a 1 MB repetition of a valid one (linear, no overlap)", () => {
    const unit = "mail a@b.io or 4111 1111 1111 1111, ";
    const text = big(unit);
    findEntities(text, ALL_KINDS, out);
    expect(out.length).toBe((MB / unit.length) * 2);
    for (let i = 1; i < out.length; i++) expect(out[i].start >= out[i - 1].end).toBe(true);
  });

  it("streams 1 MB of digits and of letters in small chunks within the hold cap", () => {
    const units = ["7", "a", "1 "];
    for (let u = 0; u < units.length; u++) {
      const text = units[u].repeat(MB / 4);
      const s = new StreamRedactor(RedactPolicy.defaults(), new RedactState(), 4096);
      let total = 0;
      let maxPending = 0;
      for (let i = 0; i < text.length; i += 1000) {
        total += s.push(text.substring(i, i + 1000)).length;
        if (s.pending > maxPending) maxPending = s.pending;
      }
      total += s.finish().length;
      expect(total).toBe(text.length, units[u]);
      expect(maxPending <= 4096 + 1000).toBe(true, units[u]);
    }
  });
});
