// The Anthropic dialect: /v1/messages (JSON and the real named-event stream), count_tokens, the
// model list and the error format, in the shapes api.anthropic.com sends.

import { ApiError, jsonOutcome, sseOutcome, type ApiRequest, type Dialect, type Outcome } from "./outcome.ts";
import { contentText, countCodePoints, isRecord, planReply, positiveInteger, promptTokensFor, streamPieces, type Reply } from "./reply.ts";
import { namedEvent } from "./sse.ts";

export const anthropicDialect: Dialect = {
  name: "anthropic",
  requestIdHeader: "request-id",
  errorBody(status: number, message: string, requestId: string): string {
    return JSON.stringify({ type: "error", error: { type: errorType(status), message }, request_id: requestId });
  },
};

function errorType(status: number): string {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

interface Prompt {
  model: string;
  promptCodePoints: number;
  lastUserText: string;
}

/** Validates the fields the mock relies on; system text counts towards the prompt like messages. */
function readPrompt(body: Record<string, unknown>): Prompt {
  if (typeof body.model !== "string" || body.model === "") throw new ApiError(400, "model: Field required");
  if (!Array.isArray(body.messages)) throw new ApiError(400, "messages: Field required");
  let promptCodePoints: number = countCodePoints(contentText(body.system));
  let lastUserText: string = "";
  for (const message of body.messages) {
    if (!isRecord(message)) continue;
    const text: string = contentText(message.content);
    promptCodePoints += countCodePoints(text);
    if (message.role === "user") lastUserText = text;
  }
  return { model: body.model, promptCodePoints, lastUserText };
}

export function messages(req: ApiRequest): Outcome {
  const prompt: Prompt = readPrompt(req.body);
  const reply: Reply = planReply({
    promptCodePoints: prompt.promptCodePoints,
    lastUserText: prompt.lastUserText,
    override: req.controls.reply,
    maxTokens: positiveInteger(req.body.max_tokens),
  });
  const id: string = `msg_${req.requestId}`;
  const stopReason: string = reply.truncated ? "max_tokens" : "end_turn";

  if (req.body.stream !== true) {
    return jsonOutcome(
      200,
      JSON.stringify({
        id,
        type: "message",
        role: "assistant",
        model: prompt.model,
        content: [{ type: "text", text: reply.text }],
        stop_reason: stopReason,
        stop_sequence: null,
        usage: {
          input_tokens: reply.promptTokens,
          output_tokens: reply.completionTokens,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      }),
    );
  }

  const events: string[] = [
    namedEvent("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model: prompt.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // Anthropic reports a provisional output_tokens of 1 here; the final count comes in
        // message_delta and replaces it, which is what a usage meter must get right.
        usage: { input_tokens: reply.promptTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    }),
    namedEvent("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    namedEvent("ping", { type: "ping" }),
  ];
  for (const piece of streamPieces(reply.text, req.controls.chunkSize, req.controls.splitAt)) {
    events.push(
      namedEvent("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } }),
    );
  }
  events.push(
    namedEvent("content_block_stop", { type: "content_block_stop", index: 0 }),
    namedEvent("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: reply.completionTokens },
    }),
    namedEvent("message_stop", { type: "message_stop" }),
  );
  return sseOutcome(events);
}

export function countTokens(req: ApiRequest): Outcome {
  const prompt: Prompt = readPrompt(req.body);
  return jsonOutcome(200, JSON.stringify({ input_tokens: promptTokensFor(prompt.promptCodePoints) }));
}

export const ANTHROPIC_MODELS: readonly string[] = ["mock-claude", "claude-sonnet-4-5"];

// Fixed content, so built once rather than per request.
const MODEL_LIST_BODY: string = JSON.stringify({
  data: ANTHROPIC_MODELS.map((id: string) => ({
    type: "model",
    id,
    display_name: id,
    created_at: "2025-01-01T00:00:00Z",
  })),
  has_more: false,
  first_id: ANTHROPIC_MODELS[0],
  last_id: ANTHROPIC_MODELS[ANTHROPIC_MODELS.length - 1],
});

export function listModels(): Outcome {
  return jsonOutcome(200, MODEL_LIST_BODY);
}
