// The OpenAI dialect: chat completions (JSON and stream), legacy completions, the model list and
// the error format, in the shapes api.openai.com sends, so the gateway parses what it will meet.

import { ApiError, jsonOutcome, sseOutcome, type ApiRequest, type Dialect, type Outcome } from "./outcome.ts";
import { contentText, countCodePoints, isRecord, planReply, positiveInteger, streamPieces, type Reply } from "./reply.ts";
import { dataEvent, DONE_EVENT } from "./sse.ts";

export const openAiDialect: Dialect = {
  name: "openai",
  requestIdHeader: "x-request-id",
  errorBody(status: number, message: string): string {
    const [type, code] = errorKind(status);
    return JSON.stringify({ error: { message, type, param: null, code } });
  },
};

/** [type, code] as OpenAI sends them for a status. */
function errorKind(status: number): [string, string | null] {
  if (status === 401) return ["invalid_request_error", "invalid_api_key"];
  if (status === 429) return ["requests", "rate_limit_exceeded"];
  if (status >= 500) return ["server_error", null];
  return ["invalid_request_error", null];
}

const SYSTEM_FINGERPRINT: string = "fp_mock";

interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function chatCompletions(req: ApiRequest): Outcome {
  const model: string = requireModel(req.body);
  const messages: unknown = req.body.messages;
  if (!Array.isArray(messages)) throw new ApiError(400, "'messages' is a required property and must be an array");

  let promptCodePoints: number = 0;
  let lastUserText: string = "";
  for (const message of messages) {
    if (!isRecord(message)) continue;
    const text: string = contentText(message.content);
    promptCodePoints += countCodePoints(text);
    if (message.role === "user") lastUserText = text;
  }
  const reply: Reply = planReply({
    promptCodePoints,
    lastUserText,
    override: req.controls.reply,
    maxTokens: positiveInteger(req.body.max_completion_tokens) ?? positiveInteger(req.body.max_tokens),
  });
  const id: string = `chatcmpl-${req.requestId}`;
  const finishReason: string = reply.truncated ? "length" : "stop";

  if (req.body.stream !== true) {
    return jsonOutcome(
      200,
      JSON.stringify({
        id,
        object: "chat.completion",
        created: req.created,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: reply.text, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage: usageOf(reply),
        service_tier: "default",
        system_fingerprint: SYSTEM_FINGERPRINT,
      }),
    );
  }

  const includeUsage: boolean = isRecord(req.body.stream_options) && req.body.stream_options.include_usage === true;
  // With include_usage OpenAI puts "usage": null on every chunk and the totals on an extra last one.
  const usageField: { usage?: null } = includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
    dataEvent({
      id,
      object: "chat.completion.chunk",
      created: req.created,
      model,
      service_tier: "default",
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageField,
    });

  const events: string[] = [chunk({ role: "assistant", content: "", refusal: null }, null)];
  for (const piece of streamPieces(reply.text, req.controls.chunkSize, req.controls.splitAt)) events.push(chunk({ content: piece }, null));
  events.push(chunk({}, finishReason));
  if (includeUsage) {
    events.push(
      dataEvent({
        id,
        object: "chat.completion.chunk",
        created: req.created,
        model,
        service_tier: "default",
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [],
        usage: usageOf(reply),
      }),
    );
  }
  events.push(DONE_EVENT);
  return sseOutcome(events);
}

/** The legacy /v1/completions: `prompt` is a string or an array of strings; the last one is quoted. */
export function legacyCompletions(req: ApiRequest): Outcome {
  const model: string = requireModel(req.body);
  const prompts: string[] = promptStrings(req.body.prompt);
  let promptCodePoints: number = 0;
  for (const prompt of prompts) promptCodePoints += countCodePoints(prompt);
  const reply: Reply = planReply({
    promptCodePoints,
    lastUserText: prompts.at(-1) ?? "",
    override: req.controls.reply,
    maxTokens: positiveInteger(req.body.max_tokens),
  });
  const id: string = `cmpl-${req.requestId}`;
  const finishReason: string = reply.truncated ? "length" : "stop";
  const completion = (text: string, finish: string | null): Record<string, unknown> => ({
    id,
    object: "text_completion",
    created: req.created,
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
  });

  if (req.body.stream !== true) {
    return jsonOutcome(200, JSON.stringify({ ...completion(reply.text, finishReason), usage: usageOf(reply) }));
  }
  const events: string[] = streamPieces(reply.text, req.controls.chunkSize, req.controls.splitAt).map((piece: string) =>
    dataEvent(completion(piece, null)),
  );
  events.push(dataEvent(completion("", finishReason)));
  events.push(DONE_EVENT);
  return sseOutcome(events);
}

export const OPENAI_MODELS: readonly string[] = ["mock-gpt", "gpt-4o-mini"];

// Fixed content, so built once rather than per request.
const MODEL_LIST_BODY: string = JSON.stringify({
  object: "list",
  data: OPENAI_MODELS.map((id: string) => ({ id, object: "model", created: 1_700_000_000, owned_by: "mock-provider" })),
});

export function listModels(): Outcome {
  return jsonOutcome(200, MODEL_LIST_BODY);
}

function requireModel(body: Record<string, unknown>): string {
  if (typeof body.model !== "string" || body.model === "") {
    throw new ApiError(400, "you must provide a model parameter");
  }
  return body.model;
}

function promptStrings(prompt: unknown): string[] {
  if (typeof prompt === "string") return [prompt];
  if (Array.isArray(prompt)) return prompt.filter((p: unknown): p is string => typeof p === "string");
  return [];
}

function usageOf(reply: Reply): OpenAiUsage {
  return {
    prompt_tokens: reply.promptTokens,
    completion_tokens: reply.completionTokens,
    total_tokens: reply.promptTokens + reply.completionTokens,
  };
}
