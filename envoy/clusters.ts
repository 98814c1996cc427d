// Upstream clusters: the sidecar (gRPC) and one per provider. They are served through CDS (cds.yaml)
// rather than static_resources so that adding or changing a provider needs no restart.

import { isIP } from "node:net";

import { parseBaseUrl, type BaseUrl } from "../config/base-url.ts";
import type { LeashConfig, ProviderConfig, SidecarConfig } from "../config/types.ts";
import { OTLP_CLUSTER, providerClusterName, SIDECAR_CLUSTER } from "./names.ts";
import { duration, socketAddress, typeUrl, type ProtoObject } from "./proto.ts";

/** CA bundle of Debian, Ubuntu and Alpine (and the distroless and Envoy images built on them). */
export const SYSTEM_CA_BUNDLE: string = "/etc/ssl/certs/ca-certificates.crt";

const CLUSTER_TYPE: string = typeUrl("envoy.config.cluster.v3.Cluster");

/** Every cluster, sidecar first, then providers in config order. */
export function buildClusters(cfg: LeashConfig): ProtoObject[] {
  const clusters: ProtoObject[] = [sidecarCluster(cfg.sidecar), ...cfg.providers.map(providerCluster)];
  if (cfg.tracing.enabled) clusters.push(otlpCluster(cfg.tracing.otlp_endpoint));
  return clusters;
}

/** The trace collector (OTLP/HTTP over HTTP/1.1, TLS when the endpoint is https, verified against the system CAs). */
export function otlpCluster(endpoint: string): ProtoObject {
  const url = parseBaseUrl(endpoint);
  if ("error" in url) throw new Error(`tracing.otlp_endpoint ${url.error}`);
  const cluster: ProtoObject = {
    "@type": CLUSTER_TYPE,
    name: OTLP_CLUSTER,
    ...discovery(url.host, url.tls),
    connect_timeout: duration(1000),
    load_assignment: loadAssignment(OTLP_CLUSTER, url.host, url.port),
  };
  if (url.tls) cluster.transport_socket = upstreamTls(url, true, SYSTEM_CA_BUNDLE);
  return cluster;
}

/**
 * The sidecar speaks gRPC, which needs HTTP/2 end to end; Envoy defaults upstreams to HTTP/1.1.
 * A one-second connect timeout: it is local, and a wasm call waiting longer than its own
 * timeout_ms for a connection is pointless anyway.
 */
export function sidecarCluster(sidecar: SidecarConfig): ProtoObject {
  return {
    "@type": CLUSTER_TYPE,
    name: SIDECAR_CLUSTER,
    ...discovery(sidecar.host),
    connect_timeout: duration(1000),
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": typeUrl("envoy.extensions.upstreams.http.v3.HttpProtocolOptions"),
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: loadAssignment(SIDECAR_CLUSTER, sidecar.host, sidecar.grpc_port),
  };
}

/** A provider's cluster; HTTP/1.1 upstream, which every LLM API serves and SSE streams over fine. */
export function providerCluster(provider: ProviderConfig): ProtoObject {
  const url: BaseUrl = baseUrlOf(provider);
  const name: string = providerClusterName(provider.name);
  const cluster: ProtoObject = {
    "@type": CLUSTER_TYPE,
    name,
    ...discovery(url.host, url.tls),
    connect_timeout: duration(provider.connect_timeout_ms),
    load_assignment: loadAssignment(name, url.host, url.port),
  };
  if (url.tls) cluster.transport_socket = upstreamTls(url, provider.tls_verify, provider.tls_ca_file || SYSTEM_CA_BUNDLE);
  return cluster;
}

/**
 * IP literals need no DNS (STATIC). Public HTTPS APIs sit behind large, changing address pools, for
 * which Envoy recommends LOGICAL_DNS (one resolved address per new connection, no host churn).
 * Other names (a compose service, a local model server) use STRICT_DNS to spread over every address.
 * V4_PREFERRED because many container hosts resolve AAAA records they cannot route to.
 */
function discovery(host: string, tls: boolean = false): ProtoObject {
  if (isIP(host) !== 0) return { type: "STATIC" };
  return { type: tls ? "LOGICAL_DNS" : "STRICT_DNS", dns_lookup_family: "V4_PREFERRED" };
}

function loadAssignment(cluster: string, host: string, port: number): ProtoObject {
  return {
    cluster_name: cluster,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, port) } }] }],
  };
}

/**
 * SNI must be a host name (RFC 6066), so IP upstreams go without SNI and are checked by IP SAN.
 * With tls_verify off the context has no validation at all: an explicit opt-out for self-signed
 * local servers, never the default.
 */
function upstreamTls(url: BaseUrl, verify: boolean, caFile: string): ProtoObject {
  const context: ProtoObject = { "@type": typeUrl("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext") };
  if (!url.isIp) context.sni = url.host;
  // Envoy's client default tops out at TLS 1.2; every major provider speaks 1.3.
  const tlsParams: ProtoObject = { tls_minimum_protocol_version: "TLSv1_2", tls_maximum_protocol_version: "TLSv1_3" };
  context.common_tls_context = verify
    ? {
        tls_params: tlsParams,
        validation_context: {
          trusted_ca: { filename: caFile },
          match_typed_subject_alt_names: [
            { san_type: url.isIp ? "IP_ADDRESS" : "DNS", matcher: { exact: url.host } },
          ],
        },
      }
    : { tls_params: tlsParams };
  return { name: "envoy.transport_sockets.tls", typed_config: context };
}

/** Config passed validation, so a bad URL here is a programming error, not a user error. */
export function baseUrlOf(provider: ProviderConfig): BaseUrl {
  const url = parseBaseUrl(provider.base_url);
  if ("error" in url) throw new Error(`provider ${provider.name}: base_url ${url.error}`);
  return url;
}
