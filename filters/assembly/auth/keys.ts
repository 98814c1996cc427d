// Finding the tenant's API key in a request. Official SDKs send it in different headers
// (OpenAI: Authorization Bearer; Anthropic: x-api-key; Azure: api-key; Google: x-goog-api-key),
// and apps only change their base URL, so we accept all of them.

/** Headers that may carry the tenant key; all are removed before the request goes upstream. */
export const KEY_HEADERS: Array<string> = ["authorization", "x-api-key", "api-key", "x-goog-api-key"];

/** The token of an `Authorization: Bearer <token>` value ("" if it is not a bearer credential). */
export function bearerToken(value: string): string {
  if (value.length < 7) return "";
  const scheme = value.substring(0, 7).toLowerCase();
  if (scheme != "bearer ") return "";
  return value.substring(7).trim();
}

/**
 * The key from the first header that carries one, in KEY_HEADERS order. `values` holds each
 * header's value in that order (null when absent).
 */
export function pickKey(values: Array<string | null>): string {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null) continue;
    const key = keyIn(i, v);
    if (key.length > 0) return key;
  }
  return "";
}

/** The key that header KEY_HEADERS[i] with `value` carries ("" for none): a bearer token for Authorization. */
export function keyIn(i: i32, value: string): string {
  return i == 0 ? bearerToken(value) : value.trim();
}
