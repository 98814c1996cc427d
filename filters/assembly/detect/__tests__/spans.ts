// Spec helper: the entities found in a text, as "kind:value|kind:value" (easy to compare, and a
// failing expectation shows exactly what matched).
import { Finding, ALL_KINDS, entityName } from "../finding";
import { findEntities } from "../scan";

const found: Array<Finding> = new Array<Finding>();

export function spans(text: string): string {
  findEntities(text, ALL_KINDS, found);
  let s = "";
  for (let i = 0; i < found.length; i++) {
    if (i > 0) s += "|";
    s += entityName(found[i].kind) + ":" + text.substring(found[i].start, found[i].end);
  }
  return s;
}

/** Each of `texts` yields exactly `kind:whole text` (the whole string is one entity). */
export function expectWhole(kind: string, texts: Array<string>): void {
  for (let i = 0; i < texts.length; i++) expect(spans(texts[i])).toBe(kind + ":" + texts[i], texts[i]);
}

/** None of `texts` yields anything. */
export function expectNone(texts: Array<string>): void {
  for (let i = 0; i < texts.length; i++) expect(spans(texts[i])).toBe("", texts[i]);
}
