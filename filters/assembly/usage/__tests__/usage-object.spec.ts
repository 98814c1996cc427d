// The usage object read from the bytes (usageFromObjectBytes) must give what the tree parser's
// reading gave (usageFromParsedObject), or decline and leave the usage untouched.
import { Usage, usageFromObjectBytes, usageFromParsedObject } from "../extract";
import { ApiFormat } from "../../sdk/api-error";

function show(u: Usage): string {
  return u.promptTokens.toString() + "|" + u.completionTokens.toString() + "|" + u.cachedTokens.toString() + "|" + (u.reported ? "r" : "-");
}

/** Both readers on `json` (a usage object), from a usage that already has counts; returns whether the fast one read it. */
function agree(api: ApiFormat, json: string): bool {
  const b = String.UTF8.encode(json);
  const base = changetype<usize>(b);
  const fast = new Usage();
  fast.promptTokens = 5; fast.completionTokens = 6; fast.cachedTokens = 7;
  const slow = new Usage();
  slow.promptTokens = 5; slow.completionTokens = 6; slow.cachedTokens = 7;
  const before = show(fast);
  const read = usageFromObjectBytes(api, base, 0, b.byteLength, fast);
  usageFromParsedObject(api, base, 0, b.byteLength, slow);
  if (read) expect(show(fast)).toBe(show(slow));
  else expect(show(fast)).toBe(before);
  return read;
}

const SHAPES: Array<string> = [
  "{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":4}}",
  "{ \"prompt_tokens\" : 0 , \"completion_tokens\":\n1 }",
  "{\"prompt_tokens\":1,\"prompt_tokens\":9,\"completion_tokens\":2,\"completion_tokens\":null}",
  "{\"prompt_tokens\":\"12\",\"completion_tokens\":true,\"prompt_tokens_details\":[1]}",
  "{\"prompt_tokens\":-3,\"completion_tokens\":-0,\"prompt_tokens_details\":{\"cached_tokens\":-1}}",
  "{\"prompt_tokens_details\":{\"cached_tokens\":3,\"cached_tokens\":8},\"x\":{\"prompt_tokens\":99}}",
  "{\"prompt_tokens\":999999999999999,\"completion_tokens\":1000000000000000}",
  "{\"prompt_tokens\":12.0,\"completion_tokens\":1e2}",
  "{\"prompt_tokens\":12.5,\"completion_tokens\":2E1}",
  "{\"prompt_tokens\":9007199254740993,\"completion_tokens\":3}",
  "{\"pro\\u006dpt_tokens\":4,\"completion_tokens\":3}",
  "{\"note\":\"é\",\"prompt_tokens\":4}",
  "{\"note\":\"{[\\\"]}\",\"prompt_tokens\":4}",
  "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]],\"prompt_tokens\":4}",
  "{}",
  "{\"input_tokens\":10,\"cache_read_input_tokens\":90,\"cache_creation_input_tokens\":3,\"output_tokens\":7}",
  "{\"output_tokens\":12}",
  "{\"input_tokens\":null,\"cache_read_input_tokens\":\"x\",\"output_tokens\":{}}",
  "{\"input_tokens\":1,\"input_tokens\":2,\"output_tokens\":1.5}",
];

describe("usageFromObjectBytes", () => {
  it("agrees with the tree parser on every shape, for both APIs, or leaves it the tree parser", () => {
    for (let i = 0; i < SHAPES.length; i++) {
      agree(ApiFormat.OpenAI, SHAPES[i]);
      agree(ApiFormat.Anthropic, SHAPES[i]);
    }
  });
  it("reads the usual shapes itself", () => {
    expect(agree(ApiFormat.OpenAI, SHAPES[0])).toBe(true);
    expect(agree(ApiFormat.OpenAI, SHAPES[2])).toBe(true);
    expect(agree(ApiFormat.Anthropic, SHAPES[15])).toBe(true);
    expect(agree(ApiFormat.OpenAI, SHAPES[7])).toBe(false);
    expect(agree(ApiFormat.OpenAI, SHAPES[10])).toBe(false);
  });
});
