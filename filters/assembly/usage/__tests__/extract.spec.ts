import { usageFromJson, foldStreamEvent, Usage } from "../extract";
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
  it("reports nothing for bodies without usage or not JSON", () => {
    expect(usageFromJson(ApiFormat.OpenAI, "{\"error\":{}}").reported).toBe(false);
    expect(usageFromJson(ApiFormat.OpenAI, "not json").reported).toBe(false);
  });
});

describe("foldStreamEvent", () => {
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
});
