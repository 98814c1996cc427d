// Placeholders people paste instead of real secrets ("sk-...", YOUR_API_KEY, <password>, xxxx,
// ${DB_PASSWORD}, password123). Flagging them would block harmless prompts such as questions about
// configuration, so every rule rejects values that look like these.

import { isAlpha, lower, containsNoCase, hasAtNoCase } from "./secrets-chars";
import { codeAt } from "./text-at";

// Substrings that real keys practically never contain: for a random base62 body, the chance of a
// given 4-letter word appearing case-insensitively is ~1e-6 per position.
const MARKERS: Array<string> = [
  "xxxx", "your", "example", "placeholder", "redacted", "dummy", "sample", "changeme", "insert",
  "replace", "...", "\u2026", "****",
];

// First characters of the markers (bit per code below 128), so that one pass over a value tries a
// marker only where one can start: this check runs on every candidate key.
const FIRST: StaticArray<u32> = firstChars();

function firstChars(): StaticArray<u32> {
  const bits = new StaticArray<u32>(4);
  for (let i = 0; i < MARKERS.length; i++) {
    const c = MARKERS[i].charCodeAt(0);
    if (c < 128) bits[c >> 5] |= (<u32>1) << <u32>(c & 31);
  }
  return bits;
}

/** True when text[start..end) contains a placeholder marker (case-insensitive). */
export function hasPlaceholderMarker(text: string, start: i32, end: i32): bool {
  for (let i = start; i < end; i++) {
    const c = lower(codeAt(text, i));
    if (c < 128 && (unchecked(FIRST[c >> 5]) & ((<u32>1) << <u32>(c & 31))) == 0) continue;
    for (let m = 0; m < MARKERS.length; m++) {
      const mk = MARKERS[m];
      if (codeAt(mk, 0) == c && i + mk.length <= end && hasAtNoCase(text, i, mk)) return true;
    }
  }
  return false;
}

// Default or example passwords. A real leak of "password123" is missed on purpose (a judgment call,
// see README): prompts quote these far more often as examples ("set password=password123") than
// as live credentials, and blocking them would make the guard unusable for configuration help.
const WORDS: Array<string> = [
  "password", "passwd", "pass", "pwd", "secret", "mypassword", "yourpassword", "dbpassword",
  "userpassword", "changeme", "example", "placeholder", "redacted", "hidden", "test", "token",
  "apikey", "secretkey", "key", "none", "null", "undefined", "empty", "default", "foobar", "qwerty",
  "letmein",
];

/**
 * True when text[start..end), reduced to its letters (lower case, digits and symbols dropped:
 * password123!, pass_word), is one of the default/example words, or when it is templated:
 * starts with < { [ $ % * (<password>, ${PW}, {{pw}}, %s, ****) or is one repeated character.
 */
export function isPlaceholderValue(text: string, start: i32, end: i32): bool {
  if (end <= start) return true;
  const c0 = codeAt(text, start);
  if (c0 == 0x3c || c0 == 0x7b || c0 == 0x5b || c0 == 0x24 || c0 == 0x25 || c0 == 0x2a) return true;
  let same = true;
  for (let i = start + 1; i < end; i++) if (codeAt(text, i) != c0) { same = false; break; }
  if (same) return true;
  if (containsNoCase(text, start, end, "${") || containsNoCase(text, start, end, "{{")) return true;
  for (let w = 0; w < WORDS.length; w++) if (lettersEqual(text, start, end, WORDS[w])) return true;
  return hasPlaceholderMarker(text, start, end);
}

/** The ASCII letters of text[start..end), lower-cased, equal word (no allocation). */
function lettersEqual(text: string, start: i32, end: i32, word: string): bool {
  let k = 0;
  for (let i = start; i < end; i++) {
    const c = codeAt(text, i);
    if (!isAlpha(c)) continue;
    if (k >= word.length || lower(c) != codeAt(word, k)) return false;
    k++;
  }
  return k == word.length;
}
