// Denials in the caller's own API error format. Every filter answers through denyRequest(), so a
// client SDK always gets an error it can parse, with our stable decision code in it.
//
// OpenAI:    {"error":{"message":..,"type":..,"param":null,"code":"<filter>.<reason>"}}
// Anthropic: {"type":"error","error":{"type":..,"message":..,"code":"<filter>.<reason>"}}
// Both also carry the code in the `x-leash-code` response header.
import { jsonString } from "./json";
import { sendLocalResponse } from "./host";

export enum ApiFormat { OpenAI = 0, Anthropic = 1 }

export function apiFormatFromName(name: string): ApiFormat {
  return name == "anthropic" ? ApiFormat.Anthropic : ApiFormat.OpenAI;
}

/** The error `type` a client of `api` expects for an HTTP status. */
export function errorType(api: ApiFormat, status: u32): string {
  if (status == 400 || status == 422) return "invalid_request_error";
  if (status == 401) return "authentication_error";
  if (status == 403) return "permission_error";
  if (status == 404) return "not_found_error";
  if (status == 413) return api == ApiFormat.Anthropic ? "request_too_large" : "invalid_request_error";
  if (status == 429) return api == ApiFormat.Anthropic ? "rate_limit_error" : "rate_limit_exceeded";
  if (status == 503 || status == 529) return api == ApiFormat.Anthropic ? "overloaded_error" : "service_unavailable";
  return "api_error";
}

export function errorBody(api: ApiFormat, status: u32, code: string, message: string): string {
  const type = jsonString(errorType(api, status));
  if (api == ApiFormat.Anthropic) {
    return "{\"type\":\"error\",\"error\":{\"type\":" + type + ",\"message\":" + jsonString(message) +
      ",\"code\":" + jsonString(code) + "}}";
  }
  return "{\"error\":{\"message\":" + jsonString(message) + ",\"type\":" + type +
    ",\"param\":null,\"code\":" + jsonString(code) + "}}";
}

/**
 * Answers the current stream with `status` and an error body in `api`'s format. `code` is the
 * stable decision code (`<filter>.<reason>`); `extraHeaders` is flat [name, value, ...].
 */
export function denyRequest(api: ApiFormat, status: u32, code: string, message: string, extraHeaders: Array<string> = new Array<string>(0)): void {
  const headers = new Array<string>(0);
  headers.push("content-type"); headers.push("application/json");
  headers.push("x-leash-code"); headers.push(code);
  for (let i = 0; i < extraHeaders.length; i++) headers.push(extraHeaders[i]);
  // Envoy's response-code details must not contain spaces; the code never does.
  sendLocalResponse(status, code, errorBody(api, status, code, message), headers);
}
