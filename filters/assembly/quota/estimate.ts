// What the quota module reserves before the provider has said anything: an estimate of the prompt
// and the output cap the request names. Both are settled with the provider's real counts when the
// response ends (the usage report), so the estimate only has to be cheap and rarely low.
import { topLevelValues, stringAt, uintAt } from "../sdk/json-field";

/**
 * Prompt tokens estimated from the request body's size: one token per 4 bytes, rounded up. BPE
 * tokenizers average about 4 bytes of English text per token; the body's JSON syntax (keys,
 * quotes, roles) is counted too, which errs high for small requests, and scripts that take more
 * bytes per token (CJK) err high as well. Tokenizing in the filter would cost far more than the
 * hot-path budget, and the reservation is corrected by the real count anyway.
 */
export function estimatePromptTokens(bodyBytes: u64): u64 {
  return (bodyBytes + 3) / 4;
}

/** "model", then the output caps by API: Chat Completions (old and new name), Responses, Anthropic Messages. */
const FIELDS: Array<string> = ["model", "max_tokens", "max_completion_tokens", "max_output_tokens"];

/** What the reservation needs from the request body. */
export class RequestFacts {
  /** The body's "model" ("" if none), for pricing a USD budget's estimate. */
  model: string = "";
  /**
   * The output cap the body names (the first of max_tokens, max_completion_tokens,
   * max_output_tokens that is a non-negative integer), or 0 when none is given: the sidecar then
   * reserves modules.quota.default_output_tokens.
   */
  maxOutputTokens: u64 = 0;
}

/** Reads the model and the output cap in one pass over a body checkJson() accepted. */
export function requestFacts(base: usize, len: i32): RequestFacts {
  const at = topLevelValues(base, len, FIELDS);
  const out = new RequestFacts();
  const model = stringAt(base, len, at[0]);
  if (model != null) out.model = model.length > 200 ? model.substring(0, 200) : model;
  for (let i = 1; i < FIELDS.length; i++) {
    const v = uintAt(base, len, at[i]);
    if (v >= 0) {
      out.maxOutputTokens = <u64>v;
      break;
    }
  }
  return out;
}
