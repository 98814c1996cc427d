// StreamEvents (bytes) must fold exactly what sdk/sse.ts SseParser + foldStreamEvent (strings)
// folded, on any stream and wherever it is split into chunks.
import { StreamEvents } from "../stream-events";
import { Usage, foldStreamEvent } from "../extract";
import { SseParser } from "../../sdk/sse";
import { ApiFormat } from "../../sdk/api-error";

/** The usage as one comparable line. */
function show(u: Usage): string {
  return u.model + "|" + u.promptTokens.toString() + "|" + u.completionTokens.toString() + "|" + u.cachedTokens.toString() +
    "|" + (u.reported ? "r" : "-") + "|" + u.streamedTextBytes.toString();
}

/** The old path: SseParser's string events folded one by one. */
function viaStrings(api: ApiFormat, b: Uint8Array, cuts: Array<i32>, maxLine: i32): string {
  const p = new SseParser(maxLine);
  const u = new Usage();
  let from = 0;
  for (let k = 0; k <= cuts.length; k++) {
    const to = k < cuts.length ? cuts[k] : b.length;
    const events = p.feed(b.dataStart + <usize>from, to - from);
    for (let i = 0; i < events.length; i++) foldStreamEvent(api, events[i].data, u);
    from = to;
  }
  return show(u);
}

function viaBytes(api: ApiFormat, b: Uint8Array, cuts: Array<i32>, maxLine: i32): string {
  const s = new StreamEvents(api, maxLine);
  const u = new Usage();
  let from = 0;
  for (let k = 0; k <= cuts.length; k++) {
    const to = k < cuts.length ? cuts[k] : b.length;
    s.feed(b.dataStart + <usize>from, to - from, u);
    from = to;
  }
  return show(u);
}

/** Both paths agree whole, split once at every offset, and split at every byte. */
function agree(api: ApiFormat, b: Uint8Array, maxLine: i32 = 1 << 20): void {
  const whole = viaStrings(api, b, [], maxLine);
  expect(viaBytes(api, b, [], maxLine)).toBe(whole);
  for (let at = 0; at <= b.length; at++) {
    expect(viaBytes(api, b, [at], maxLine)).toBe(viaStrings(api, b, [at], maxLine));
  }
  const every = new Array<i32>(0);
  for (let at = 1; at < b.length; at++) every.push(at);
  expect(viaBytes(api, b, every, maxLine)).toBe(viaStrings(api, b, every, maxLine));
}

function bytes(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }

/** `s` with every "~" replaced by the byte `b` (to put bytes that are not UTF-8 in a stream). */
function withByte(s: string, b: u8): Uint8Array {
  const out = bytes(s);
  for (let i = 0; i < out.length; i++) if (out[i] == 0x7e) out[i] = b;
  return out;
}

const OPENAI = "data: {\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
  "data:{\"model\":\"other\",\"choices\":[{\"delta\":{\"content\":\"lo\\n\\\"x\\\"\"}},{\"text\":\"ab\"}]}\r\n\r\n" +
  ": a comment\n" +
  "event: chunk\n" +
  "data: {\"choices\":[],\n" +
  "data: \"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n" +
  "data\n\n" +
  "\n\n" +
  "data: [DONE]\n\n";

describe("StreamEvents", () => {
  it("folds an OpenAI stream as SseParser did: CRLF, comments, data over two lines, [DONE]", () => {
    agree(ApiFormat.OpenAI, bytes(OPENAI));
  });
  it("agrees on escaped keys and a usage named twice (the last one wins)", () => {
    agree(ApiFormat.OpenAI, bytes("data: {\"choices\":[],\"\\u0075sage\":{\"prompt_tokens\":1},\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}\n\n" +
      "data: {\"model\":\"m\\u00e9\",\"choices\":[{\"delta\":{\"content\":\"\\u00e9t\\u00e9\"}}]}\n\n"));
  });
  it("agrees on multi-byte text and on bytes that are not UTF-8, also around the colon", () => {
    agree(ApiFormat.OpenAI, bytes("data: {\"model\":\"é\",\"choices\":[{\"delta\":{\"content\":\"日本語 😀\"}}]}\n\n"));
    agree(ApiFormat.OpenAI, withByte("data: {\"choices\":[{\"delta\":{\"content\":\"a~b\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n\n", 0xff));
    // A lead byte just before the colon or the newline: the decoder takes the next bytes with it.
    agree(ApiFormat.OpenAI, withByte("data~: {\"choices\":[{\"delta\":{\"content\":\"ab\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"abc\"}}]}\n\n", 0xe2));
    agree(ApiFormat.OpenAI, withByte("data: {\"choices\":[{\"delta\":{\"content\":\"ab\"}}]}~\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"x~\"}}]}\ndata: 1\n\n", 0xc3));
    // An ASCII data line after one that is not, in the same event.
    agree(ApiFormat.OpenAI, withByte("data: {\"model\":\"~\",\ndata: \"choices\":[{\"delta\":{\"content\":\"abc\"}}]}\n\n", 0xe9));
  });
  it("folds an Anthropic stream as SseParser did", () => {
    agree(ApiFormat.Anthropic, bytes(
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-3-5-haiku\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n" +
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \\\"there\\\" é\"}}\n\n" +
      "event: ping\ndata: {\"type\": \"ping\"}\n\n" +
      "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":12}}\r\n\r\n"));
  });
  it("drops the lines SseParser dropped as too long", () => {
    agree(ApiFormat.OpenAI, bytes(OPENAI), 40);
    agree(ApiFormat.OpenAI, bytes(OPENAI), 60);
  });
  it("keeps no event that has not ended", () => {
    agree(ApiFormat.OpenAI, bytes("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n"));
  });
});
