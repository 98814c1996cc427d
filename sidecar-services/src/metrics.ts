// The sidecar's Prometheus metrics. Every label takes values from a closed set (RPC method names,
// gRPC status names, registry codes) so cardinality stays bounded whatever clients send.
import { Counter, Histogram, collectDefaultMetrics, type Registry } from "prom-client";

/** Metric handles registered on one registry. */
export interface SidecarMetrics {
  /** leash_sidecar_grpc_requests_total{method,code}: code is the gRPC status name (OK, UNAVAILABLE, …). */
  grpcRequests: Counter<"method" | "code">;
  /** leash_sidecar_grpc_duration_seconds{method}: handler time, from receipt to answer. */
  grpcDuration: Histogram<"method">;
  /** leash_sidecar_auth_decisions_total{decision,code}: ALLOW/DENY with the registry code ("ok" on ALLOW). */
  authDecisions: Counter<"decision" | "code">;
  /** leash_sidecar_request_log_dropped_total: request_log rows lost (queue full or write failed). */
  requestLogDropped: Counter;
}

/**
 * Registers the sidecar metrics (and Node's default process metrics, once per registry) on
 * `registry`. Using an injected registry instead of prom-client's global one lets tests run several
 * sidecars in one process.
 */
export function createSidecarMetrics(registry: Registry): SidecarMetrics {
  if (!registry.getSingleMetric("process_cpu_user_seconds_total")) collectDefaultMetrics({ register: registry });
  return {
    grpcRequests: new Counter({
      name: "leash_sidecar_grpc_requests_total",
      help: "gRPC requests handled, by method and gRPC status name.",
      labelNames: ["method", "code"],
      registers: [registry],
    }),
    grpcDuration: new Histogram({
      name: "leash_sidecar_grpc_duration_seconds",
      help: "gRPC handler duration in seconds.",
      labelNames: ["method"],
      // Authorize sits on every request's critical path: resolution is concentrated below 50 ms.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    authDecisions: new Counter({
      name: "leash_sidecar_auth_decisions_total",
      help: "Authorize decisions, by decision and decision code.",
      labelNames: ["decision", "code"],
      registers: [registry],
    }),
    requestLogDropped: new Counter({
      name: "leash_sidecar_request_log_dropped_total",
      help: "request_log rows dropped because the queue was full or the write failed.",
      registers: [registry],
    }),
  };
}
