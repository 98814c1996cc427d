// The token stream the patterns run on. Code points go in (from the JSON walker, one prompt part
// after another); words are folded (normalize.ts), looked up once in the vocabulary, and only
// words that belong to some concept are kept, with their position. Unknown words still advance
// the position, so a pattern's "at most N words between" stays true, but they cost no memory: a
// 1 MB prompt of ordinary prose keeps a few thousand entries.
//
// The buffers are reused across requests (one stream at a time per VM thread) and only grow.
//
// The reading state lives in an unmanaged object (Reader) that the garbage collector does not see,
// and the entries are written through raw pointers into Tokens' arrays: a method on a managed
// object spills `this` to the shadow stack at every field access and sets up a frame on every
// call, which was a quarter of the tokenizer's time, once per character. Safe because Tokens
// owns both: it keeps the arrays alive, sets the pointers again whenever it replaces them
// (grow), and the Reader lives as long as the VM (never freed, one per Tokens).
import { fold, INVISIBLE, SKIP, QUOTE, END, COLON_CHAR, OPEN_MARK, FOREIGN, APOSTROPHE } from "./normalize";
import { lookupWord, buildVocab } from "./vocab";
import { EOS, COLON, LT, SYSTEM, PROMPT, INSTR, SYSPROMPT, DEV, MODE, DEVMODE } from "./concepts";

/** Entry flags. */
export const IN_QUOTE: u8 = 1;
export const IN_COMMENT: u8 = 2;

const MAX_WORD: i32 = 32; // longer runs are not words of the vocabulary (and cannot be)

// fold() of every ASCII code point, for feedAscii(): a load instead of a chain of comparisons.
const ASCII_FOLD = new StaticArray<i32>(128);
for (let c = 0; c < 128; c++) unchecked(ASCII_FOLD[c] = fold(c));

@inline function isAsciiLetter(c: u32): bool { return (c | 0x20) - 0x61 < 26; }

export class Tokens {
  pos: StaticArray<i32> = new StaticArray<i32>(256);
  mask: StaticArray<u64> = new StaticArray<u64>(256);
  flags: StaticArray<u8> = new StaticArray<u8>(256);
  private r!: Reader;

  constructor() {
    buildVocab();
    this.r = new Reader(changetype<usize>(this));
    this.r.entries(this.pos, this.mask, this.flags);
  }

  /** Entries kept (words with a concept, and punctuation the patterns use). */
  get n(): i32 { return this.r.n; }
  /** Position of the last word or mark (every word counts, known or not). */
  get at(): i32 { return this.r.at; }
  // Evidence gathered while reading, for the structural signals of the scorer.
  /** Invisible characters found inside a word (between letters). */
  get invisibleInWords(): i32 { return this.r.invisibleInWords; }
  /** Unicode tag characters (U+E0020..U+E007E), which render as nothing and decode to ASCII. */
  get tagChars(): i32 { return this.r.tagChars; }
  /** Longest run of consecutive tag characters (flag emoji use at most 6). */
  get longestTagRun(): i32 { return this.r.longestTagRun; }

  /** Forgets everything (start of a request); keeps the buffers. */
  reset(): void { this.r.reset(); }
  /** One code point of prompt text. */
  feed(cp: i32): void { this.r.feed(cp); }
  /** See Reader.feedAscii. */
  feedAscii(ptr: usize, len: i32): i32 { return this.r.feedAscii(ptr, len); }
  /** End of one prompt part (a message, a content part, the system prompt). */
  boundary(): void { this.r.boundary(); }

  /** Doubles the entry arrays (the Reader found them full). */
  grow(): void {
    const n = this.r.n;
    const size = this.mask.length * 2;
    const p = new StaticArray<i32>(size);
    const m = new StaticArray<u64>(size);
    const f = new StaticArray<u8>(size);
    memory.copy(changetype<usize>(p), changetype<usize>(this.pos), <usize>n * 4);
    memory.copy(changetype<usize>(m), changetype<usize>(this.mask), <usize>n * 8);
    memory.copy(changetype<usize>(f), changetype<usize>(this.flags), <usize>n);
    this.pos = p; this.mask = m; this.flags = f;
    this.r.entries(p, m, f);
  }
}

/** Tokens.grow() of the Tokens at `owner` (the Reader holds it as a plain address). */
function growEntries(owner: usize): void { changetype<Tokens>(owner).grow(); }

/** What Tokens reads with: the state between two characters, and where the entries go. */
@unmanaged
class Reader {
  n: i32 = 0;
  at: i32 = 0;
  invisibleInWords: i32 = 0;
  tagChars: i32 = 0;
  longestTagRun: i32 = 0;

  // Tokens' entry arrays (pos, mask, flags): their data and how many entries they hold.
  private posAt: usize = 0;
  private maskAt: usize = 0;
  private flagsAt: usize = 0;
  private capacity: i32 = 0;

  /** MAX_WORD bytes, allocated with the Reader and never freed. */
  private word: usize = heap.alloc(<usize>MAX_WORD);
  private wordLen: i32 = 0;
  private wordTooLong: bool = false;
  private wordForeign: bool = false;
  private wordLetters: bool = false;
  /** The word holds a digit, "@" or "$" (what deLeet() rewrites). */
  private wordLeet: bool = false;
  private quoted: bool = false;
  private comment: bool = false;
  // The last three ASCII characters seen, for "<!--" and "-->".
  private c1: i32 = 0;
  private c2: i32 = 0;
  private c3: i32 = 0;
  private tagRun: i32 = 0;
  /** An apostrophe ended the last word: a letter next means it was one (don't), else a closing quote. */
  private apostrophe: bool = false;

  /** `owner`: the address of the Tokens whose arrays this fills. */
  constructor(private owner: usize) {}

  entries(pos: StaticArray<i32>, mask: StaticArray<u64>, flags: StaticArray<u8>): void {
    this.posAt = changetype<usize>(pos);
    this.maskAt = changetype<usize>(mask);
    this.flagsAt = changetype<usize>(flags);
    this.capacity = mask.length;
  }

  /** Forgets everything (start of a request); keeps the buffers. */
  reset(): void {
    this.n = 0; this.at = 0;
    this.invisibleInWords = 0; this.tagChars = 0; this.longestTagRun = 0; this.tagRun = 0;
    this.wordLen = 0; this.wordTooLong = false; this.wordForeign = false; this.wordLetters = false; this.wordLeet = false;
    this.quoted = false; this.comment = false; this.c1 = 0; this.c2 = 0; this.c3 = 0; this.apostrophe = false;
  }

  feed(cp: i32): void {
    // Fast path for the common case, an ASCII letter inside or starting a word.
    const lower = cp | 0x20;
    if (lower >= 0x61 && lower <= 0x7A && !this.apostrophe) {
      this.tagRun = 0;
      this.c3 = this.c2; this.c2 = this.c1; this.c1 = cp;
      this.letter(lower);
      return;
    }
    if (cp >= 0xE0000 && cp <= 0xE007F) {
      // Tag characters: invisible, but models read them. Decode the hidden ASCII and count.
      this.tagChars++;
      this.tagRun++;
      if (this.tagRun > this.longestTagRun) this.longestTagRun = this.tagRun;
      if (cp >= 0xE0020 && cp <= 0xE007E) this.feedFolded(cp - 0xE0000, fold(cp - 0xE0000));
      return;
    }
    this.tagRun = 0;
    this.feedFolded(cp, fold(cp));
  }

  /**
   * ASCII code points from the bytes at [ptr, ptr + len): the same as feed() on each of them,
   * faster. Stops before the first byte that is not plain ASCII text inside a JSON string (≥ 0x80,
   * a double quote, a backslash), which the JSON reader decodes itself; returns how many bytes it
   * fed. That is nearly all of a prompt. Runs of letters are copied into the word in one inner
   * loop; every other character takes feed()'s own path (feedFolded). The spec "ASCII runs"
   * checks that both paths give the same entries on tricky text.
   */
  feedAscii(ptr: usize, len: i32): i32 {
    let i = 0;
    while (i < len) {
      const c = <u32>load<u8>(ptr + <usize>i);
      if (isAsciiLetter(c) && !this.apostrophe) { i = this.letterRun(ptr, i, len); continue; }
      if (c >= 0x80 || c == 0x22 || c == 0x5C) break;
      this.tagRun = 0;
      this.feedFolded(<i32>c, unchecked(ASCII_FOLD[c]));
      i++;
    }
    return i;
  }

  /**
   * The run of ASCII letters from byte `i` (a letter, with no apostrophe pending) up to `len`:
   * feed()'s fast path on each of them. Returns the index past the run.
   */
  private letterRun(ptr: usize, i: i32, len: i32): i32 {
    const start = i;
    let wl = this.wordLen;
    const w = this.word;
    // letter() on each: up to MAX_WORD they are kept, the rest only mark the word too long.
    while (i < len) {
      const c = <u32>load<u8>(ptr + <usize>i);
      if (!isAsciiLetter(c)) break;
      if (wl < MAX_WORD) { store<u8>(w + <usize>wl, <u8>(c | 0x20)); wl++; } else this.wordTooLong = true;
      i++;
    }
    this.wordLen = wl;
    this.wordLetters = true;
    this.tagRun = 0;
    // The last three characters, as single feeds would leave them (for "<!--" and "-->").
    const n = i - start;
    const end = ptr + <usize>i;
    if (n >= 3) {
      this.c3 = <i32>load<u8>(end - 3); this.c2 = <i32>load<u8>(end - 2); this.c1 = <i32>load<u8>(end - 1);
    } else if (n == 2) {
      this.c3 = this.c1; this.c2 = <i32>load<u8>(end - 2); this.c1 = <i32>load<u8>(end - 1);
    } else {
      this.c3 = this.c2; this.c2 = this.c1; this.c1 = <i32>load<u8>(end - 1);
    }
    return i;
  }

  private feedFolded(cp: i32, f: i32): void {
    if (cp < 0x80) this.watchComment(cp);
    if (this.apostrophe && f != SKIP && f != INVISIBLE) {
      this.apostrophe = false;
      if (f < 0 && f != FOREIGN) this.quoted = !this.quoted; // 'instructions' — the quote closed
    }
    if (f >= 0) {
      this.letter(f & 0xFF);
      if (f > 0xFF) this.letter(f >> 8);
      return;
    }
    if (f == SKIP) return;
    if (f == INVISIBLE) { if (this.wordLen > 0) this.invisibleInWords++; return; }
    if (f == FOREIGN) {
      this.wordForeign = true;
      if (this.wordLen == 0) this.wordLen = 1; // an unknown word has started
      return;
    }
    if (f == APOSTROPHE) {
      // After a letter it may be an apostrophe or a closing quote; elsewhere it opens or closes.
      if (this.wordLen > 0) { this.endWord(); this.apostrophe = true; } else this.quoted = !this.quoted;
      return;
    }
    this.endWord();
    if (f == END) { this.mark(EOS); if (cp == 0x0A) this.quoted = false; }
    else if (f == COLON_CHAR) this.mark(COLON);
    else if (f == OPEN_MARK) this.mark(LT);
    else if (f == QUOTE) this.quoted = !this.quoted;
  }

  boundary(): void {
    this.endWord();
    this.mark(EOS);
    this.quoted = false;
    this.comment = false;
    this.tagRun = 0;
    this.apostrophe = false;
  }

  @inline private watchComment(cp: i32): void {
    if (cp == 0x2D && this.c1 == 0x2D && this.c2 == 0x21 && this.c3 == 0x3C) this.comment = true;   // <!--
    else if (cp == 0x3E && this.c1 == 0x2D && this.c2 == 0x2D) this.comment = false;                  // -->
    this.c3 = this.c2; this.c2 = this.c1; this.c1 = cp;
  }

  @inline private letter(c: i32): void {
    if (this.wordLen >= MAX_WORD) { this.wordTooLong = true; return; }
    store<u8>(this.word + <usize>this.wordLen, <u8>c);
    this.wordLen++;
    // Every letter folds to a-z; below that are only the digits, "@" and "$".
    if (c >= 0x61) this.wordLetters = true; else this.wordLeet = true;
  }

  private endWord(): void {
    if (this.wordLen == 0) return;
    this.at++;
    const len = this.wordLen;
    const known = !this.wordTooLong && !this.wordForeign;
    this.wordLen = 0; this.wordTooLong = false; this.wordForeign = false;
    const letters = this.wordLetters;
    const leet = this.wordLeet;
    this.wordLetters = false; this.wordLeet = false;
    if (!known) return;
    if (letters && leet) deLeet(this.word, len);
    const m = lookupWord(this.word, len);
    if (m != 0) this.push(this.derive(m));
  }

  /** Punctuation the patterns use; repeated sentence ends collapse into one. */
  private mark(m: u64): void {
    if (m == EOS && this.n > 0 && load<u64>(this.maskAt + (<usize>(this.n - 1) << 3)) == EOS) return;
    this.at++;
    this.push(m);
  }

  /**
   * Two-word concepts, set on the second word: "system prompt" / "prompt système" / "prompt del
   * sistema" (SYSPROMPT), "developer mode" / "mode développeur" (DEVMODE).
   */
  private derive(m: u64): u64 {
    if (this.n == 0) return m;
    const prev = load<u64>(this.maskAt + (<usize>(this.n - 1) << 3));
    const dist = this.at - load<i32>(this.posAt + (<usize>(this.n - 1) << 2));
    if (dist <= 2 && (((m & (PROMPT | INSTR)) != 0 && (prev & SYSTEM) != 0) || ((m & SYSTEM) != 0 && (prev & (PROMPT | INSTR)) != 0))) m |= SYSPROMPT;
    if (dist == 1 && (((m & MODE) != 0 && (prev & DEV) != 0) || ((m & DEV) != 0 && (prev & MODE) != 0))) m |= DEVMODE;
    return m;
  }

  private push(m: u64): void {
    if (this.n == this.capacity) growEntries(this.owner); // calls entries() with the new arrays
    const i = <usize>this.n;
    store<i32>(this.posAt + (i << 2), this.at);
    store<u64>(this.maskAt + (i << 3), m);
    store<u8>(this.flagsAt + i, (this.quoted ? IN_QUOTE : 0) | (this.comment ? IN_COMMENT : 0));
    this.n = <i32>i + 1;
  }
}

/** Leetspeak inside a word of letters: 1gn0r3 → ignore, @ → a, $ → s. */
function deLeet(w: usize, len: i32): void {
  for (let i = 0; i < len; i++) {
    const c = load<u8>(w + <usize>i);
    let r: u8 = c;
    if (c == 0x30) r = 0x6F;       // 0 → o
    else if (c == 0x31) r = 0x69;  // 1 → i
    else if (c == 0x33) r = 0x65;  // 3 → e
    else if (c == 0x34) r = 0x61;  // 4 → a
    else if (c == 0x35) r = 0x73;  // 5 → s
    else if (c == 0x37) r = 0x74;  // 7 → t
    else if (c == 0x40) r = 0x61;  // @ → a
    else if (c == 0x24) r = 0x73;  // $ → s
    store<u8>(w + <usize>i, r);
  }
}
