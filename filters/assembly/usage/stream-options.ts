// Makes OpenAI report the usage of a streamed completion: without stream_options.include_usage a
// Chat Completions (or legacy Completions) stream carries no token counts at all, and the module
// could only estimate completion tokens from the text and count no prompt tokens, which would let
// a client under-report its own usage to the quota just by streaming. The request body gets
// `"stream_options":{"include_usage":true}`; the extra usage-only chunk this makes OpenAI send is
// then taken out of the response (usage-chunk.ts) so the client sees the stream it asked for.
import { topLevelValues, trueAt, valueEndAt } from "../sdk/json-field";

const INCLUDE_USAGE: string = "\"include_usage\":true";

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

function isSpace(c: u32): bool { return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09; }

/** Whether `path` (query string ignored) is a completion endpoint that takes stream_options. */
export function takesStreamOptions(path: string): bool {
  const q = path.indexOf("?");
  const p = q < 0 ? path : path.substring(0, q);
  return p.endsWith("/chat/completions") || p.endsWith("/completions");
}

/** `len` bytes at `base` with [from, to) replaced by `text`. */
function splice(base: usize, len: i32, from: i32, to: i32, text: string): ArrayBuffer {
  const insert = String.UTF8.encode(text);
  const n = insert.byteLength;
  const out = new ArrayBuffer(len - (to - from) + n);
  const o = changetype<usize>(out);
  memory.copy(o, base, <usize>from);
  memory.copy(o + <usize>from, changetype<usize>(insert), <usize>n);
  memory.copy(o + <usize>(from + n), base + <usize>to, <usize>(len - to));
  return out;
}

const TOP: Array<string> = ["stream", "stream_options"];
const INNER: Array<string> = ["include_usage"];

/**
 * The request body with stream_options.include_usage set to true, or null when there is nothing
 * to change: not a stream ("stream" is not true), include_usage already true, or a body shape
 * this does not recognise (then the stream is metered by the fallback count). Expects a body
 * checkJson() accepted (the auth module checks every body on provider routes).
 */
export function withIncludeUsage(base: usize, len: i32): ArrayBuffer | null {
  const found = topLevelValues(base, len, TOP);
  return withIncludeUsageAt(base, len, found[0], found[1]);
}

/**
 * withIncludeUsage for a caller that already located the top-level `stream` and `stream_options`
 * values (topLevelValues offsets, -1 if absent), e.g. together with `model`: one pass over the body.
 */
export function withIncludeUsageAt(base: usize, len: i32, stream: i32, so: i32): ArrayBuffer | null {
  if (!trueAt(base, len, stream)) return null;
  if (so < 0) {
    let end = len - 1;
    while (end >= 0 && isSpace(at(base, end))) end--;
    if (end < 0 || at(base, end) != 0x7d) return null;
    return splice(base, len, end, end, ",\"stream_options\":{" + INCLUDE_USAGE + "}");
  }
  const soEnd = valueEndAt(base, len, so);
  if (soEnd < 0) return null;
  if (at(base, so) != 0x7b) {
    // null or another non-object: the provider would refuse it anyway; make it the object.
    return splice(base, len, so, soEnd, "{" + INCLUDE_USAGE + "}");
  }
  // The object alone, so members of later top-level objects are never mistaken for its own.
  const iuAt = topLevelValues(base + <usize>so, soEnd - so, INNER)[0];
  if (iuAt >= 0) {
    const iu = so + iuAt;
    if (trueAt(base, len, iu)) return null;
    const iuEnd = valueEndAt(base, len, iu);
    return iuEnd < 0 ? null : splice(base, len, iu, iuEnd, "true");
  }
  let k = so + 1;
  while (k < soEnd && isSpace(at(base, k))) k++;
  const empty = k < soEnd && at(base, k) == 0x7d;
  return splice(base, len, so + 1, so + 1, empty ? INCLUDE_USAGE : INCLUDE_USAGE + ",");
}
