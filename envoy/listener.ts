// The public listener and its HTTP connection manager: request ids, JSON access log, the wasm
// modules, then the router. Nothing here buffers bodies, so SSE responses stream through as they come.

import type { LeashConfig } from "../config/types.ts";
import { PUBLIC_LISTENER } from "./names.ts";
import { socketAddress, typeUrl, type ProtoObject } from "./proto.ts";
import { localReplyConfig } from "./local-replies.ts";
import { buildRouteConfig } from "./routes.ts";
import { wasmFilterGroups, wasmHttpFilter, type WasmFilterGroup } from "./wasm-filters.ts";
import { hcmTracing, requestIdExtension } from "./tracing.ts";

/**
 * One JSON object per request on stdout. The path is the client's (before prefix rewrite) and
 * without its query string, which some APIs use for credentials.
 */
export const ACCESS_LOG_FORMAT: Readonly<Record<string, string>> = {
  start_time: "%START_TIME%",
  method: "%REQ(:METHOD)%",
  path: "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%",
  status: "%RESPONSE_CODE%",
  response_flags: "%RESPONSE_FLAGS%",
  details: "%RESPONSE_CODE_DETAILS%",
  duration_ms: "%DURATION%",
  request_id: "%REQ(X-REQUEST-ID)%",
  // Set by the auth module once a key is accepted (filter state wasm.leash.*); "-" otherwise.
  tenant_id: "%FILTER_STATE(wasm.leash.tenant_id:PLAIN)%",
  key_id: "%FILTER_STATE(wasm.leash.key_id:PLAIN)%",
  upstream_cluster: "%UPSTREAM_CLUSTER%",
  upstream_host: "%UPSTREAM_HOST%",
  bytes_received: "%BYTES_RECEIVED%",
  bytes_sent: "%BYTES_SENT%",
};

const BUFFER_HEADROOM_BYTES: number = 64 * 1024;

export function buildListener(cfg: LeashConfig, wasmDir: string): ProtoObject {
  return {
    "@type": typeUrl("envoy.config.listener.v3.Listener"),
    name: PUBLIC_LISTENER,
    address: socketAddress(cfg.listener.address, cfg.listener.port),
    // Envoy's buffer per request: the largest accepted body plus room for the chunk that crosses
    // the limit, so the auth module sees it and answers 413 in the route's API format.
    per_connection_buffer_limit_bytes: cfg.listener.max_request_body_bytes + BUFFER_HEADROOM_BYTES,
    filter_chains: [{ filters: [httpConnectionManager(cfg, wasmDir)] }],
  };
}

/**
 * use_remote_address: Leash is the edge, so the client address is the TCP peer and client-sent
 * x-envoy-* headers are stripped. normalize_path and merge_slashes make "/openai/../x" or
 * "//openai" route (and reach the filters) as the path it really is, so no prefix can be dodged.
 * Request ids: a client's x-request-id is kept so its own logs line up with ours, and every
 * response carries it.
 */
function httpConnectionManager(cfg: LeashConfig, wasmDir: string): ProtoObject {
  const groups: WasmFilterGroup[] = wasmFilterGroups(cfg);
  const localReplies: ProtoObject | null = localReplyConfig(cfg);
  return {
    name: "envoy.filters.network.http_connection_manager",
    typed_config: {
      "@type": typeUrl("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"),
      stat_prefix: "leash",
      codec_type: "AUTO",
      use_remote_address: true,
      normalize_path: true,
      merge_slashes: true,
      generate_request_id: true,
      preserve_external_request_id: true,
      // The correlation id goes back to the client too, so a caller can quote it (it is also the
      // usage ledger's key and is passed to the provider and the sidecar).
      always_set_request_id_in_response: true,
      ...(cfg.tracing.enabled ? { request_id_extension: requestIdExtension(), tracing: hcmTracing(cfg.tracing) } : {}),
      access_log: [
        {
          name: "envoy.access_loggers.stdout",
          typed_config: {
            "@type": typeUrl("envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"),
            log_format: {
              json_format: { ...ACCESS_LOG_FORMAT },
              // REQ_WITHOUT_QUERY is an extension command; it must be listed to be parsed.
              formatters: [
                {
                  name: "envoy.formatter.req_without_query",
                  typed_config: {
                    "@type": typeUrl("envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery"),
                  },
                },
              ],
            },
          },
        },
      ],
      ...(localReplies === null ? {} : { local_reply_config: localReplies }),
      route_config: buildRouteConfig(cfg, groups.map((g: WasmFilterGroup): string => g.name)),
      http_filters: [
        ...groups.map((g: WasmFilterGroup): ProtoObject => wasmHttpFilter(cfg, g, wasmDir)),
        {
          name: "envoy.filters.http.router",
          typed_config: { "@type": typeUrl("envoy.extensions.filters.http.router.v3.Router") },
        },
      ],
    },
  };
}
