// Validation of admin API request bodies. Every reader throws AdminError `admin.invalid_request`
// with a message that starts with the field name ("allowed_models[2]: …"), so the CLI and curl users
// see exactly what to fix. Untrusted names are echoed only truncated and JSON-quoted.
import { MAX_RETENTION_DAYS } from "../../config/validate.ts";
import { guardPolicyProblems } from "../../config/guard-policy.ts";
import { auditSettingsProblems } from "./audit-policy.ts";
import { AdminError } from "./errors.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { asAdminInput } from "./quota-admin.ts";
import { parseTenantQuota } from "./quota-limits.ts";
import { isTenantId } from "./tenants.ts";
import type { TenantStatus } from "./tenant-lookup.ts";

/** A parsed JSON request body that is an object. */
export type Body = Record<string, unknown>;

/** Longest list of providers or models in a policy. */
export const MAX_POLICY_ENTRIES = 1000;
/** Longest serialized `limits` or `module_settings` object, in bytes. */
export const MAX_SETTINGS_BYTES = 16 * 1024;
/** Deepest nesting of `limits` or `module_settings` (PostgreSQL refuses very deep jsonb with an error). */
export const MAX_SETTINGS_DEPTH = 16;
/** Longest provider credential accepted, in characters. */
export const MAX_CREDENTIAL_LENGTH = 4096;

/** Model names of every provider we know: letters, digits and . _ : / @ + - ; a trailing "*" makes a prefix. */
const MODEL_PATTERN = /^[A-Za-z0-9._:/@+-]{0,200}\*?$/;
/** Provider names as the config allows them. */
const PROVIDER_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
/**
 * A credential becomes an HTTP header value upstream: visible ASCII only, so no CR/LF (header
 * injection), no spaces, no NUL and nothing a header parser could split on.
 */
const CREDENTIAL_PATTERN = /^[\x21-\x7e]+$/;

/** `name` quoted and cut to 64 characters, for messages about client-chosen names. */
export function quote(name: string): string {
  return JSON.stringify(name.length > 64 ? name.slice(0, 64) + "…" : name);
}

function invalid(field: string, problem: string): AdminError {
  return new AdminError("admin.invalid_request", `${field}: ${problem}`);
}

/** Checks that `value` is a JSON object and holds only `allowed` fields. */
export function readObject(value: unknown, allowed: readonly string[]): Body {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AdminError("admin.invalid_request", "body: must be a JSON object");
  }
  for (const field of Object.keys(value)) {
    if (!allowed.includes(field)) throw invalid(quote(field), `unknown field (allowed: ${allowed.join(", ") || "none"})`);
  }
  return value as Body;
}

/** A required or optional string of 1..max characters without control characters. */
export function readString(body: Body, field: string, opts: { required: true; max: number }): string;
export function readString(body: Body, field: string, opts: { required?: false; max: number }): string | undefined;
export function readString(body: Body, field: string, opts: { required?: boolean; max: number }): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (opts.required) throw invalid(field, "is required");
    return undefined;
  }
  if (typeof v !== "string") throw invalid(field, "must be a string");
  if (v.length === 0 || v.length > opts.max) throw invalid(field, `must be 1-${opts.max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(v)) throw invalid(field, "must not contain control characters");
  return v;
}

/** An optional tenant id (pattern-checked; existence is the caller's business). */
export function readTenantId(body: Body, field: string): string | undefined {
  const v = readString(body, field, { max: 63 });
  if (v !== undefined && !isTenantId(v)) throw invalid(field, "must match [a-z0-9][a-z0-9-]{0,62}");
  return v;
}

/** A tenant id or null (the shared default), required: `{"tenant_id": null}` must be explicit. */
export function readOwnerTenantId(body: Body, field: string): string | null {
  if (!(field in body)) throw invalid(field, "is required (a tenant id, or null for the shared credential)");
  if (body[field] === null) return null;
  const v = readTenantId(body, field);
  if (v === undefined) throw invalid(field, "must be a tenant id or null");
  return v;
}

function readList(body: Body, field: string): unknown[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw invalid(field, "must be a list of strings");
  if (v.length > MAX_POLICY_ENTRIES) throw invalid(field, `must have at most ${MAX_POLICY_ENTRIES} entries`);
  return v;
}

/** Optional list of provider names, each one configured in the gateway; duplicates removed. */
export function readProviderList(body: Body, field: string, known: ReadonlySet<string>): string[] | undefined {
  const list = readList(body, field);
  if (list === undefined) return undefined;
  list.forEach((p, i) => {
    if (typeof p !== "string" || !PROVIDER_PATTERN.test(p)) throw invalid(`${field}[${i}]`, "must be a provider name ([a-z0-9][a-z0-9-]*)");
    if (!known.has(p)) throw invalid(`${field}[${i}]`, `unknown provider ${quote(p)} (configured: ${[...known].join(", ")})`);
  });
  return [...new Set(list as string[])];
}

/** Optional list of model names or prefixes ("gpt-4o*"); duplicates removed. */
export function readModelList(body: Body, field: string): string[] | undefined {
  const list = readList(body, field);
  if (list === undefined) return undefined;
  list.forEach((m, i) => {
    if (typeof m !== "string" || m === "" || !MODEL_PATTERN.test(m)) {
      throw invalid(`${field}[${i}]`, "must be a model name of letters, digits and . _ : / @ + -, optionally ending in *");
    }
  });
  return [...new Set(list as string[])];
}

/** Optional tenant status. */
export function readTenantStatus(body: Body, field: string): TenantStatus | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (v !== "active" && v !== "disabled") throw invalid(field, 'must be "active" or "disabled"');
  return v;
}

/**
 * Optional ledger retention in days: an integer 0..3650 (0 = forever), or null = back to the
 * gateway default. Returns undefined when the field is absent (leave it unchanged).
 */
export function readRetentionDays(body: Body, field: string): number | null | undefined {
  if (!(field in body)) return undefined;
  const v = body[field];
  if (v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_RETENTION_DAYS) {
    throw invalid(field, `must be an integer in 0..${MAX_RETENTION_DAYS} (0 = forever) or null (the gateway default)`);
  }
  return v;
}

/** Optional JSON object (opaque settings), at most MAX_SETTINGS_BYTES once serialized. */
export function readSettings(body: Body, field: string): Record<string, unknown> | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(field, "must be a JSON object");
  if (depth(v) > MAX_SETTINGS_DEPTH) throw invalid(field, `must be nested at most ${MAX_SETTINGS_DEPTH} levels deep`);
  const text = JSON.stringify(v);
  if (Buffer.byteLength(text) > MAX_SETTINGS_BYTES) throw invalid(field, `must be at most ${MAX_SETTINGS_BYTES} bytes`);
  // PostgreSQL text and jsonb cannot hold NUL (\u0000); refuse it here instead of failing in SQL.
  if (text.includes("\\u0000")) throw invalid(field, "must not contain NUL characters");
  return v as Record<string, unknown>;
}

/**
 * Problems with the sections of a module_settings object the sidecar reads — the guard policy
 * (redact, injection), the audit policy and the quota limits — thrown as one 400 naming `field`.
 * Sections absent from `settings` are not looked at.
 */
function checkModuleSettings(settings: Record<string, unknown>, field: string): void {
  const problems: string[] = [...guardPolicyProblems(settings), ...auditSettingsProblems(settings.audit)];
  if (problems.length > 0) throw invalid(field, problems.join("; "));
  asAdminInput(() => parseTenantQuota(settings.quota, `${field}.quota.`));
}

/**
 * A module_settings patch (JSON Merge Patch, RFC 7396: objects merge member by member, null removes,
 * other values replace; merge-patch.ts). Checked on its own first, as the settings it would create
 * on a tenant that has none, so a bad value is refused before the database is touched; the merged
 * result is checked again by {@link checkMergedModuleSettings}. Null or absent: undefined (unchanged).
 */
export function readModuleSettingsPatch(body: Body, field: string): Record<string, unknown> | undefined {
  const patch = readSettings(body, field);
  if (patch === undefined) return undefined;
  checkModuleSettings(applyMergePatch({}, patch), field);
  return patch;
}

/**
 * Checks the settings a patch produced: the sections the patch named (a section it did not name is
 * stored as it was, and a tenant must stay editable even if an old one is off) and the total size.
 */
export function checkMergedModuleSettings(merged: Record<string, unknown>, patch: Record<string, unknown>, field: string): void {
  const touched: Record<string, unknown> = {};
  for (const key of Object.keys(patch)) if (Object.hasOwn(merged, key)) Object.defineProperty(touched, key, { value: merged[key], enumerable: true });
  checkModuleSettings(touched, field);
  if (Buffer.byteLength(JSON.stringify(merged)) > MAX_SETTINGS_BYTES) {
    throw invalid(field, `must be at most ${MAX_SETTINGS_BYTES} bytes once merged into the stored settings`);
  }
}

/** Nesting depth of a JSON value; stops counting past the limit (iterative: hostile input cannot overflow the stack). */
function depth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    max = Math.max(max, d);
    if (max > MAX_SETTINGS_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Optional integer in [min, max]. */
export function readInteger(body: Body, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw invalid(field, `must be an integer in ${min}..${max}`);
  return v;
}

/** Optional RFC 3339 timestamp with a time zone, strictly after `nowMs`. */
export function readFutureTimestamp(body: Body, field: string, nowMs: number): Date | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  // The zone is required: a bare local time would mean different instants on different replicas.
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(v)) {
    throw invalid(field, 'must be an RFC 3339 timestamp with a time zone, e.g. "2030-01-31T00:00:00Z"');
  }
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw invalid(field, "is not a valid date");
  if (ms <= nowMs) throw invalid(field, "must be in the future");
  return new Date(ms);
}

/** Required provider credential: 1..4096 visible ASCII characters. Never echoed. */
export function readCredential(body: Body, field: string): string {
  const v = body[field];
  if (v === undefined || v === null) throw invalid(field, "is required");
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_CREDENTIAL_LENGTH || !CREDENTIAL_PATTERN.test(v)) {
    throw invalid(field, `must be 1-${MAX_CREDENTIAL_LENGTH} visible ASCII characters (no spaces, line breaks or control characters)`);
  }
  return v;
}

/** Required provider name configured in the gateway. */
export function readKnownProvider(body: Body, field: string, known: ReadonlySet<string>): string {
  const v = readString(body, field, { required: true, max: 63 });
  if (!PROVIDER_PATTERN.test(v)) throw invalid(field, "must be a provider name ([a-z0-9][a-z0-9-]*)");
  if (!known.has(v)) throw invalid(field, `unknown provider ${quote(v)} (configured: ${[...known].join(", ")})`);
  return v;
}

// --- Query parameters (GET routes). Same message rule: the parameter name first. ---

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** One query parameter: undefined when absent; refused when given more than once. */
export function readQueryParam(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1) throw invalid(name, "must be given at most once");
  return all[0];
}

/** A required RFC 3339 timestamp with a time zone (query parameter). */
export function readQueryTimestamp(query: URLSearchParams, name: string): Date {
  const v = readQueryParam(query, name);
  if (v === undefined || v === "") throw invalid(name, 'is required (RFC 3339 with a time zone, e.g. "2030-01-31T00:00:00Z")');
  const m = RFC3339.exec(v);
  if (!m) throw invalid(name, 'must be an RFC 3339 timestamp with a time zone, e.g. "2030-01-31T00:00:00Z"');
  const ms = Date.parse(v);
  // Date.parse accepts impossible days (Feb 30); the calendar date must survive a round trip.
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const real = day.getUTCFullYear() === Number(m[1]) && day.getUTCMonth() === Number(m[2]) - 1 && day.getUTCDate() === Number(m[3]);
  if (!Number.isFinite(ms) || !real) throw invalid(name, "is not a valid date");
  return new Date(ms);
}

/** An optional exact-match filter: 0..max characters without control characters ("" is a value). */
export function readQueryFilter(query: URLSearchParams, name: string, max = 200): string | undefined {
  const v = readQueryParam(query, name);
  if (v === undefined) return undefined;
  if (v.length > max) throw invalid(name, `must be at most ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(v)) throw invalid(name, "must not contain control characters");
  return v;
}

/** An optional value out of `allowed` (query parameter); `fallback` when absent. */
export function readQueryChoice<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const v = readQueryParam(query, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw invalid(name, `must be one of ${allowed.join(", ")}`);
  return v as T;
}
