// Token usage from provider responses, for metering (#5) and quotas (#4): OpenAI's `usage` object
// (non-streamed, and the last chunk of a stream with stream_options.include_usage), Anthropic's
// `usage` (non-streamed; `message_start` and `message_delta` events when streamed). When a stream
// carries no usage, completion tokens are estimated from the streamed text (≈ 4 bytes a token) and
// the record says so.
import { parseJson, JsonValue, JsonKind } from "../sdk/json";
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

/** Usage of a complete (non-streamed) JSON response body; `reported` stays false if it has none. */
export function usageFromJson(api: ApiFormat, body: string): Usage {
  const u = new Usage();
  const parsed = parseJson(body);
  if (parsed.value == null || !parsed.value!.isObject()) return u;
  const root = parsed.value!;
  const model = root.get("model");
  if (model != null && model.isString()) u.model = model.s;
  const usage = root.get("usage");
  if (usage != null) readUsageObject(api, usage, u);
  return u;
}

/** Folds one SSE event's data into `u` (events of a streamed completion, in order). */
export function foldStreamEvent(api: ApiFormat, data: string, u: Usage): void {
  if (data == "[DONE]") return;
  // Every event is parsed: they are small, and deltas carry the text the estimate counts.
  const parsed = parseJson(data);
  if (parsed.value == null || !parsed.value!.isObject()) return;
  const ev = parsed.value!;
  if (api == ApiFormat.Anthropic) {
    const type = ev.get("type");
    const t = type != null && type.isString() ? type.s : "";
    if (t == "message_start") {
      const msg = ev.get("message");
      const model = path(msg, "model");
      if (model != null && model.isString()) u.model = model.s;
      const usage = path(msg, "usage");
      if (usage != null) readUsageObject(api, usage, u);
    } else if (t == "message_delta") {
      const usage = ev.get("usage");
      if (usage != null) readUsageObject(api, usage, u);
    } else if (t == "content_block_delta") {
      const text = path(ev, "delta", "text");
      if (text != null && text.isString()) u.streamedTextBytes += <u64>String.UTF8.byteLength(text.s);
    }
    return;
  }
  const model = ev.get("model");
  if (model != null && model.isString() && u.model.length == 0) u.model = model.s;
  const choices = ev.get("choices");
  if (choices != null && choices.isArray()) {
    for (let i = 0; i < choices.items.length; i++) {
      const content = path(choices.items[i], "delta", "content");
      if (content != null && content.isString()) u.streamedTextBytes += <u64>String.UTF8.byteLength(content.s);
    }
  }
  const usage = ev.get("usage");
  if (usage != null && usage.isObject()) readUsageObject(api, usage, u);
}
