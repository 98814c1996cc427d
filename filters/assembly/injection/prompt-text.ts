// Feeds the prompt text of a request body to the tokenizer, decoding JSON escapes and UTF-8 on the
// fly: no tree, no string per message, one pass over the bytes.
//
// What counts as prompt text: every string under the top-level members that reach the model —
// `messages` (OpenAI and Anthropic: string content, text parts, tool results, tool-call
// arguments), `system` (Anthropic, string or text blocks), `prompt` (legacy completions),
// `input` and `instructions` (Responses API, embeddings) — except the values of structural keys
// (role, type, ids, media types, base64 image data, URLs). Unknown keys under those members are
// read: an attacker chooses where to hide text, the scorer should not.
//
// The body must have passed checkJson() (sdk/json-check.ts): this reader trusts the structure and
// only guards its own bounds.
import { Tokens } from "./tokens";
import { skipString } from "../sdk/json-field";

const MAX_DEPTH: i32 = 128;
// Per depth: whether strings in this container are read (inherited from the key that holds it).
const scanAt = new StaticArray<bool>(MAX_DEPTH + 2);
// Per depth: 1 = object, 2 = array.
const kindAt = new StaticArray<u8>(MAX_DEPTH + 2);

enum Key { Other, Root, Skip }

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

function keyIs(base: usize, start: i32, end: i32, word: string): bool {
  if (end - start != word.length) return false;
  for (let i = 0; i < word.length; i++) if (at(base, start + i) != <u32>word.charCodeAt(i)) return false;
  return true;
}

const ROOT_KEYS: StaticArray<string> = ["messages", "system", "prompt", "input", "instructions"];
const SKIP_KEYS: StaticArray<string> = ["role", "type", "id", "tool_call_id", "tool_use_id", "name", "model",
  "media_type", "data", "url", "image_url", "detail", "cache_control", "signature", "file_id", "format", "mime_type"];

/** Classifies the key whose raw bytes are [start, end) (between the quotes). */
function classify(base: usize, start: i32, end: i32): Key {
  for (let i = 0; i < ROOT_KEYS.length; i++) if (keyIs(base, start, end, unchecked(ROOT_KEYS[i]))) return Key.Root;
  for (let i = 0; i < SKIP_KEYS.length; i++) if (keyIs(base, start, end, unchecked(SKIP_KEYS[i]))) return Key.Skip;
  return Key.Other;
}

@inline function hex(c: u32): i32 {
  const l = c | 0x20;
  return l >= 0x61 ? <i32>(l - 0x61 + 10) : <i32>(c - 0x30);
}

/** Decodes the string whose opening quote is at `i` into `t`; returns the index past it. */
function feedString(base: usize, len: i32, i: i32, t: Tokens): i32 {
  i++;
  let high: i32 = 0; // a pending UTF-16 high surrogate from a \u escape
  while (i < len) {
    const c = at(base, i);
    if (c == 0x22) { i++; break; }
    if (c == 0x5c && i + 1 < len) {
      const e = at(base, i + 1);
      if (e == 0x75 && i + 5 < len) {
        const u = (hex(at(base, i + 2)) << 12) | (hex(at(base, i + 3)) << 8) | (hex(at(base, i + 4)) << 4) | hex(at(base, i + 5));
        i += 6;
        if (u >= 0xD800 && u <= 0xDBFF) { high = u; continue; }
        if (u >= 0xDC00 && u <= 0xDFFF && high != 0) { t.feed(0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00)); high = 0; continue; }
        high = 0;
        t.feed(u);
        continue;
      }
      high = 0;
      t.feed(e == 0x6e || e == 0x72 ? 0x0A : e == 0x74 ? 0x20 : e == 0x62 || e == 0x66 ? 0x20 : <i32>e);
      i += 2;
      continue;
    }
    high = 0;
    if (c < 0x80) {
      // A run of plain ASCII (no quote, no escape) goes to the tokenizer in one call. It feeds
      // nothing only for a backslash in the last byte, which checkJson rules out.
      let k = t.feedAscii(base + <usize>i, len - i);
      if (k == 0) { t.feed(<i32>c); k++; }
      i += k;
      continue;
    }
    // UTF-8 (validated by checkJson): lead byte gives the length.
    let cp: i32; let n: i32;
    if (c >= 0xF0) { cp = <i32>(c & 0x07); n = 3; }
    else if (c >= 0xE0) { cp = <i32>(c & 0x0F); n = 2; }
    else { cp = <i32>(c & 0x1F); n = 1; }
    if (i + n >= len) break;
    for (let k = 1; k <= n; k++) cp = (cp << 6) | <i32>(at(base, i + k) & 0x3F);
    t.feed(cp);
    i += n + 1;
  }
  t.boundary();
  return i;
}

/** Feeds every prompt string of the JSON object at [base, base+len) to `t`. */
export function feedPromptText(base: usize, len: i32, t: Tokens): void {
  let depth = 0;
  let i = 0;
  // The key of the member being read, per depth, classified when it is read.
  let expectKey = false;
  let key: Key = Key.Other;
  while (i < len) {
    const c = at(base, i);
    if (c == 0x22) {
      if (depth > 0 && unchecked(kindAt[depth]) == 1 && expectKey) {
        const end = skipString(base, len, i);
        if (end < 0) return; // unterminated: checkJson rules it out
        key = classify(base, i + 1, end - 1);
        expectKey = false;
        i = end;
        continue;
      }
      if (readsString(depth, key)) { i = feedString(base, len, i, t); continue; }
      i = skipString(base, len, i);
      if (i < 0) return;
      continue;
    }
    if (c == 0x7b || c == 0x5b) {
      if (depth >= MAX_DEPTH) return; // checkJson bounds the depth well below this
      const scan = depth == 0 ? false : unchecked(kindAt[depth]) == 2 ? unchecked(scanAt[depth]) : readsString(depth, key);
      depth++;
      unchecked(kindAt[depth] = c == 0x7b ? 1 : 2);
      unchecked(scanAt[depth] = scan);
      expectKey = c == 0x7b;
      i++;
      continue;
    }
    if (c == 0x7d || c == 0x5d) {
      depth--;
      // Back in the parent: the member that held this container is done.
      key = Key.Other;
      i++;
      continue;
    }
    if (c == 0x2c && depth > 0 && unchecked(kindAt[depth]) == 1) expectKey = true;
    i++;
  }
}

/** Whether a string value at `depth` (member `key` when in an object) is prompt text. */
@inline function readsString(depth: i32, key: Key): bool {
  if (depth <= 0) return false;
  if (unchecked(kindAt[depth]) == 2) return unchecked(scanAt[depth]);
  if (depth == 1) return key == Key.Root;
  return unchecked(scanAt[depth]) && key != Key.Skip;
}
