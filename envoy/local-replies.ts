// Errors that Envoy itself produces on a provider route (upstream unreachable, upstream timeout,
// request body over the buffer limit, headers too large) would otherwise reach the client as text/plain. These
// mappers rewrite them into the route's API error format, with a stable code in the body and in
// `x-leash-code`, like every denial of the wasm modules. Replies the modules send themselves carry
// no response flag and are never 413 or 431, so the mappers leave them alone. Bytes HTTP forbids
// (NUL, a bare LF in a header) are refused by Envoy's HTTP/1 parser before a request exists: no
// mapper sees them, and the client gets Envoy's plain "400 Bad Request".
import type { LeashConfig, ProviderApi } from "../config/types.ts";
import type { ProtoObject } from "./proto.ts";

interface LocalReplyCase {
  code: string;
  /**
   * Also answer in OpenAI's format when the path is unknown: errors in the HTTP parser happen
   * before the request line and headers are complete, so no route filter can match them.
   */
  anyPath?: boolean;
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
    anyPath: true,
    filter: { status_code_filter: { comparison: { op: "EQ", value: { default_value: 431, runtime_key: "leash.local_reply.431" } } } },
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

function mapper(filter: ProtoObject, api: ProviderApi, c: LocalReplyCase): ProtoObject {
  return {
    filter,
    headers_to_add: [{ header: { key: "x-leash-code", value: c.code }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
    body_format_override: {
      json_format: errorBody(api, c.errorType[api], c.code),
      content_type: "application/json",
    },
  };
}

export function localReplyConfig(cfg: LeashConfig): ProtoObject | null {
  const mappers: ProtoObject[] = [];
  for (const api of ["openai", "anthropic"] as const) {
    const routes = routesOf(cfg, api);
    if (routes === null) continue;
    for (const c of CASES) mappers.push(mapper({ and_filter: { filters: [routes, c.filter] } }, api, c));
  }
  // Mappers are tried in order: route-specific ones first, then the path-less fallbacks.
  for (const c of CASES.filter((x) => x.anyPath)) mappers.push(mapper(c.filter, "openai", c));
  return mappers.length === 0 ? null : { mappers };
}
