import { usageFromJson, usageFromBytes, foldStreamEvent, Usage } from "../extract";
import { ApiFormat } from "../../sdk/api-error";

describe("usageFromJson", () => {
  it("reads OpenAI chat completion usage with cached tokens", () => {
    const u = usageFromJson(ApiFormat.OpenAI, "{\"id\":\"x\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":4}}}");
    expect(u.reported).toBe(true);
    expect(u.model).toBe("gpt-4o-mini");
    expect(u.promptTokens).toBe(12);
    expect(u.completionTokens).toBe(5);
    expect(u.cachedTokens).toBe(4);
  });
  it("reads Anthropic message usage, cache reads counted as prompt tokens", () => {
    const u = usageFromJson(ApiFormat.Anthropic, "{\"type\":\"message\",\"model\":\"claude-3-5-haiku\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":90,\"output_tokens\":7}}");
    expect(u.promptTokens).toBe(100);
    expect(u.cachedTokens).toBe(90);
    expect(u.completionTokens).toBe(7);
  });
  it("meters a reply whose text has bytes that are not UTF-8 (a provider's bad byte costs no usage record)", () => {
    const text = String.UTF8.encode("{\"model\":\"m\",\"choices\":[{\"message\":{\"content\":\"ab\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}");
    const bytes = Uint8Array.wrap(text);
    // "ab" → "a\xffb"-like: overwrite the "b" of the content with 0xFF (not UTF-8).
    let at = -1;
    for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] == 0x61 && bytes[i + 1] == 0x62) { at = i + 1; break; }
    expect(at).toBeGreaterThan(0);
    bytes[at] = 0xff;
    const u = usageFromBytes(ApiFormat.OpenAI, changetype<usize>(text), text.byteLength);
    expect(u.reported).toBe(true);
    expect(u.promptTokens).toBe(3);
    expect(u.completionTokens).toBe(2);
  });
  it("reports nothing for bodies without usage or not JSON", () => {
    expect(usageFromJson(ApiFormat.OpenAI, "{\"error\":{}}").reported).toBe(false);
    expect(usageFromJson(ApiFormat.OpenAI, "not json").reported).toBe(false);
  });
  it("finds usage before or after choices, and skips a usage nested inside them", () => {
    const before = usageFromJson(ApiFormat.OpenAI, "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4},\"model\":\"m\",\"choices\":[{\"usage\":{\"prompt_tokens\":99}}]}");
    expect(before.reported).toBe(true);
    expect(before.promptTokens).toBe(3);
    expect(before.completionTokens).toBe(4);
    expect(before.model).toBe("m");
    const nestedOnly = usageFromJson(ApiFormat.OpenAI, "{\"model\":\"m\",\"choices\":[{\"message\":{\"usage\":{\"prompt_tokens\":99},\"model\":\"inner\"}}]}");
    expect(nestedOnly.reported).toBe(false);
    expect(nestedOnly.model).toBe("m");
    const inString = usageFromJson(ApiFormat.OpenAI, "{\"choices\":[{\"message\":{\"content\":\"\\\"usage\\\":{\\\"prompt_tokens\\\":5}\"}}]}");
    expect(inString.reported).toBe(false);
  });
  it("takes the last of a repeated model or usage member", () => {
    const u = usageFromJson(ApiFormat.OpenAI, "{\"model\":\"a\",\"usage\":{\"prompt_tokens\":1,\"prompt_tokens\":2},\"model\":\"b\",\"usage\":{\"prompt_tokens\":7,\"prompt_tokens\":8,\"completion_tokens\":1}}");
    expect(u.model).toBe("b");
    expect(u.promptTokens).toBe(8);
    expect(u.completionTokens).toBe(1);
  });
  it("decodes an escaped model name", () => {
    const u = usageFromJson(ApiFormat.OpenAI, "{\"model\":\"gpt\\u002d4o \\\"x\\\" \\u00e9\",\"usage\":{\"prompt_tokens\":1}}");
    expect(u.model).toBe("gpt-4o \"x\" \u00e9");
  });
  it("reads bodies with whitespace anywhere between tokens", () => {
    const u = usageFromJson(ApiFormat.Anthropic, " \n{ \"model\" :\t\"claude\" ,\r\n \"usage\"\n:\n{ \"input_tokens\" : 5 , \"output_tokens\" : 6 } }\n");
    expect(u.model).toBe("claude");
    expect(u.promptTokens).toBe(5);
    expect(u.completionTokens).toBe(6);
  });
  it("reports nothing for a truncated body, a top-level array, or a usage that is not an object", () => {
    expect(usageFromJson(ApiFormat.OpenAI, "{\"model\":\"m\",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}").reported).toBe(false);
    expect(usageFromJson(ApiFormat.OpenAI, "{\"usage\":{\"prompt_tokens\":3}}trailing").reported).toBe(false);
    expect(usageFromJson(ApiFormat.OpenAI, "[{\"usage\":{\"prompt_tokens\":3}}]").reported).toBe(false);
    expect(usageFromJson(ApiFormat.OpenAI, "{\"usage\":null}").reported).toBe(false);
    expect(usageFromJson(ApiFormat.OpenAI, "{\"usage\":[1]}").reported).toBe(false);
    expect(usageFromJson(ApiFormat.OpenAI, "").reported).toBe(false);
  });
  it("keeps the tree parser's number rules inside usage (12.0 is 12, negative is 0)", () => {
    const u = usageFromJson(ApiFormat.OpenAI, "{\"usage\":{\"prompt_tokens\":12.0,\"completion_tokens\":-3}}");
    expect(u.promptTokens).toBe(12);
    expect(u.completionTokens).toBe(0);
  });
});

describe("foldStreamEvent", () => {
  it("counts the text of legacy /completions stream chunks (choices[].text) for the estimate", () => {
    const u = new Usage();
    foldStreamEvent(ApiFormat.OpenAI, "{\"object\":\"text_completion\",\"model\":\"gpt-3.5-turbo-instruct\",\"choices\":[{\"text\":\"Hello\",\"index\":0}]}", u);
    foldStreamEvent(ApiFormat.OpenAI, "{\"choices\":[{\"text\":\" wörld\",\"index\":0},{\"index\":1,\"text\":\"!\"}]}", u);
    expect(u.streamedTextBytes).toBe(5 + 7 + 1);
    expect(u.model).toBe("gpt-3.5-turbo-instruct");
    // A chat chunk with both a delta and a text member counts the delta's content only.
    const c = new Usage();
    foldStreamEvent(ApiFormat.OpenAI, "{\"choices\":[{\"delta\":{\"content\":\"abc\"},\"text\":\"zzzzzz\"}]}", c);
    expect(c.streamedTextBytes).toBe(3);
  });
  it("takes OpenAI usage from the final chunk", () => {
    const u = new Usage();
    foldStreamEvent(ApiFormat.OpenAI, "{\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}", u);
    foldStreamEvent(ApiFormat.OpenAI, "{\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}", u);
    foldStreamEvent(ApiFormat.OpenAI, "[DONE]", u);
    expect(u.reported).toBe(true);
    expect(u.model).toBe("gpt-4o");
    expect(u.promptTokens).toBe(9);
    expect(u.completionTokens).toBe(2);
  });
  it("estimates OpenAI completion tokens from the text when no usage comes", () => {
    const u = new Usage();
    foldStreamEvent(ApiFormat.OpenAI, "{\"choices\":[{\"delta\":{\"content\":\"abcdefgh\"}}]}", u);
    foldStreamEvent(ApiFormat.OpenAI, "{\"choices\":[{\"delta\":{\"content\":\"ij\"}}]}", u);
    expect(u.reported).toBe(false);
    expect(u.estimated).toBe(true);
    expect(u.streamedTextBytes).toBe(10);
    expect(u.estimatedCompletionTokens()).toBe(3);
  });
  it("combines Anthropic message_start input and message_delta output", () => {
    const u = new Usage();
    foldStreamEvent(ApiFormat.Anthropic, "{\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}", u);
    foldStreamEvent(ApiFormat.Anthropic, "{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi there\"}}", u);
    foldStreamEvent(ApiFormat.Anthropic, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}", u);
    expect(u.model).toBe("claude-x");
    expect(u.promptTokens).toBe(25);
    expect(u.completionTokens).toBe(15);
    expect(u.streamedTextBytes).toBe(8);
  });
  it("counts escaped and multi-byte delta text by its UTF-8 bytes, over every choice", () => {
    const u = new Usage();
    foldStreamEvent(ApiFormat.OpenAI, "{\"choices\":[{\"delta\":{\"content\":\"a\\nb\"}},{\"delta\":{\"content\":\"\u00e9\\u00e9\"}},{\"delta\":{}},7]}", u);
    expect(u.streamedTextBytes).toBe(3 + 4);
    foldStreamEvent(ApiFormat.Anthropic, "{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"\\\"q\\\"\"}}", u);
    expect(u.streamedTextBytes).toBe(7 + 3);
  });
  it("ignores malformed events, events of other types and a null usage", () => {
    const u = new Usage();
    foldStreamEvent(ApiFormat.OpenAI, "{\"choices\":[{\"delta\":{\"content\":\"abcd\"}}]", u);
    foldStreamEvent(ApiFormat.OpenAI, "{\"model\":\"gpt\",\"choices\":[{\"delta\":{\"content\":\"ab\"}}],\"usage\":null}", u);
    foldStreamEvent(ApiFormat.Anthropic, "{\"type\":\"ping\",\"usage\":{\"input_tokens\":5}}", u);
    expect(u.reported).toBe(false);
    expect(u.streamedTextBytes).toBe(2);
    expect(u.model).toBe("gpt");
  });
  it("keeps the first model of an OpenAI stream, the message's model of an Anthropic one", () => {
    const u = new Usage();
    foldStreamEvent(ApiFormat.OpenAI, "{\"model\":\"first\",\"choices\":[]}", u);
    foldStreamEvent(ApiFormat.OpenAI, "{\"model\":\"second\",\"choices\":[]}", u);
    expect(u.model).toBe("first");
    const a = new Usage();
    foldStreamEvent(ApiFormat.Anthropic, "{\"type\":\"message_start\",\"message\":{\"content\":[{\"model\":\"inner\"}],\"model\":\"claude-y\",\"usage\":{\"input_tokens\":2}}}", a);
    expect(a.model).toBe("claude-y");
    expect(a.promptTokens).toBe(2);
  });
});
