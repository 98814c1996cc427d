// Validation of RecordUsage reports (leash.v1.UsageReport). A report comes from our own filter, but
// its strings (request id, model) come from clients and providers, so every field is bounded before
// it reaches the ledger, a metric label or a log line. A malformed report is refused (accepted:
// false), never partially stored: one bad row must not poison a batch insert.
import { auditText, type AuditBodies } from "./audit-record.ts";
import { LEASED_USE, RESERVATION_ID } from "./quota-store.ts";

/** UsageReport as decoded by proto-loader (keepCase, longs as strings, defaults on). */
export interface UsageReport {
  request_id: string;
  tenant_id: string;
  key_id: string;
  provider: string;
  api: string;
  model: string;
  status: number;
  prompt_tokens: string | number;
  completion_tokens: string | number;
  cached_tokens: string | number;
  streamed: boolean;
  estimated: boolean;
  duration_ms: string | number;
  upstream_first_byte_ms: string | number;
  started_at_ms: string | number;
  /** Field 17: each module's processing time (filters/assembly/sdk/timing.ts). */
  module_timings?: Array<{ module?: unknown; micros?: unknown }>;
  /** Field 18: the client's W3C traceparent, "" if none. */
  traceparent?: string;
  /** Field 30: what the guard modules did, "" if nothing. */
  guard_decisions?: string;
  /** Fields 31-34: the audit-trail entry of the request (audit-record.ts). */
  audit?: boolean;
  audit_request_body?: Buffer;
  audit_response_body?: Buffer;
  audit_truncated?: boolean;
  /** Field 16: the response came from the provider (false: a local reply); settles quota reservations. */
  upstream_responded?: boolean;
  /** Field 19: the quota module's reservation of this request, "" if none. */
  reservation_id?: string;
}

/** UsageAck. */
export interface UsageAck {
  accepted: boolean;
}

/** A validated report with numbers as numbers. */
export interface UsageRecord {
  request_id: string;
  tenant_id: string;
  key_id: string;
  provider: string;
  api: string;
  model: string;
  status: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  streamed: boolean;
  estimated: boolean;
  duration_ms: number;
  upstream_first_byte_ms: number;
  /** Epoch ms; the ledger's started_at, part of its key (never replaced by the clock). */
  started_at_ms: number;
  /** What the guard modules did; "" when none ran or none acted. */
  guard_decisions: string;
  /** The bodies for the audit trail, in clear until usage.ts seals them; null: not audited. */
  audit: AuditBodies | null;
  /** From the provider (true) or a local reply (false): a quota reservation is released on false. */
  upstream_responded: boolean;
  /** The quota reservation this report settles; "" for none (also when the field was malformed). */
  reservation_id: string;
}

/** Why a report was refused: a closed set, used as a metric label. */
export type RejectReason =
  | "request_id"
  | "tenant_id"
  | "key_id"
  | "provider"
  | "api"
  | "model"
  | "status"
  | "tokens"
  | "duration"
  | "started_at"
  | "guard_decisions";

/** One module's processing time of one request. */
export interface ModuleTiming {
  module: string;
  micros: number;
}

/**
 * What a report carries besides its ledger row: observability only. Invalid entries are dropped
 * here instead of refusing the report: a bad timing must never cost a ledger row.
 */
export interface ReportTelemetry {
  module_timings: ModuleTiming[];
  /** A well-formed W3C traceparent, else "". */
  traceparent: string;
}

export type ValidationResult =
  | { ok: true; record: UsageRecord; telemetry: ReportTelemetry }
  | { ok: false; reason: RejectReason; message: string };

/** Every reason, for pre-registering metric series. */
export const REJECT_REASONS: readonly RejectReason[] = [
  "request_id", "tenant_id", "key_id", "provider", "api", "model", "status", "tokens", "duration", "started_at", "guard_decisions",
];

export const MAX_REQUEST_ID_LENGTH = 200;
const MAX_ID_LENGTH = 128;
const MAX_PROVIDER_LENGTH = 64;
const MAX_API_LENGTH = 32;
const MAX_MODEL_LENGTH = 200;
/** Per counter; 10^10 tokens is far beyond any context window and keeps cost within numeric(18,9). */
export const MAX_TOKENS = 10_000_000_000;
/** The ledger's integer columns. */
const MAX_DURATION_MS = 2_147_483_647;
/** Older reports are clock errors (or garbage): nothing ran through Leash before. */
const MIN_STARTED_AT_MS = Date.UTC(2020, 0, 1);
/** Tolerated clock skew between Envoy's host and the sidecar's. */
const MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;

/** guard_decisions: a summary line, not a log. */
const MAX_GUARD_DECISIONS_LENGTH = 512;

/** Postgres text cannot hold NUL; other control characters would only ever be an attack on logs. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(value: unknown, max: number, required: boolean): string | null {
  if (typeof value !== "string") return null;
  if (required && value === "") return null;
  if (value.length > max || CONTROL.test(value)) return null;
  return value;
}

/**
 * A uint64 as the server decodes it (a number: usage-decode.ts) or as a digit string
 * (a client loading the shared options) → a safe integer in 0..max, else null. Every max is below
 * 2^53, so a number that lost precision in decoding is refused, never taken.
 */
function integer(value: unknown, max: number): number | null {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\d{1,20}$/.test(value)) n = Number(value);
  else return null;
  return Number.isSafeInteger(n) && n >= 0 && n <= max ? n : null;
}

/** More entries than modules exist is garbage; the rest are ignored. */
const MAX_MODULE_TIMINGS = 16;
const MODULE_NAME = /^[a-z0-9_-]{1,32}$/;
/** An hour in one module's callbacks is not a measurement. */
const MAX_MODULE_MICROS = 3_600_000_000;
/** W3C trace-context version 00 (other versions must at least start the same way); ids not all zero. */
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === "string" && value.length === 55 && TRACEPARENT.test(value) && !value.startsWith("ff");
}

/** Whether `module` already has a timing (at most MAX_MODULE_TIMINGS to look through). */
function taken(timings: readonly ModuleTiming[], module: string): boolean {
  for (const t of timings) if (t.module === module) return true;
  return false;
}

function telemetryOf(report: Partial<UsageReport>): ReportTelemetry {
  const module_timings: ModuleTiming[] = [];
  const given = Array.isArray(report.module_timings) ? report.module_timings : [];
  for (let i = 0; i < given.length && i < MAX_MODULE_TIMINGS; i++) {
    const t = given[i];
    const micros = integer(t?.micros, MAX_MODULE_MICROS);
    if (typeof t?.module !== "string" || !MODULE_NAME.test(t.module) || micros === null || taken(module_timings, t.module)) continue;
    module_timings.push({ module: t.module, micros });
  }
  return { module_timings, traceparent: isTraceparent(report.traceparent) ? report.traceparent : "" };
}

/** Validates a decoded report; `now` bounds started_at against clock skew. */
export function validateUsageReport(report: Partial<UsageReport>, now: number = Date.now()): ValidationResult {
  const fail = (reason: RejectReason, message: string): ValidationResult => ({ ok: false, reason, message });
  const request_id = text(report.request_id, MAX_REQUEST_ID_LENGTH, true);
  if (request_id === null) return fail("request_id", `request_id must be 1-${MAX_REQUEST_ID_LENGTH} characters without control characters`);
  const tenant_id = text(report.tenant_id ?? "", MAX_ID_LENGTH, false);
  if (tenant_id === null) return fail("tenant_id", `tenant_id must be at most ${MAX_ID_LENGTH} characters`);
  const key_id = text(report.key_id ?? "", MAX_ID_LENGTH, false);
  if (key_id === null) return fail("key_id", `key_id must be at most ${MAX_ID_LENGTH} characters`);
  const provider = text(report.provider, MAX_PROVIDER_LENGTH, true);
  if (provider === null) return fail("provider", `provider must be 1-${MAX_PROVIDER_LENGTH} characters`);
  const api = text(report.api ?? "", MAX_API_LENGTH, false);
  if (api === null) return fail("api", `api must be at most ${MAX_API_LENGTH} characters`);
  const model = text(report.model ?? "", MAX_MODEL_LENGTH, false);
  if (model === null) return fail("model", `model must be at most ${MAX_MODEL_LENGTH} characters without control characters`);
  const status = integer(report.status ?? 0, 599);
  if (status === null || (status !== 0 && status < 100)) return fail("status", "status must be 0 (no response) or 100..599");
  const prompt_tokens = integer(report.prompt_tokens ?? 0, MAX_TOKENS);
  const completion_tokens = integer(report.completion_tokens ?? 0, MAX_TOKENS);
  const cached_tokens = integer(report.cached_tokens ?? 0, MAX_TOKENS);
  if (prompt_tokens === null || completion_tokens === null || cached_tokens === null) {
    return fail("tokens", `token counts must be integers in 0..${MAX_TOKENS}`);
  }
  const duration_ms = integer(report.duration_ms ?? 0, MAX_DURATION_MS);
  const upstream_first_byte_ms = integer(report.upstream_first_byte_ms ?? 0, MAX_DURATION_MS);
  if (duration_ms === null || upstream_first_byte_ms === null) return fail("duration", `durations must be integers in 0..${MAX_DURATION_MS} ms`);
  const started_at_ms = integer(report.started_at_ms ?? 0, Number.MAX_SAFE_INTEGER);
  if (started_at_ms === null || started_at_ms < MIN_STARTED_AT_MS || started_at_ms > now + MAX_FUTURE_SKEW_MS) {
    return fail("started_at", "started_at_ms is required: the request's arrival, epoch ms, after 2020 and at most 24 h ahead");
  }
  const guard_decisions = text(report.guard_decisions ?? "", MAX_GUARD_DECISIONS_LENGTH, false);
  if (guard_decisions === null) return fail("guard_decisions", `guard_decisions must be at most ${MAX_GUARD_DECISIONS_LENGTH} characters without control characters`);
  return {
    ok: true,
    telemetry: telemetryOf(report),
    record: {
      request_id,
      tenant_id,
      key_id,
      provider,
      api,
      model,
      status,
      prompt_tokens,
      completion_tokens,
      cached_tokens,
      streamed: report.streamed === true,
      estimated: report.estimated === true,
      duration_ms,
      upstream_first_byte_ms,
      started_at_ms,
      guard_decisions,
      audit: report.audit === true && tenant_id !== "" ? auditBodies(report) : null,
      upstream_responded: report.upstream_responded === true,
      // Malformed: settles nothing, but a bad id must not cost the ledger row.
      reservation_id:
        typeof report.reservation_id === "string" && (RESERVATION_ID.test(report.reservation_id) || LEASED_USE.test(report.reservation_id))
          ? report.reservation_id
          : "",
    },
  };
}

/** The report's bodies, cut to the sidecar's cap (a cut is flagged, never an error). */
function auditBodies(report: Partial<UsageReport>): AuditBodies {
  const req = auditText(Buffer.isBuffer(report.audit_request_body) ? report.audit_request_body : Buffer.alloc(0));
  const res = auditText(Buffer.isBuffer(report.audit_response_body) ? report.audit_response_body : Buffer.alloc(0));
  return { request_body: req.text, response_body: res.text, truncated: report.audit_truncated === true || req.cut || res.cut };
}
