// Errors that Envoy itself produces on a provider route (upstream unreachable, upstream timeout,
// request body over the buffer limit, headers too large, malformed HTTP) would otherwise reach the client as text/plain. These
// mappers rewrite them into the route's API error format, with a stable code in the body and in
// `x-leash-code`, like every denial of the wasm modules. Replies the modules send themselves carry
// no response flag and are never 413, so the mappers leave them alone.
import type { LeashConfig, ProviderApi } from "../config/types.ts";
import type { ProtoObject } from "./proto.ts";

interface LocalReplyCase {
  code: string;
  /** Matches the reply: a status and/or Envoy response flags (Envoy-made failures only). */
  filter: ProtoObject;
  errorType: Record<ProviderApi, string>;
}

const UPSTREAM_UNAVAILABLE_FLAGS: readonly string[] = ["UF", "UH", "UO", "URX", "UC", "UR", "DF", "LH"];

const CASES: readonly LocalReplyCase[] = [
  {
    code: "gateway.upstream_unavailable",
    filter: { response_flag_filter: { flags: [...UPSTREAM_UNAVAILABLE_FLAGS] } },
    errorType: { openai: "service_unavailable", anthropic: "overloaded_error" },
  },
  {
    code: "gateway.upstream_timeout",
    filter: { response_flag_filter: { flags: ["UT"] } },
    errorType: { openai: "timeout", anthropic: "api_error" },
  },
  {
    code: "gateway.headers_too_large",
    filter: { status_code_filter: { comparison: { op: "EQ", value: { default_value: 431, runtime_key: "leash.local_reply.431" } } } },
    errorType: { openai: "invalid_request_error", anthropic: "invalid_request_error" },
  },
  {
    code: "gateway.bad_request",
    // Downstream protocol error: bytes HTTP forbids (NUL or a bare LF in a header, …).
    filter: { response_flag_filter: { flags: ["DPE"] } },
    errorType: { openai: "invalid_request_error", anthropic: "invalid_request_error" },
  },
  {
    code: "gateway.body_too_large",
    filter: { status_code_filter: { comparison: { op: "EQ", value: { default_value: 413, runtime_key: "leash.local_reply.413" } } } },
    errorType: { openai: "invalid_request_error", anthropic: "request_too_large" },
  },
];

function errorBody(api: ProviderApi, type: string, code: string): ProtoObject {
  // %LOCAL_REPLY_BODY% is Envoy's own one-line description (e.g. "upstream request timeout").
  if (api === "anthropic") {
    return { type: "error", error: { type, message: "%LOCAL_REPLY_BODY%", code } };
  }
  return { error: { message: "%LOCAL_REPLY_BODY%", type, param: null, code } };
}

/**
 * A filter matching requests on any of the prefixes of providers speaking `api`. Once the router
 * rewrote the prefix, the client's path is in x-envoy-original-path; before that, in :path.
 */
function routesOf(cfg: LeashConfig, api: ProviderApi): ProtoObject | null {
  const filters: ProtoObject[] = cfg.providers
    .filter((p) => p.api === api)
    .flatMap((p) => [":path", "x-envoy-original-path"].map((name) => ({
      header_filter: { header: { name, string_match: { prefix: `${p.prefix}/` } } },
    })));
  if (filters.length === 0) return null;
  return filters.length === 1 ? filters[0] : { or_filter: { filters } };
}

export function localReplyConfig(cfg: LeashConfig): ProtoObject | null {
  const mappers: ProtoObject[] = [];
  for (const api of ["openai", "anthropic"] as const) {
    const routes = routesOf(cfg, api);
    if (routes === null) continue;
    for (const c of CASES) {
      mappers.push({
        filter: { and_filter: { filters: [routes, c.filter] } },
        headers_to_add: [{ header: { key: "x-leash-code", value: c.code }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
        body_format_override: {
          json_format: errorBody(api, c.errorType[api], c.code),
          content_type: "application/json",
        },
      });
    }
  }
  return mappers.length === 0 ? null : { mappers };
}
