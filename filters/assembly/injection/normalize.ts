// Character normalization: one code point in, one decision out. Folding happens before matching so
// that "IGNORE", "Ignorez", "ignorér", "ｉｇｎｏｒｅ", "іgnоrе" (Cyrillic і, о, е), "𝐢𝐠𝐧𝐨𝐫𝐞" (math bold)
// and "ig\u200Bnore" (zero-width space) all become the word "ignore", and "précédentes" becomes
// "precedentes" as vocab.ts spells it. Leetspeak digits are mapped per word in tokens.ts (a digit
// alone is a digit; inside a word of letters it is a letter).

/** Word break (space, most punctuation, symbols). */
export const SEP: i32 = -1;
/** Invisible format character (zero-width space/joiner, word joiner, BOM): dropped, and counted. */
export const INVISIBLE: i32 = -2;
/** Dropped silently (combining accents, soft hyphen, variation selectors). */
export const SKIP: i32 = -3;
/** A quotation mark: toggles "quoted" for the words that follow. */
export const QUOTE: i32 = -4;
/** Sentence end: . ! ? ; and line breaks. */
export const END: i32 = -5;
/** ":" — kept because "AI assistant:" addresses the model. */
export const COLON_CHAR: i32 = -6;
/** "<" or "[" — opens a chat-template marker such as <|im_start|>, [INST], <<SYS>>. */
export const OPEN_MARK: i32 = -7;
/** A letter of another script: part of a word, but the word is then outside the vocabulary. */
export const FOREIGN: i32 = -8;
/** ' ‘ ’ — an apostrophe inside a word (don't, l'IA), else a single quotation mark: tokens.ts decides. */
export const APOSTROPHE: i32 = -9;

// Latin-1 Supplement letters U+00C0..U+00FF folded to ASCII (one char per code point; "*" = needs
// two chars or is not a letter, handled in fold()).
const LATIN1: string = "aaaaaa*ceeeeiiiidnooooo*ouuuuyts" + "aaaaaa*ceeeeiiiidnooooo*ouuuuyty";

// Cyrillic and Greek letters that look like Latin ones, folded to the letter they imitate: a
// mixed-script word is the usual way to slip "ignore" past a filter. Pairs of (code point, ASCII).
const LOOKALIKES: StaticArray<i32> = [
  0x0430, 0x61, 0x0435, 0x65, 0x043E, 0x6F, 0x0440, 0x70, 0x0441, 0x63, 0x0443, 0x79, 0x0445, 0x78,
  0x0456, 0x69, 0x0455, 0x73, 0x0458, 0x6A, 0x0410, 0x61, 0x0412, 0x62, 0x0415, 0x65, 0x041A, 0x6B,
  0x041C, 0x6D, 0x041D, 0x68, 0x041E, 0x6F, 0x0420, 0x70, 0x0421, 0x63, 0x0422, 0x74, 0x0425, 0x78,
  0x0406, 0x69, 0x0405, 0x73, 0x03BF, 0x6F, 0x039F, 0x6F, 0x03B1, 0x61, 0x0391, 0x61, 0x03B5, 0x65,
  0x0395, 0x65, 0x03B9, 0x69, 0x0399, 0x69, 0x03BD, 0x76, 0x039D, 0x6E, 0x03C1, 0x70, 0x03A1, 0x70,
  0x03C4, 0x74, 0x03A4, 0x74, 0x03BA, 0x6B, 0x039A, 0x6B, 0x0392, 0x62, 0x0397, 0x68, 0x039C, 0x6D,
];

/**
 * What code point `cp` is for matching: an ASCII token character (a-z, 0-9, or "@"/"$" which
 * leetspeak uses for a/s), two of them packed as `first | second << 8` (ß, æ, œ, þ), or one of
 * the negative classes above.
 */
export function fold(cp: i32): i32 {
  if (cp < 0x80) {
    if (cp >= 0x61 && cp <= 0x7A) return cp;
    if (cp >= 0x41 && cp <= 0x5A) return cp + 0x20;
    if (cp >= 0x30 && cp <= 0x39) return cp;
    if (cp == 0x40 || cp == 0x24) return cp; // @ $
    if (cp == 0x0A || cp == 0x0D || cp == 0x2E || cp == 0x21 || cp == 0x3F || cp == 0x3B) return END;
    if (cp == 0x22 || cp == 0x60) return QUOTE; // " `
    if (cp == 0x27) return APOSTROPHE;
    if (cp == 0x3A) return COLON_CHAR;
    if (cp == 0x3C || cp == 0x5B) return OPEN_MARK;
    return SEP;
  }
  if (cp >= 0xC0 && cp <= 0xFF) {
    if (cp == 0xDF) return 0x73 | (0x73 << 8);         // ß → ss
    if (cp == 0xC6 || cp == 0xE6) return 0x61 | (0x65 << 8); // æ → ae
    if (cp == 0xD7 || cp == 0xF7) return SEP;           // × ÷
    const c = LATIN1.charCodeAt(cp - 0xC0);
    return c == 0x2A ? SEP : c;
  }
  if (cp == 0xAB || cp == 0xBB) return QUOTE;           // « »
  if (cp == 0xAD) return SKIP;                          // soft hyphen: legitimate in hyphenated text
  if (cp == 0xA0) return SEP;
  if (cp == 0x152 || cp == 0x153) return 0x6F | (0x65 << 8); // œ → oe
  if (cp >= 0x300 && cp <= 0x36F) return SKIP;          // combining accents (decomposed é)
  if (cp == 0x200B || cp == 0x200C || cp == 0x200D || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF || cp == 0x180E) return INVISIBLE;
  if (cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return INVISIBLE; // bidi controls
  if (cp >= 0xFE00 && cp <= 0xFE0F) return SKIP;        // variation selectors
  if (cp == 0x2018 || cp == 0x2019) return APOSTROPHE;
  if (cp == 0x201A || cp == 0x201B) return QUOTE;       // ‚ ‛
  if (cp >= 0x201C && cp <= 0x201F) return QUOTE;       // “ ” „ ‟
  if (cp == 0x2028 || cp == 0x2029 || cp == 0x2026) return END; // line/paragraph separators, …
  if (cp >= 0xFF01 && cp <= 0xFF5E) return fold(cp - 0xFEE0); // fullwidth ASCII
  if (cp >= 0x1D400 && cp <= 0x1D6A3) {                 // mathematical alphanumeric letters
    const k = (cp - 0x1D400) % 52;
    return k < 26 ? 0x61 + k : 0x61 + k - 26;
  }
  if (cp >= 0x370 && cp <= 0x4FF) {
    for (let i = 0; i < LOOKALIKES.length; i += 2) if (LOOKALIKES[i] == cp) return LOOKALIKES[i + 1];
    return FOREIGN;
  }
  if (cp >= 0x2000 && cp <= 0x2BFF) return SEP;         // punctuation, symbols, arrows, boxes
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return SEP;       // emoji
  return FOREIGN;
}
