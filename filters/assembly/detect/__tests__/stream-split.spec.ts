// The streaming property: however the text is cut into chunks, the concatenated outputs of push()
// and finish() equal redacting the whole text at once, and no raw entity value is ever released.
import { RedactPolicy, RedactState, redactText } from "../redactor";
import { StreamRedactor } from "../stream";
import { openaiLegacy, anthropicKey, awsId, githubClassic, jwt } from "./secrets-fixtures";

const ENTITIES: Array<string> = [
  "john.doe@example.com", "first+tag@mail.example.co.uk", "andré.lefèvre@exemple.fr",
  "+33 6 12 34 56 78", "(415) 555-0100", "+44 (0)20 7946 0958", "06.12.34.56.78", "1-800-555-0199", "+49 89 123456-0",
  "4111 1111 1111 1111", "3782 822463 10005", "5555555555554444",
  "123-45-6789", "DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819", "FR14 2004 1010 0505 0001 3M02 606",
  "192.168.1.254", "10.0.0.1", "2001:db8::1", "fe80::1ff:fe23:4567:890a", "::ffff:192.0.2.128",
];
// Contexts around each entity: prose, JSON-ish, punctuation glued to it, at the very start/end.
const BEFORE: Array<string> = ["Contact ", "{\"v\":\"", "(", ""];
const AFTER: Array<string> = [" now, thanks.", "\"}", ").", ""];
const EXTRA: Array<string> = [
  "Hi, I'm Jane (jane.roe@example.com, +44 20 7946 0958). Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00.",
  "Logins from 203.0.113.9 and 2001:db8:1::42 by ops@example.com; again ops@example.com.",
  "Upgrade 1.2.3 to 1.3.0 on 2024-01-15 at 12:30:45, order ORD-2024-001234, no entity here.",
  "call 06 12 34 56 78 2024 or 415-555-0100x12 or 4111 1111 1111 1112",
];

function policy(): RedactPolicy { return RedactPolicy.defaults(); }

function whole(text: string): string { return redactText(text, policy(), new RedactState()); }

/** Fails if any output chunk, or all of them together, shows a raw value. */
function expectNoLeak(outputs: Array<string>, values: Array<string>, what: string): void {
  const all = outputs.join("");
  for (let v = 0; v < values.length; v++) {
    expect(all.includes(values[v])).toBe(false, what + " leaked " + values[v]);
    for (let i = 0; i < outputs.length; i++) expect(outputs[i].includes(values[v])).toBe(false, what);
  }
}

/** Streams `text` cut at the given offsets and checks the property. */
function check(text: string, cuts: Array<i32>, values: Array<string>, expected: string): void {
  const s = new StreamRedactor(policy(), new RedactState());
  const outs = new Array<string>();
  let from = 0;
  for (let i = 0; i < cuts.length; i++) {
    outs.push(s.push(text.substring(from, cuts[i])));
    from = cuts[i];
  }
  outs.push(s.push(text.substring(from)));
  outs.push(s.finish());
  let where = "";
  for (let i = 0; i < cuts.length; i++) where += " " + cuts[i].toString();
  expect(outs.join("")).toBe(expected, "cuts" + where + " in " + text);
  expectNoLeak(outs, values, "cuts" + where + " in " + text);
}

function everySplit(text: string, values: Array<string>): void {
  const expected = whole(text);
  for (let v = 0; v < values.length; v++) expect(expected.includes(values[v])).toBe(false, "whole-text redaction missed " + values[v]);
  for (let cut = 0; cut <= text.length; cut++) check(text, [cut], values, expected);
  // Many small chunks: sizes 1..5.
  for (let size = 1; size <= 5; size++) {
    const cuts = new Array<i32>();
    for (let c = size; c < text.length; c += size) cuts.push(c);
    check(text, cuts, values, expected);
  }
}

describe("StreamRedactor: split at every offset", () => {
  it("each entity in each context", () => {
    for (let e = 0; e < ENTITIES.length; e++) {
      for (let c = 0; c < BEFORE.length; c++) everySplit(BEFORE[c] + ENTITIES[e] + AFTER[c], [ENTITIES[e]]);
    }
  });

  it("mixed prompts and lookalike-only text", () => {
    everySplit(EXTRA[0], ["jane.roe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00"]);
    everySplit(EXTRA[1], ["203.0.113.9", "2001:db8:1::42", "ops@example.com"]);
    everySplit(EXTRA[2], []);
    everySplit(EXTRA[3], []);
    // The solid-SSN keyword sits well before the digits: the stream keeps enough context for it.
    everySplit("Her social security number (no dashes) 536228726, thanks", ["536228726"]);
  });

  it("secrets (blocked by default) in prose", () => {
    const keys = [openaiLegacy(), anthropicKey(), awsId("AKIA"), githubClassic("ghp_"), jwt()];
    for (let k = 0; k < keys.length; k++) everySplit("here: " + keys[k] + " ok", [keys[k]]);
  });

  it("every pair of cut points on a mixed line", () => {
    const text = "a@b.io, +1 415-555-0100; 10.0.0.1";
    const expected = whole(text);
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) check(text, [i, j], ["a@b.io", "+1 415-555-0100", "10.0.0.1"], expected);
    }
  });
});

describe("StreamRedactor: hold cap", () => {
  it("releases held text past the cap", () => {
    const s = new StreamRedactor(policy(), new RedactState(), 8);
    expect(s.push("a".repeat(20))).toBe("a".repeat(20));
    expect(s.pending).toBe(0);
  });
  it("still redacts an entity longer than the cap that lies whole in the released text", () => {
    const s = new StreamRedactor(policy(), new RedactState(), 8);
    expect(s.push("mail john.doe@example.com and more")).toBe("mail [EMAIL_1] and ");
    expect(s.finish()).toBe("more");
  });
  it("shares numbering with the rest of the request through the state", () => {
    const st = new RedactState();
    expect(redactText("from a@x.com", policy(), st)).toBe("from [EMAIL_1]");
    const s = new StreamRedactor(policy(), st);
    expect(s.push("reply to b@x.com and a@x.com") + s.finish()).toBe("reply to [EMAIL_2] and [EMAIL_1]");
  });
});
