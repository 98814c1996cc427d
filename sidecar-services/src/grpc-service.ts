// gRPC transport of the Authorize RPC: decodes the call, runs the decision, records metrics, and
// maps thrown failures to a gRPC status via the error registry (UNAVAILABLE for database/store
// trouble, which the filter turns into its failure mode, 503 when fail-closed).
import * as grpc from "@grpc/grpc-js";
import type { AuthorizeRequest, AuthorizeResponse } from "./authorize.ts";
import { FAILURES, failureCodeOf } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { SidecarMetrics } from "./metrics.ts";
import { loadSidecarService } from "./proto.ts";
import { noopTracer, type ActiveSpan, type Tracer } from "./tracing.ts";
import type { UsageAck, UsageReport } from "./usage-report.ts";

/** Dependencies of {@link createGrpcServer}. */
export interface GrpcServiceDeps {
  authorize: (req: AuthorizeRequest) => Promise<AuthorizeResponse>;
  /** RecordUsage (usage.ts). Rejects only when the report could not be made durable. */
  recordUsage: (report: UsageReport) => Promise<UsageAck>;
  metrics: SidecarMetrics;
  log: Logger;
  /** Spans per Authorize call and per usage report. Default: none. */
  tracer?: Tracer;
}

/** The first value of a metadata key, as a string ("" when absent). */
function metadataValue(call: grpc.ServerUnaryCall<unknown, unknown>, key: string): string {
  const v = call.metadata.get(key)[0];
  return typeof v === "string" ? v : "";
}

const RPC_ATTRIBUTES = { "rpc.system": "grpc", "rpc.service": "leash.v1.Sidecar" } as const;

/**
 * The span of a unary call a filter made for one request, parented on the client's trace context
 * the filter passed as `traceparent` metadata. Every per-request RPC (Authorize, and later ones)
 * starts its span here; attributes must never carry a key, a credential or a body.
 */
export function serverSpan(tracer: Tracer, call: grpc.ServerUnaryCall<unknown, unknown>, method: string,
  attributes: Record<string, string | number | boolean>): ActiveSpan | null {
  return tracer.start(`leash.v1.Sidecar/${method}`, metadataValue(call, "traceparent"), { ...RPC_ATTRIBUTES, "rpc.method": method, ...attributes });
}

/** A span per usage report, parented on the request's traceparent the usage module sent with it. */
function usageSpan(tracer: Tracer, report: UsageReport): ActiveSpan | null {
  return tracer.start("leash.v1.Sidecar/RecordUsage", report.traceparent, {
    ...RPC_ATTRIBUTES,
    "rpc.method": "RecordUsage",
    "leash.request_id": String(report.request_id ?? "").slice(0, 128),
    "leash.tenant_id": String(report.tenant_id ?? "").slice(0, 128),
  });
}

/** Runs one report through `record` inside its span. */
function recordTraced(tracer: Tracer, record: GrpcServiceDeps["recordUsage"], report: UsageReport): Promise<UsageAck> {
  const span = usageSpan(tracer, report);
  return record(report).then(
    (ack) => {
      span?.setAttributes({ "leash.accepted": ack.accepted });
      span?.end();
      return ack;
    },
    (err: unknown) => {
      span?.end({ error: true, message: failureCodeOf(err) });
      throw err;
    },
  );
}

/**
 * Largest accepted request message. An AuthorizeRequest is a few hundred bytes; 1 MiB leaves room
 * for oversized-but-harmless inputs (they are rejected as invalid keys) while capping memory.
 */
const MAX_RECEIVE_BYTES = 1024 * 1024;

/** Largest RecordUsageBatch; the usage module sends at most its batch_max (default 100). */
const MAX_BATCH_REPORTS = 1000;

/** gRPC status name for metrics, e.g. 14 → "UNAVAILABLE". */
function statusName(code: grpc.status): string {
  return grpc.status[code] ?? "UNKNOWN";
}

/** Creates the gRPC server with the Sidecar service registered (not yet bound). */
export function createGrpcServer(deps: GrpcServiceDeps): grpc.Server {
  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_RECEIVE_BYTES });
  const service = loadSidecarService().service;
  const tracer = deps.tracer ?? noopTracer;

  const Authorize: grpc.handleUnaryCall<AuthorizeRequest, AuthorizeResponse> = (call, callback) => {
    const method = "Authorize";
    const stopTimer = deps.metrics.grpcDuration.startTimer({ method });
    const finish = (code: grpc.status) => {
      stopTimer();
      deps.metrics.grpcRequests.inc({ method, code: statusName(code) });
    };
    const span = serverSpan(tracer, call, method, {
      "leash.request_id": String(call.request.request_id ?? "").slice(0, 128),
      "leash.provider": String(call.request.provider ?? "").slice(0, 64),
    });
    deps.authorize(call.request).then(
      (res) => {
        deps.metrics.authDecisions.inc({ decision: res.decision, code: res.code || "ok" });
        span?.setAttributes({ "leash.decision": String(res.decision), "leash.code": res.code || "ok", "leash.tenant_id": res.tenant_id });
        span?.end();
        finish(grpc.status.OK);
        callback(null, res);
      },
      (err: unknown) => {
        const code = failureCodeOf(err);
        const failure = FAILURES[code];
        deps.log.error("authorize failed", { code, request_id: call.request.request_id.slice(0, 128), error: err });
        span?.end({ error: true, message: code });
        finish(failure.grpcStatus);
        callback({ code: failure.grpcStatus, details: `${code}: ${failure.message}` });
      },
    );
  };

  const RecordUsage: grpc.handleUnaryCall<UsageReport, UsageAck> = (call, callback) => {
    const method = "RecordUsage";
    const stopTimer = deps.metrics.grpcDuration.startTimer({ method });
    const finish = (code: grpc.status) => {
      stopTimer();
      deps.metrics.grpcRequests.inc({ method, code: statusName(code) });
    };
    recordTraced(tracer, deps.recordUsage, call.request).then(
      (ack) => {
        finish(grpc.status.OK);
        callback(null, ack);
      },
      (err: unknown) => {
        // Neither PostgreSQL nor the spool took the report: not acknowledged, the filter may retry.
        const code = failureCodeOf(err);
        const failure = FAILURES[code];
        deps.log.error("record usage failed", { code, request_id: String(call.request.request_id).slice(0, 128), error: err });
        finish(failure.grpcStatus);
        callback({ code: failure.grpcStatus, details: `${code}: ${failure.message}` });
      },
    );
  };

  const RecordUsageBatch: grpc.handleUnaryCall<{ reports?: UsageReport[] }, { accepted: number; rejected: number }> = (call, callback) => {
    const method = "RecordUsageBatch";
    const stopTimer = deps.metrics.grpcDuration.startTimer({ method });
    const finish = (code: grpc.status) => {
      stopTimer();
      deps.metrics.grpcRequests.inc({ method, code: statusName(code) });
    };
    const reports: UsageReport[] = call.request.reports ?? [];
    if (reports.length > MAX_BATCH_REPORTS) {
      finish(grpc.status.INVALID_ARGUMENT);
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `at most ${MAX_BATCH_REPORTS} reports per batch` });
      return;
    }
    Promise.all(reports.map((r) => recordTraced(tracer, deps.recordUsage, r))).then(
      (acks) => {
        const accepted = acks.filter((a) => a.accepted).length;
        finish(grpc.status.OK);
        callback(null, { accepted, rejected: acks.length - accepted });
      },
      (err: unknown) => {
        // Some report was not made durable: the whole batch is refused and sent again (idempotent).
        const code = failureCodeOf(err);
        const failure = FAILURES[code];
        deps.log.error("record usage batch failed", { code, reports: reports.length, error: err });
        finish(failure.grpcStatus);
        callback({ code: failure.grpcStatus, details: `${code}: ${failure.message}` });
      },
    );
  };

  server.addService(service, { Authorize, RecordUsage, RecordUsageBatch });
  return server;
}
