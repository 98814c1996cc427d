// gRPC transport of the Authorize RPC: decodes the call, runs the decision, records metrics, and
// maps thrown failures to a gRPC status via the error registry (UNAVAILABLE for database/store
// trouble, which the filter turns into its failure mode, 503 when fail-closed).
import * as grpc from "@grpc/grpc-js";
import type { AuthorizeRequest, AuthorizeResponse } from "./authorize.ts";
import { FAILURES, failureCodeOf } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { SidecarMetrics } from "./metrics.ts";
import { sidecarServiceDefinition } from "./proto.ts";
import type { LeaseReturnRequest, ReserveRequest, ReserveResponse } from "./quota-service.ts";
import { noopTracer, type ActiveSpan, type Tracer } from "./tracing.ts";
import type { UsageAck, UsageReport } from "./usage-report.ts";

/** Dependencies of {@link createGrpcServer}. */
export interface GrpcServiceDeps {
  authorize: (req: AuthorizeRequest) => Promise<AuthorizeResponse>;
  /** RecordUsage (usage.ts). Rejects only when the report could not be made durable. */
  recordUsage: (report: UsageReport) => Promise<UsageAck>;
  /** Reserve (quota-service.ts). Rejects only when the policy could not be read (PostgreSQL). */
  reserve: (req: ReserveRequest) => Promise<ReserveResponse>;
  /** ReturnLease (quota-service.ts); never rejects. Absent: every return is answered returned=false. */
  returnLease?: (req: LeaseReturnRequest) => Promise<{ returned: boolean }>;
  metrics: SidecarMetrics;
  log: Logger;
  /** Spans per Authorize and Reserve call and per usage report. Default: none. */
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
  // Tracing off: no span, so no attributes to build and no extra promise per report.
  if (tracer === noopTracer) return record(report);
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
 * Largest accepted request message (one limit for every method in grpc-js). An AuthorizeRequest is
 * a few hundred bytes; a usage report of a tenant with audit on carries both bodies, each at most
 * 1 MiB (audit_max_body_bytes' ceiling): 4 MiB takes the largest single report and the usage
 * module's largest batch (batch_max_bytes, at most 3 MiB) while capping memory. A message over it
 * is refused (RESOURCE_EXHAUSTED) and its reports would be refused again at every retry.
 */
const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

/** Largest RecordUsageBatch; the usage module sends at most its batch_max (default 100). */
const MAX_BATCH_REPORTS = 1000;

/** gRPC status name for metrics, e.g. 14 → "UNAVAILABLE". */
function statusName(code: grpc.status): string {
  return grpc.status[code] ?? "UNKNOWN";
}

/**
 * One unary handler: times it, counts it by gRPC status, and maps a rejection to the registry's
 * status (logged with `describe`'s fields). `handle` resolves with the answer, or with a status it
 * chose itself (e.g. INVALID_ARGUMENT).
 */
function unary<Req, Res>(
  deps: GrpcServiceDeps,
  method: string,
  handle: (req: Req) => Promise<Res | grpc.ServiceError>,
  describe: (req: Req) => Record<string, unknown>,
  /** A span for the call (serverSpan) and the attributes of its answer; omitted: no span. */
  trace?: { start: (call: grpc.ServerUnaryCall<Req, Res>) => ActiveSpan | null; result: (res: Res) => Record<string, string | number | boolean> },
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const stopTimer = deps.metrics.grpcDuration.startTimer({ method });
    const span = trace && deps.tracer && deps.tracer !== noopTracer ? trace.start(call) : null;
    const finish = (code: grpc.status) => {
      stopTimer();
      deps.metrics.grpcRequests.inc({ method, code: statusName(code) });
    };
    handle(call.request).then(
      (res) => {
        if (res instanceof RefusedCall) {
          span?.end({ error: true, message: res.details });
          finish(res.code);
          callback(res);
          return;
        }
        if (span && trace) span.setAttributes(trace.result(res as Res));
        span?.end();
        finish(grpc.status.OK);
        callback(null, res as Res);
      },
      (err: unknown) => {
        const code = failureCodeOf(err);
        const failure = FAILURES[code];
        deps.log.error(`${method} failed`, { code, ...describe(call.request), error: err });
        span?.end({ error: true, message: code });
        finish(failure.grpcStatus);
        callback({ code: failure.grpcStatus, details: `${code}: ${failure.message}` });
      },
    );
  };
}

/** A call refused by the handler itself with a status of its choice (not a failure to log). */
class RefusedCall extends Error implements grpc.ServiceError {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
  readonly metadata = new grpc.Metadata();
}

const requestIdOf = (req: { request_id?: unknown }) => ({ request_id: String(req.request_id ?? "").slice(0, 128) });

/** Creates the gRPC server with the Sidecar service registered (not yet bound). */
export function createGrpcServer(deps: GrpcServiceDeps): grpc.Server {
  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_RECEIVE_BYTES });
  const service = sidecarServiceDefinition();
  const tracer = deps.tracer ?? noopTracer;

  const Authorize = unary<AuthorizeRequest, AuthorizeResponse>(
    deps,
    "Authorize",
    async (req) => {
      const res = await deps.authorize(req);
      deps.metrics.authDecisions.inc({ decision: res.decision, code: res.code || "ok" });
      return res;
    },
    requestIdOf,
    {
      start: (call) => serverSpan(tracer, call, "Authorize", {
        "leash.request_id": String(call.request.request_id ?? "").slice(0, 128),
        "leash.provider": String(call.request.provider ?? "").slice(0, 64),
      }),
      result: (res) => ({ "leash.decision": String(res.decision), "leash.code": res.code || "ok", "leash.tenant_id": res.tenant_id }),
    },
  );

  // A rejection means neither PostgreSQL nor the spool took the report: not acknowledged, the
  // filter may retry.
  const RecordUsage = unary<UsageReport, UsageAck>(deps, "RecordUsage", (report) => recordTraced(tracer, deps.recordUsage, report), requestIdOf);

  const RecordUsageBatch = unary<{ reports?: UsageReport[] }, { accepted: number; rejected: number }>(
    deps,
    "RecordUsageBatch",
    async (batch) => {
      const reports: UsageReport[] = batch.reports ?? [];
      if (reports.length > MAX_BATCH_REPORTS) return new RefusedCall(grpc.status.INVALID_ARGUMENT, `at most ${MAX_BATCH_REPORTS} reports per batch`);
      // Some report not made durable rejects the whole batch; it is sent again (idempotent).
      // One span per report: each belongs to its own request's trace.
      const acks = await Promise.all(reports.map((r) => recordTraced(tracer, deps.recordUsage, r)));
      const accepted = acks.filter((a) => a.accepted).length;
      return { accepted, rejected: acks.length - accepted };
    },
    (batch) => ({ reports: batch.reports?.length ?? 0 }),
  );

  // Redis trouble is answered inside Reserve (the tenant's on_store_failure); a rejection here is
  // PostgreSQL (the limits could not be read) or a bug.
  const Reserve = unary<ReserveRequest, ReserveResponse>(deps, "Reserve", (req) => deps.reserve(req), requestIdOf, {
    start: (call) => serverSpan(tracer, call, "Reserve", {
      "leash.request_id": String(call.request.request_id ?? "").slice(0, 128),
      "leash.tenant_id": String(call.request.tenant_id ?? "").slice(0, 128),
    }),
    result: (res) => ({ "leash.decision": String(res.decision), "leash.code": res.code || "ok", "leash.unmetered": res.unmetered }),
  });

  const returnLease = deps.returnLease ?? (async () => ({ returned: false }));
  const ReturnLease = unary<LeaseReturnRequest, { returned: boolean }>(deps, "ReturnLease", (req) => returnLease(req), (req) => ({
    tenant_id: String(req.tenant_id ?? "").slice(0, 128),
  }));

  server.addService(service, { Authorize, RecordUsage, RecordUsageBatch, Reserve, ReturnLease });
  return server;
}
