// The sidecar's one error registry: every denial the Authorize RPC returns, every failure it
// reports and every error the admin API answers with is listed here with a stable code, so the
// filters, the CLI, the README tables and the tests all agree on the same strings. Codes are
// `<area>.<reason>`; never rename one, clients match on them.
import { status as GrpcStatus } from "@grpc/grpc-js";

/** A registry entry for a request the sidecar refuses on purpose (answered with DENY). */
export interface DenialSpec {
  /** HTTP status the filter answers the client with. */
  readonly httpStatus: number;
  /** Client-facing message; must never contain a key, a secret or internal detail. */
  readonly message: string;
}

/** A registry entry for a request the sidecar could not decide (answered with a gRPC error status). */
export interface FailureSpec {
  /** gRPC status returned to the filter; the filter maps any non-OK status to its failure mode. */
  readonly grpcStatus: GrpcStatus;
  /** HTTP status a fail-closed filter answers with. */
  readonly httpStatus: number;
  /** Message sent as the gRPC status details; generic on purpose (causes go to the log only). */
  readonly message: string;
}

export const DENIALS = {
  "auth.missing_key": {
    httpStatus: 401,
    message: "Missing API key. Send your Leash key as 'Authorization: Bearer lsh_...'.",
  },
  "auth.invalid_key": { httpStatus: 401, message: "Invalid API key." },
  "auth.key_revoked": { httpStatus: 401, message: "This API key has been revoked." },
  "auth.key_expired": { httpStatus: 401, message: "This API key has expired." },
  "auth.tenant_disabled": { httpStatus: 403, message: "This API key's tenant is disabled." },
  "auth.provider_not_allowed": { httpStatus: 403, message: "This API key may not use this provider." },
  "gateway.unknown_provider": { httpStatus: 400, message: "This route points to an unknown provider." },
} as const satisfies Record<string, DenialSpec>;

export const FAILURES = {
  "sidecar.db_unavailable": {
    grpcStatus: GrpcStatus.UNAVAILABLE,
    httpStatus: 503,
    message: "Key store temporarily unavailable.",
  },
  "sidecar.store_unavailable": {
    grpcStatus: GrpcStatus.UNAVAILABLE,
    httpStatus: 503,
    message: "Cache temporarily unavailable.",
  },
  "sidecar.credential_unavailable": {
    grpcStatus: GrpcStatus.INTERNAL,
    httpStatus: 500,
    message: "Provider credential unavailable.",
  },
  "sidecar.internal": { grpcStatus: GrpcStatus.INTERNAL, httpStatus: 500, message: "Internal sidecar error." },
} as const satisfies Record<string, FailureSpec>;

/**
 * Denials of the Reserve RPC (quota module). Kept apart from DENIALS, which are Authorize's: the
 * quota module answers them with `Retry-After` and the x-ratelimit headers. Documented in
 * docs/quotas.md (checked by test/integration/sidecar-quota-admin.test.ts).
 */
export const QUOTA_DENIALS = {
  "quota.rpm_exceeded": { httpStatus: 429, message: "Request rate limit reached (requests per minute)." },
  "quota.tpm_exceeded": { httpStatus: 429, message: "Token rate limit reached (tokens per minute)." },
  "quota.tpd_exceeded": { httpStatus: 429, message: "Daily token limit reached." },
  "quota.tpmo_exceeded": { httpStatus: 429, message: "Monthly token limit reached." },
  "quota.budget_exhausted": { httpStatus: 429, message: "Spending budget exhausted." },
  "quota.unavailable": { httpStatus: 503, message: "Quota service temporarily unavailable." },
  "quota.invalid_request": { httpStatus: 400, message: "Invalid request for quota admission." },
} as const satisfies Record<string, DenialSpec>;

/** Stable code of a quota denial, e.g. `quota.rpm_exceeded`. */
export type QuotaDenialCode = keyof typeof QUOTA_DENIALS;

/** A registry entry of the admin API: the HTTP status and a default message. */
export interface AdminErrorSpec {
  readonly httpStatus: number;
  /** Default message; handlers may give a more precise one (naming the field), never internals. */
  readonly message: string;
}

/** Errors of the admin API, answered as `{"error":{"code","message"}}` with `httpStatus`. */
export const ADMIN_ERRORS = {
  "admin.unauthorized": { httpStatus: 401, message: "Missing or wrong admin token (Authorization: Bearer <token>)." },
  "admin.invalid_request": { httpStatus: 400, message: "Invalid request." },
  "admin.not_found": { httpStatus: 404, message: "Not found." },
  "admin.method_not_allowed": { httpStatus: 405, message: "Method not allowed on this path." },
  "admin.conflict": { httpStatus: 409, message: "The request conflicts with the current state." },
  "admin.no_master_key": {
    httpStatus: 409,
    message: "No master key is configured (LEASH_MASTER_KEY, LEASH_MASTER_KEYS or LEASH_MASTER_KEY_FILE); provider credentials cannot be stored.",
  },
  "admin.payload_too_large": { httpStatus: 413, message: "Request body too large." },
  "admin.unavailable": { httpStatus: 503, message: "Database or cache temporarily unavailable." },
  "admin.internal": { httpStatus: 500, message: "Internal error." },
} as const satisfies Record<string, AdminErrorSpec>;

/** Stable code of a deliberate refusal, e.g. `auth.invalid_key`. */
export type DenialCode = keyof typeof DENIALS;
/** Stable code of a sidecar failure, e.g. `sidecar.db_unavailable`. */
export type FailureCode = keyof typeof FAILURES;
/** Stable code of an admin API error, e.g. `admin.not_found`. */
export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

/** Which backing service failed; selects the failure code. */
export type Dependency = "db" | "store";

/**
 * Thrown when PostgreSQL/PGlite or Redis/the in-process store fails during a request. Carries the
 * original error for the log; the client only ever sees the registry message.
 */
export class DependencyError extends Error {
  readonly code: FailureCode;
  constructor(
    readonly dependency: Dependency,
    cause: unknown,
  ) {
    super(`${dependency} call failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "DependencyError";
    this.code = dependency === "db" ? "sidecar.db_unavailable" : "sidecar.store_unavailable";
  }
}

/**
 * Thrown when a stored provider credential exists for the request but cannot be decrypted (no
 * master key, its key missing from the ring, or altered). The request fails instead of going
 * upstream with another credential. `reason` is for the log and never holds key material.
 */
export class CredentialUnavailableError extends Error {
  readonly code: FailureCode = "sidecar.credential_unavailable";
  constructor(
    readonly reason: string,
    /** Whose credential: tenant id (null = shared) and provider, safe to log. */
    readonly owner: { tenantId: string | null; provider: string },
  ) {
    super(`provider credential of ${owner.tenantId ?? "*"}/${owner.provider} unavailable: ${reason}`);
    this.name = "CredentialUnavailableError";
  }
}

/** Maps any error thrown while handling a request to its registry failure code. */
export function failureCodeOf(err: unknown): FailureCode {
  return err instanceof DependencyError || err instanceof CredentialUnavailableError ? err.code : "sidecar.internal";
}

/**
 * An admin operation refused with a registry code (not found, conflict, invalid field). The
 * message is safe to return to the admin client: it names ids and fields, never secrets.
 */
export class AdminError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string = ADMIN_ERRORS[code].message,
  ) {
    super(message);
    this.name = "AdminError";
  }
}
