// What the specs share: a text fed to the tokenizer one code point at a time, as one prompt part
// (what the JSON reader does for one string, without the JSON).
import { Tokens } from "../tokens";

export function feedText(t: Tokens, text: string): Tokens {
  t.reset();
  t.boundary();
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i);
    if (cp > 0xFFFF) i++;
    t.feed(cp);
  }
  t.boundary();
  return t;
}
