import { Finding, EntityKind, ALL_KINDS } from "../finding";
import { findEntities } from "../scan";

function spans(text: string): string {
  const out = new Array<Finding>();
  findEntities(text, ALL_KINDS, out);
  let s = "";
  for (let i = 0; i < out.length; i++) {
    if (i > 0) s += "|";
    s += (<i32>out[i].kind).toString() + ":" + text.substring(out[i].start, out[i].end);
  }
  return s;
}

describe("smoke", () => {
  it("finds", () => {
    expect(spans("mail john.doe@example.com now")).toBe("0:john.doe@example.com");
    expect(spans("call +33 6 12 34 56 78 or (415) 555-0100")).toBe("1:+33 6 12 34 56 78|1:(415) 555-0100");
    expect(spans("card 4111 1111 1111 1111 ssn 123-45-6789")).toBe("2:4111 1111 1111 1111|3:123-45-6789");
    expect(spans("iban DE89 3704 0044 0532 0130 00 ip 10.0.0.1 and 2001:db8::1")).toBe("4:DE89 3704 0044 0532 0130 00|5:10.0.0.1|6:2001:db8::1");
  });
});
