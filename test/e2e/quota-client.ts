// What the quota e2e tests do through the official SDKs: one chat request that may be refused,
// answered as status, decision code and response headers whichever way it went; setting a
// tenant's limits over the admin API; reading the x-ratelimit-* headers.
import assert from "node:assert/strict";
import OpenAI, { APIError as OpenAIError } from "openai";
import Anthropic, { APIError as AnthropicError } from "@anthropic-ai/sdk";
import type { Replica } from "./gateway.ts";

export interface Outcome {
  status: number;
  /** The decision code of a gateway refusal (x-leash-code), "" when allowed or the provider's own error. */
  code: string;
  headers: Headers;
  /** Prompt + completion tokens the provider reported (allowed requests). */
  tokens?: number;
}

/** One non-streamed chat completion on the /mock route; refusals are outcomes, not throws. */
export async function openaiChat(url: string, key: string, body: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, "model"> & { model?: string },
  headers: Record<string, string> = {}): Promise<Outcome> {
  // No retries: a 429 must reach the test, not be retried by the SDK.
  const client = new OpenAI({ baseURL: `${url}/mock/v1`, apiKey: key, maxRetries: 0 });
  try {
    const { data, response } = await client.chat.completions.create({ model: "mock-gpt", ...body }, { headers }).withResponse();
    return { status: response.status, code: "", headers: response.headers, tokens: data.usage!.prompt_tokens + data.usage!.completion_tokens };
  } catch (err) {
    if (!(err instanceof OpenAIError) || err.status === undefined || err.headers === undefined) throw err;
    // A gateway refusal carries its code in the header and the body; a provider's error neither.
    const code = err.headers.get("x-leash-code") ?? "";
    if (code !== "") assert.equal(err.code, code, "the code in OpenAI's error body is the decision code");
    return { status: err.status, code, headers: err.headers };
  }
}

/** One Anthropic message on the /mock-anthropic route; refusals are outcomes, not throws. */
export async function anthropicMessage(url: string, key: string, text: string, maxTokens = 16): Promise<Outcome> {
  const client = new Anthropic({ baseURL: `${url}/mock-anthropic`, apiKey: key, maxRetries: 0 });
  try {
    const { response } = await client.messages.create({
      model: "mock-claude", max_tokens: maxTokens, messages: [{ role: "user", content: text }],
    }).withResponse();
    return { status: response.status, code: "", headers: response.headers };
  } catch (err) {
    if (!(err instanceof AnthropicError) || err.status === undefined || err.headers === undefined) throw err;
    const body = err.error as { type?: string; error?: { type?: string; code?: string } };
    assert.equal(body.type, "error", "Anthropic's error format");
    assert.equal(body.error?.code, err.headers.get("x-leash-code"), "the code in Anthropic's error body is the decision code");
    return { status: err.status, code: body.error?.code ?? "", headers: err.headers };
  }
}

/** Sets limits (and on_store_failure) of a tenant through the admin API of `replica`. */
export async function setTenantLimits(replica: Replica, tenantId: string, limits: Record<string, unknown>): Promise<void> {
  const res = await replica.admin("PATCH", `/tenants/${tenantId}/limits`, limits);
  assert.equal(res.status, 200, JSON.stringify(res.json));
}

export interface RateLimitHeaders {
  limitRequests: number | null;
  remainingRequests: number | null;
  resetRequests: string | null;
  limitTokens: number | null;
  remainingTokens: number | null;
  resetTokens: string | null;
}

export function rateLimits(h: Headers): RateLimitHeaders {
  const num = (name: string): number | null => (h.get(name) === null ? null : Number(h.get(name)));
  return {
    limitRequests: num("x-ratelimit-limit-requests"),
    remainingRequests: num("x-ratelimit-remaining-requests"),
    resetRequests: h.get("x-ratelimit-reset-requests"),
    limitTokens: num("x-ratelimit-limit-tokens"),
    remainingTokens: num("x-ratelimit-remaining-tokens"),
    resetTokens: h.get("x-ratelimit-reset-tokens"),
  };
}

/** OpenAI's reset format ("250ms", "1.5s", "6m0s", "1h2m3s") in milliseconds; throws on anything else. */
export function resetMs(value: string | null): number {
  assert.ok(value !== null, "reset header missing");
  if (/^\d+ms$/.test(value)) return Number(value.slice(0, -2));
  const m = value.match(/^(?:(\d+)h)?(?:(\d+)m)?(\d+(?:\.\d{1,3})?)s$/);
  assert.ok(m, `not OpenAI's duration format: ${value}`);
  return Math.round(((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3])) * 1000);
}
