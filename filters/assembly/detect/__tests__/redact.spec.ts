import { EntityKind, Finding, kindBit } from "../finding";
import { Action, RedactPolicy, RedactState, redactText, applyRedactions } from "../redactor";
import { resolveOverlaps } from "../scan";

describe("redactText", () => {
  it("masks with typed placeholders numbered per distinct value", () => {
    const st = new RedactState();
    const out = redactText("a@x.com wrote to b@y.org, then a@x.com again; call 415-555-0100", RedactPolicy.defaults(), st);
    expect(out).toBe("[EMAIL_1] wrote to [EMAIL_2], then [EMAIL_1] again; call [PHONE_1]");
    expect(st.found[EntityKind.Email]).toBe(3);
    expect(st.found[EntityKind.Phone]).toBe(1);
    expect(st.total()).toBe(4);
    expect(st.foundKinds()).toBe(kindBit(EntityKind.Email) | kindBit(EntityKind.Phone));
    expect(st.blockedKinds()).toBe(0);
  });

  it("shares numbering across strings of one request through the state", () => {
    const st = new RedactState();
    const p = RedactPolicy.defaults();
    expect(redactText("from a@x.com", p, st)).toBe("from [EMAIL_1]");
    expect(redactText("to b@x.com and a@x.com", p, st)).toBe("to [EMAIL_2] and [EMAIL_1]");
    // A fresh state starts again at 1.
    expect(redactText("to b@x.com", p, new RedactState())).toBe("to [EMAIL_1]");
  });

  it("hashes with HMAC-SHA256(salt, value): stable per salt, different across salts, no value", () => {
    const p = RedactPolicy.defaults();
    p.set(EntityKind.Email, Action.Hash);
    p.setSalt("tenant-salt");
    const a = redactText("x john@example.com y", p, new RedactState());
    const b = redactText("john@example.com", p, new RedactState());
    expect(a.startsWith("x [EMAIL:")).toBe(true);
    expect(a.length).toBe("x [EMAIL:".length + 12 + "] y".length);
    expect(a.substring(2, a.length - 2)).toBe(b);
    expect(a.includes("john")).toBe(false);
    p.setSalt("other-salt");
    expect(redactText("john@example.com", p, new RedactState()) == b).toBe(false);
  });

  it("hashes the UTF-8 bytes of non-ASCII values (accented local parts)", () => {
    const p = RedactPolicy.defaults();
    p.set(EntityKind.Email, Action.Hash);
    p.setSalt("s\u00e9l");
    const a = redactText("andr\u00e9@exemple.fr", p, new RedactState());
    const b = redactText("andre@exemple.fr", p, new RedactState());
    // Independent value: Node's crypto.createHmac("sha256", "s\u00e9l") over the UTF-8 address.
    expect(a).toBe("[EMAIL:0651824b2a68]");
    expect(a == b).toBe(false);
  });

  it("block counts the entity, keeps it out of the text and reports its kind", () => {
    const p = RedactPolicy.defaults();
    p.set(EntityKind.Card, Action.Block);
    const st = new RedactState();
    const out = redactText("pay with 4111 1111 1111 1111 or 5500-0000-0000-0004", p, st);
    expect(out).toBe("pay with [CARD_1] or [CARD_2]");
    expect(st.blocked[EntityKind.Card]).toBe(2);
    expect(st.blockedKinds()).toBe(kindBit(EntityKind.Card));
  });

  it("allow leaves the kind untouched (not even detected)", () => {
    const p = RedactPolicy.defaults();
    p.set(EntityKind.Ipv4, Action.Allow);
    const st = new RedactState();
    expect(redactText("host 10.0.0.1, mail a@b.io", p, st)).toBe("host 10.0.0.1, mail [EMAIL_1]");
    expect(st.found[EntityKind.Ipv4]).toBe(0);
    expect((p.kinds() & kindBit(EntityKind.Ipv4)) == 0).toBe(true);
  });

  it("returns the same string when nothing is found", () => {
    const text = "nothing to see here: version 1.2.3, 2024-01-15 at 12:30:45";
    expect(redactText(text, RedactPolicy.defaults(), new RedactState())).toBe(text);
  });

  it("redacts only inside [from, to) with applyRedactions", () => {
    const text = "a@x.com | b@y.com";
    const f = [new Finding(EntityKind.Email, 0, 7), new Finding(EntityKind.Email, 10, 17)];
    expect(applyRedactions(text, 0, 10, f, RedactPolicy.defaults(), new RedactState())).toBe("[EMAIL_1] | ");
  });
});

describe("resolveOverlaps", () => {
  it("keeps a secret over PII, then the longer span, deterministically", () => {
    const f = [
      new Finding(EntityKind.Phone, 5, 15),
      new Finding(EntityKind.Email, 0, 20),
      new Finding(EntityKind.Ipv4, 30, 40),
      new Finding(EntityKind.GenericSecret, 35, 38),
      new Finding(EntityKind.Phone, 50, 60),
      new Finding(EntityKind.Card, 50, 60),
    ];
    resolveOverlaps(f);
    expect(f.length).toBe(3);
    expect(f[0].kind).toBe(EntityKind.Email);
    expect(f[1].kind).toBe(EntityKind.GenericSecret);
    expect(f[2].kind).toBe(EntityKind.Card); // same span: the checksummed kind
    for (let i = 1; i < f.length; i++) expect(f[i].start >= f[i - 1].end).toBe(true);
  });
});
