// Wire encoding of leash.v1.UsageReport (sidecar-services/proto/leash/v1/sidecar.proto).
// Field numbers must match the .proto file.
import { ProtoWriter } from "../sdk/pb";
import { ModuleTime } from "../sdk/timing";

export const SERVICE = "leash.v1.Sidecar";
export const METHOD = "RecordUsageBatch";

export class UsageReport {
  requestId: string = "";
  tenantId: string = "";
  keyId: string = "";
  provider: string = "";
  api: string = "";
  model: string = "";
  status: u32 = 0;
  promptTokens: u64 = 0;
  completionTokens: u64 = 0;
  cachedTokens: u64 = 0;
  streamed: bool = false;
  estimated: bool = false;
  durationMs: u64 = 0;
  upstreamFirstByteMs: u64 = 0;
  startedAtMs: u64 = 0;
  upstreamResponded: bool = false;
  moduleTimings: Array<ModuleTime> = new Array<ModuleTime>(0);
  traceparent: string = "";
  /** The quota module's reservation (filter state leash.quota.reservation), "" if none. */
  reservationId: string = "";
  /** What the guard modules did, joined with ";" (sdk/guard-decision.ts). */
  guardDecisions: string = "";
  /** The tenant's audit is on: the bodies below go to the audit trail (after redaction). */
  audit: bool = false;
  auditRequestBody: ArrayBuffer = new ArrayBuffer(0);
  auditResponseBody: ArrayBuffer = new ArrayBuffer(0);
  auditTruncated: bool = false;
}

/** A report's bytes in a UsageBatch: itself plus a tag and a length prefix (at most 1 + 5 bytes). */
export function batchedSize(report: ArrayBuffer): i32 {
  return report.byteLength + 6;
}

/** leash.v1.UsageBatch of already-encoded UsageReports (field 1, repeated). */
export function encodeUsageBatch(reports: Array<ArrayBuffer>): ArrayBuffer {
  let size = 0;
  for (let i = 0; i < reports.length; i++) size += batchedSize(reports[i]);
  const w = new ProtoWriter(size);
  for (let i = 0; i < reports.length; i++) w.bytes(1, reports[i]);
  return w.finish();
}

/** Room for a report's fixed fields, ids and timings; audited bodies are added to it. */
const REPORT_BYTES: i32 = 512;

export function encodeUsageReport(r: UsageReport): ArrayBuffer {
  const w = new ProtoWriter(REPORT_BYTES + (r.audit ? r.auditRequestBody.byteLength + r.auditResponseBody.byteLength : 0));
  w.string(1, r.requestId);
  w.string(2, r.tenantId);
  w.string(3, r.keyId);
  w.string(4, r.provider);
  w.string(5, r.api);
  w.string(6, r.model);
  w.uint(7, <u64>r.status);
  w.uint(8, r.promptTokens);
  w.uint(9, r.completionTokens);
  w.uint(10, r.cachedTokens);
  w.bool(11, r.streamed);
  w.bool(12, r.estimated);
  w.uint(13, r.durationMs);
  w.uint(14, r.upstreamFirstByteMs);
  w.uint(15, r.startedAtMs);
  w.bool(16, r.upstreamResponded);
  for (let i = 0; i < r.moduleTimings.length; i++) {
    const t = new ProtoWriter(32);
    t.string(1, r.moduleTimings[i].module);
    t.uint(2, r.moduleTimings[i].micros);
    w.message(17, t);
  }
  if (r.traceparent.length > 0) w.string(18, r.traceparent);
  if (r.reservationId.length > 0) w.string(19, r.reservationId);
  if (r.guardDecisions.length > 0) w.string(30, r.guardDecisions);
  if (r.audit) {
    w.bool(31, true);
    w.bytes(32, r.auditRequestBody);
    w.bytes(33, r.auditResponseBody);
    w.bool(34, r.auditTruncated);
  }
  return w.finish();
}
