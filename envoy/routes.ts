// The public route table: /health, one prefix route per provider, and a JSON 404 for the rest.
// Inline in the listener for now; moving it to RDS later would let route edits skip the listener drain.

import type { BaseUrl } from "../config/base-url.ts";
import type { LeashConfig, ProviderConfig } from "../config/types.ts";
import { baseUrlOf } from "./clusters.ts";
import { providerClusterName, PUBLIC_ROUTES } from "./names.ts";
import { duration, typeUrl, type ProtoObject } from "./proto.ts";

/** Body of GET /health; answered by Envoy itself, so it says the proxy is up, not the sidecar. */
export const HEALTH_BODY: string = JSON.stringify({ status: "ok" });

/**
 * Stream idle timeout of a route with no overall timeout (timeout_ms 0). SSE streams from the
 * providers send events or pings well within this; a stream silent for this long is dead.
 */
export const STREAM_IDLE_TIMEOUT_MS: number = 300_000;

/** OpenAI-style error body of the catch-all route. */
export function noRouteBody(cfg: LeashConfig): string {
  const prefixes: string = cfg.providers.map((p: ProviderConfig): string => p.prefix).join(", ");
  return JSON.stringify({
    error: {
      message: `No route for this path. Known prefixes: ${prefixes}`,
      type: "invalid_request_error",
      param: null,
      code: "gateway.no_route",
    },
  });
}

/**
 * `filters` are the names of the wasm filters in the chain: the gateway's own answers (/health, 404) skip them
 * so health checks never depend on the sidecar and unknown paths never cost a sidecar call.
 *
 * validate_clusters is off because on a reload Envoy may read the new lds.yaml before the new
 * cds.yaml (one directory event wakes both subscriptions, in no set order). With validation on,
 * a route to a just-added provider is rejected as "unknown cluster" and, since no later event
 * comes, the old listener stays for good. Off, the route table loads at once and requests to
 * the new route get 503 (no cluster) for the milliseconds until CDS catches up. That every route
 * names a generated cluster is checked by the unit tests instead.
 */
export function buildRouteConfig(cfg: LeashConfig, filters: readonly string[]): ProtoObject {
  return {
    name: PUBLIC_ROUTES,
    validate_clusters: false,
    virtual_hosts: [
      {
        name: "leash",
        domains: ["*"],
        routes: [
          {
            name: "health",
            match: { path: "/health" },
            direct_response: { status: 200, body: { inline_string: HEALTH_BODY } },
            ...jsonContentType(),
            ...skipFilters(filters),
          },
          ...cfg.providers.map(providerRoute),
          {
            name: "no_route",
            match: { prefix: "/" },
            direct_response: { status: 404, body: { inline_string: noRouteBody(cfg) } },
            ...jsonContentType(),
            ...skipFilters(filters),
          },
        ],
      },
    ],
  };
}

/**
 * `<prefix>/rest` → `<base path>/rest` on the provider's cluster. The match includes the trailing
 * "/" so "/openai" never captures "/openaix". Envoy's default 15 s route timeout would cut long
 * completions, so the provider's timeout_ms always applies, 0 meaning none (for SSE streams).
 * The idle timeout never undercuts the overall timeout: a non-streaming completion is silent
 * until it is done.
 */
function providerRoute(provider: ProviderConfig): ProtoObject {
  const url: BaseUrl = baseUrlOf(provider);
  const cluster: string = providerClusterName(provider.name);
  return {
    name: cluster,
    match: { prefix: `${provider.prefix}/` },
    route: {
      cluster,
      prefix_rewrite: `${url.path}/`,
      host_rewrite_literal: url.authority,
      timeout: duration(provider.timeout_ms),
      idle_timeout: duration(provider.timeout_ms > 0 ? provider.timeout_ms : STREAM_IDLE_TIMEOUT_MS),
    },
  };
}

/** Envoy labels direct responses text/plain; our bodies are JSON. */
function jsonContentType(): ProtoObject {
  return {
    response_headers_to_add: [
      {
        header: { key: "content-type", value: "application/json" },
        append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
      },
    ],
  };
}

function skipFilters(filters: readonly string[]): ProtoObject {
  if (filters.length === 0) return {};
  const perFilter: ProtoObject = {};
  for (const name of filters) {
    perFilter[name] = {
      "@type": typeUrl("envoy.config.route.v3.FilterConfig"),
      disabled: true,
    };
  }
  return { typed_per_filter_config: perFilter };
}
