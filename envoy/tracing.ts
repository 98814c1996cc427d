// OpenTelemetry tracing of the public listener (config `tracing`, docs/tracing.md): the HTTP
// connection manager starts a server span per request and the router a client span per upstream
// call; Envoy's OpenTelemetry tracer exports them over OTLP/HTTP (protobuf) to the collector cluster.

import type { TracingConfig } from "../config/types.ts";
import { OTLP_CLUSTER } from "./names.ts";
import { duration, typeUrl, type ProtoObject } from "./proto.ts";

/** OTLP/HTTP path of the traces signal, below the configured base URL. */
export const OTLP_TRACES_PATH: string = "/v1/traces";

/** Export deadline: a slow collector must not hold the exporter's buffer for long. */
const EXPORT_TIMEOUT_MS: number = 2000;

/** The collector's URL for traces. */
export function otlpTracesUrl(tracing: TracingConfig): string {
  return tracing.otlp_endpoint.replace(/\/+$/, "") + OTLP_TRACES_PATH;
}

/**
 * HttpConnectionManager.tracing. random_sampling applies only to requests that arrive without a
 * trace context: Envoy's OpenTelemetry tracer follows a client traceparent's sampled flag.
 * spawn_upstream_span gives the provider call its own client span, whose context is what the
 * provider receives in traceparent.
 */
export function hcmTracing(tracing: TracingConfig): ProtoObject {
  return {
    random_sampling: { value: Math.round(tracing.sample_rate * 1_000_000) / 10_000 },
    spawn_upstream_span: true,
    provider: {
      name: "envoy.tracers.opentelemetry",
      typed_config: {
        "@type": typeUrl("envoy.config.trace.v3.OpenTelemetryConfig"),
        http_service: {
          // Envoy takes the request's Host and path from this URI.
          http_uri: { uri: otlpTracesUrl(tracing), cluster: OTLP_CLUSTER, timeout: duration(EXPORT_TIMEOUT_MS) },
        },
        service_name: tracing.service_name,
      },
    },
  };
}

/**
 * With tracing on, Envoy would rewrite a UUID x-request-id to record its sampling decision in it
 * (pack_trace_reason), and sample by the request id. The request id is the usage ledger's key and
 * the client's correlation id, so it must reach the provider and the ledger unchanged.
 */
export function requestIdExtension(): ProtoObject {
  return {
    typed_config: {
      "@type": typeUrl("envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig"),
      pack_trace_reason: false,
      use_request_id_for_trace_sampling: false,
    },
  };
}

/**
 * Runtime overrides of the tracer: export at least once a second (default 5 s) so a trace is
 * complete in the collector soon after the request; batches of up to 5 spans go out at once.
 */
export function tracingRuntime(): ProtoObject {
  return { "tracing.opentelemetry.flush_interval_ms": 1000, "tracing.opentelemetry.min_flush_spans": 5 };
}
