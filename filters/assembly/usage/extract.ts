// Token usage from provider responses, for metering (#5) and quotas (#4): OpenAI's `usage` object
// (non-streamed, and the last chunk of a stream with stream_options.include_usage), Anthropic's
// `usage` (non-streamed; `message_start` and `message_delta` events when streamed). When a stream
// carries no usage, completion tokens are estimated from the streamed text (≈ 4 bytes a token) and
// the record says so.
//
// Read from the bytes, without a tree (this runs for every response): the body is validated once
// (checkJson, so a truncated or malformed body reports nothing, as the tree parser did; bytes that
// are not UTF-8 inside a string are let through, as the lenient decode before let them), the few
// members needed are located with the byte-level helpers of sdk/json-field.ts, and only the small
// `usage` object is parsed (parseJson: its number rules — 12.0 counts as 12 — stay as they were).
// A member named twice resolves to its last occurrence, like JsonValue.get and the providers' SDKs.
import { parseJson, JsonValue, JsonKind } from "../sdk/json";
import { checkJson } from "../sdk/json-check";
import { topLevelValues, stringAt, skipString, valueEndAt } from "../sdk/json-field";
import { ApiFormat } from "../sdk/api-error";

export class Usage {
  model: string = "";
  promptTokens: u64 = 0;
  completionTokens: u64 = 0;
  /** Prompt tokens served from the provider's cache (OpenAI cached_tokens, Anthropic cache reads). */
  cachedTokens: u64 = 0;
  /** True once the provider reported usage. */
  reported: bool = false;
  /** Bytes of generated text seen in a stream, for the estimate when nothing is reported. */
  streamedTextBytes: u64 = 0;

  /** Completion tokens, estimated from the streamed text when the provider reported none. */
  get estimated(): bool { return !this.reported; }
  estimatedCompletionTokens(): u64 { return (this.streamedTextBytes + 3) / 4; }
}

// Nesting the tree parser accepted (parseJson's MAX_DEPTH 64 counts from the root value, 0).
const MAX_NESTING: i32 = 65;

const RESPONSE_MEMBERS: Array<string> = ["model", "usage"];
const OPENAI_CHUNK_MEMBERS: Array<string> = ["model", "choices", "usage"];
/** Once the stream's model is known: each key of each chunk is compared with fewer names. */
const OPENAI_CHUNK_MEMBERS_NO_MODEL: Array<string> = ["choices", "usage"];
const ANTHROPIC_EVENT_MEMBERS: Array<string> = ["type", "message", "usage", "delta"];
const MESSAGE_MEMBERS: Array<string> = ["model", "usage"];
/** A stream choice's text: chat's `delta` (its `content`), or the legacy /completions `text`. */
const CHOICE_MEMBERS: Array<string> = ["delta", "text"];
const CONTENT_MEMBERS: Array<string> = ["content"];
const TEXT_MEMBERS: Array<string> = ["text"];

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }
@inline function isWs(c: u32): bool { return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09; }

function num(v: JsonValue | null): u64 {
  return v != null && v.kind == JsonKind.Number && v.n > 0 ? <u64>v.n : 0;
}

function path(v: JsonValue | null, a: string, b: string = ""): JsonValue | null {
  if (v == null) return null;
  const x = v.get(a);
  if (b.length == 0 || x == null) return x;
  return x.get(b);
}

/** Reads an OpenAI-style or Anthropic-style `usage` object into `u`. */
function readUsageObject(api: ApiFormat, usage: JsonValue, u: Usage): void {
  if (!usage.isObject()) return;
  if (api == ApiFormat.Anthropic) {
    const input = num(usage.get("input_tokens"));
    const cacheRead = num(usage.get("cache_read_input_tokens"));
    const cacheWrite = num(usage.get("cache_creation_input_tokens"));
    if (usage.get("input_tokens") != null) u.promptTokens = input + cacheRead + cacheWrite;
    if (usage.get("cache_read_input_tokens") != null) u.cachedTokens = cacheRead;
    if (usage.get("output_tokens") != null) u.completionTokens = num(usage.get("output_tokens"));
  } else {
    u.promptTokens = num(usage.get("prompt_tokens"));
    u.completionTokens = num(usage.get("completion_tokens"));
    u.cachedTokens = num(path(usage, "prompt_tokens_details", "cached_tokens"));
  }
  u.reported = true;
}

/**
 * Reads the `usage` object whose value starts at offset `j` (-1: absent): only that slice is
 * decoded and parsed. A value that is not an object is ignored, as before.
 */
function readUsageAt(api: ApiFormat, base: usize, len: i32, j: i32, u: Usage): void {
  if (j < 0 || at(base, j) != 0x7b) return;
  const end = valueEndAt(base, len, j);
  if (end < 0) return;
  if (!usageFromObjectBytes(api, base, j, end, u)) usageFromParsedObject(api, base, j, end, u);
}

/** The `usage` object in [j, end) read through the tree parser (the general path). */
export function usageFromParsedObject(api: ApiFormat, base: usize, j: i32, end: i32, u: Usage): void {
  const parsed = parseJson(String.UTF8.decodeUnsafe(base + <usize>j, <usize>(end - j)));
  if (parsed.value != null) readUsageObject(api, parsed.value!, u);
}

const OPENAI_USAGE_MEMBERS: Array<string> = ["prompt_tokens", "completion_tokens", "prompt_tokens_details"];
const CACHED_MEMBERS: Array<string> = ["cached_tokens"];
const ANTHROPIC_USAGE_MEMBERS: Array<string> = ["input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"];
/** A count the fast path cannot read the way the tree parser does (the general path decides). */
const NOT_PLAIN: i64 = -1;

/**
 * The `usage` object in [j, end) read from the bytes, as readUsageObject reads its tree, without
 * building one (this runs once per request). Only for the usual shape, where both readers surely
 * agree: ASCII without escapes, shallow, every count read a plain integer of up to 15 digits (exact
 * as a parsed f64). Anything else returns false with `u` untouched, for the tree parser to read.
 */
export function usageFromObjectBytes(api: ApiFormat, base: usize, j: i32, end: i32, u: Usage): bool {
  if (!plainObject(base, j, end)) return false;
  if (api == ApiFormat.Anthropic) {
    const m = membersAt(base, end, j, ANTHROPIC_USAGE_MEMBERS);
    const input = countAt(base, end, m[0]);
    const cacheRead = countAt(base, end, m[1]);
    const cacheWrite = countAt(base, end, m[2]);
    const output = countAt(base, end, m[3]);
    if (input == NOT_PLAIN || cacheRead == NOT_PLAIN || cacheWrite == NOT_PLAIN || output == NOT_PLAIN) return false;
    if (m[0] >= 0) u.promptTokens = <u64>input + <u64>cacheRead + <u64>cacheWrite;
    if (m[1] >= 0) u.cachedTokens = <u64>cacheRead;
    if (m[3] >= 0) u.completionTokens = <u64>output;
  } else {
    const m = membersAt(base, end, j, OPENAI_USAGE_MEMBERS);
    const prompt = countAt(base, end, m[0]);
    const completion = countAt(base, end, m[1]);
    // prompt_tokens_details.cached_tokens: 0 when details is absent or not an object.
    const cached = countAt(base, end, membersAt(base, end, m[2], CACHED_MEMBERS)[0]);
    if (prompt == NOT_PLAIN || completion == NOT_PLAIN || cached == NOT_PLAIN) return false;
    u.promptTokens = <u64>prompt;
    u.completionTokens = <u64>completion;
    u.cachedTokens = <u64>cached;
  }
  u.reported = true;
  return true;
}

/**
 * num() of the value at `k` (-1: absent) without a tree: 0 for an absent member, a value that is
 * not a number, or a negative number; the count for a plain integer of up to 15 digits;
 * NOT_PLAIN for any other number (fraction, exponent, more digits).
 */
function countAt(base: usize, len: i32, k: i32): i64 {
  if (k < 0) return 0;
  const c = at(base, k);
  if (c == 0x2d) return 0; // negative: num() counts it as 0
  if (c < 0x30 || c > 0x39) return 0;
  let v: i64 = 0;
  let i = k;
  while (i < len && at(base, i) >= 0x30 && at(base, i) <= 0x39) {
    if (i - k == 15) return NOT_PLAIN;
    v = v * 10 + <i64>(at(base, i) - 0x30);
    i++;
  }
  if (i < len && (at(base, i) == 0x2e || (at(base, i) | 0x20) == 0x65)) return NOT_PLAIN;
  return v;
}

/** Whether [j, end) is ASCII without a backslash and nested at most 16 deep. */
function plainObject(base: usize, j: i32, end: i32): bool {
  let depth = 0;
  let inString = false;
  for (let i = j; i < end; i++) {
    const c = at(base, i);
    if (c >= 0x80 || c == 0x5c) return false;
    if (c == 0x22) { inString = !inString; continue; }
    if (inString) continue;
    if (c == 0x7b || c == 0x5b) { if (++depth > 16) return false; }
    else if (c == 0x7d || c == 0x5d) depth--;
  }
  return true;
}

/** Offsets (absolute) of `names` in the object whose value starts at `j`; all -1 if it is not an object. */
function membersAt(base: usize, len: i32, j: i32, names: Array<string>): Int32Array {
  if (j < 0 || at(base, j) != 0x7b) {
    const none = new Int32Array(names.length);
    none.fill(-1);
    return none;
  }
  return membersIn(base, j, valueEndAt(base, len, j), len, names);
}

/** membersAt for an object at `j` whose end (valueEndAt) is already known: it is not walked again. */
function membersIn(base: usize, j: i32, end: i32, len: i32, names: Array<string>): Int32Array {
  // The object's own bytes are read as a document: its members are that document's top level.
  const rel = topLevelValues(base + <usize>j, (end < 0 ? len : end) - j, names);
  for (let k = 0; k < rel.length; k++) if (rel[k] >= 0) rel[k] += j;
  return rel;
}

/** UTF-8 length of the string value at `j` once unescaped, or -1 when it is not a string. */
function stringBytesAt(base: usize, len: i32, j: i32): i64 {
  if (j < 0 || at(base, j) != 0x22) return -1;
  const end = skipString(base, len, j);
  if (end < 0) return -1;
  for (let i = j + 1; i < end - 1; i++) {
    // An escape: count what it stands for (rare in deltas except \n and quotes).
    if (at(base, i) == 0x5c) {
      const s = stringAt(base, len, j);
      return s == null ? -1 : <i64>String.UTF8.byteLength(s);
    }
  }
  return <i64>(end - j - 2);
}

/** Usage of a complete (non-streamed) JSON response body of `len` bytes at `base`; `reported` stays false if it has none. */
export function usageFromBytes(api: ApiFormat, base: usize, len: i32): Usage {
  const u = new Usage();
  if (!checkJson(base, len, MAX_NESTING, true, false).ok) return u;
  const at_ = topLevelValues(base, len, RESPONSE_MEMBERS);
  const model = stringAt(base, len, at_[0]);
  if (model != null) u.model = model;
  readUsageAt(api, base, len, at_[1], u);
  return u;
}

/** usageFromJson for a body held as a string (specs, tools): the same reader over its UTF-8 bytes. */
export function usageFromJson(api: ApiFormat, body: string): Usage {
  const b = String.UTF8.encode(body);
  return usageFromBytes(api, changetype<usize>(b), b.byteLength);
}

/** Whether the bytes are "[DONE]", the end of an OpenAI stream. */
function isDone(base: usize, len: i32): bool {
  return len == 6 && at(base, 0) == 0x5b && at(base, 1) == 0x44 && at(base, 2) == 0x4f && at(base, 3) == 0x4e &&
    at(base, 4) == 0x45 && at(base, 5) == 0x5d;
}

/** Folds one SSE event's data into `u` (events of a streamed completion, in order). */
export function foldStreamEvent(api: ApiFormat, data: string, u: Usage): void {
  if (data == "[DONE]") return;
  // The event as UTF-8 bytes: reading the bytes builds no tree; only a `usage` object is parsed.
  const b = String.UTF8.encode(data);
  foldStreamEventBytes(api, changetype<usize>(b), b.byteLength, u);
}

/** foldStreamEvent for an event's data held as `len` UTF-8 bytes at `base` (stream-events.ts). */
export function foldStreamEventBytes(api: ApiFormat, base: usize, len: i32, u: Usage): void {
  if (isDone(base, len)) return;
  if (!checkJson(base, len, MAX_NESTING, true, false).ok) return;
  if (api == ApiFormat.Anthropic) {
    const m = topLevelValues(base, len, ANTHROPIC_EVENT_MEMBERS);
    const type = stringAt(base, len, m[0]);
    if (type == null) return;
    const t = type;
    if (t == "message_start") {
      const msg = membersAt(base, len, m[1], MESSAGE_MEMBERS);
      const model = stringAt(base, len, msg[0]);
      if (model != null) u.model = model;
      readUsageAt(api, base, len, msg[1], u);
    } else if (t == "message_delta") {
      readUsageAt(api, base, len, m[2], u);
    } else if (t == "content_block_delta") {
      const n = stringBytesAt(base, len, membersAt(base, len, m[3], TEXT_MEMBERS)[0]);
      if (n > 0) u.streamedTextBytes += <u64>n;
    }
    return;
  }
  // A member's offset does not depend on the other names asked for.
  const needModel = u.model.length == 0;
  const m = topLevelValues(base, len, needModel ? OPENAI_CHUNK_MEMBERS : OPENAI_CHUNK_MEMBERS_NO_MODEL);
  const o = needModel ? 1 : 0;
  if (needModel) {
    const model = stringAt(base, len, m[0]);
    if (model != null) u.model = model;
  }
  const choices = m[o];
  if (choices >= 0 && at(base, choices) == 0x5b) {
    // Each element of the array: its delta.content (chat) or its text (legacy /completions), when
    // it is a string.
    let i = choices + 1;
    while (i < len) {
      while (i < len && isWs(at(base, i))) i++;
      if (i >= len || at(base, i) == 0x5d) break;
      const end = valueEndAt(base, len, i);
      if (end < 0) break;
      const choice = at(base, i) == 0x7b ? membersIn(base, i, end, len, CHOICE_MEMBERS) : membersAt(base, len, i, CHOICE_MEMBERS);
      let n = stringBytesAt(base, len, membersAt(base, len, choice[0], CONTENT_MEMBERS)[0]);
      if (n < 0) n = stringBytesAt(base, len, choice[1]);
      if (n > 0) u.streamedTextBytes += <u64>n;
      i = end;
      while (i < len && isWs(at(base, i))) i++;
      if (i < len && at(base, i) == 0x2c) i++;
    }
  }
  readUsageAt(api, base, len, m[o + 1], u);
}
