// The sidecar's one error registry: every denial the Authorize RPC returns and every failure it
// reports is listed here with a stable code, so the filters, the README table and the tests all
// agree on the same strings. Codes are `<area>.<reason>`; never rename one, clients match on them.
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
  "sidecar.internal": { grpcStatus: GrpcStatus.INTERNAL, httpStatus: 500, message: "Internal sidecar error." },
} as const satisfies Record<string, FailureSpec>;

/** Stable code of a deliberate refusal, e.g. `auth.invalid_key`. */
export type DenialCode = keyof typeof DENIALS;
/** Stable code of a sidecar failure, e.g. `sidecar.db_unavailable`. */
export type FailureCode = keyof typeof FAILURES;

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

/** Maps any error thrown while handling a request to its registry failure code. */
export function failureCodeOf(err: unknown): FailureCode {
  return err instanceof DependencyError ? err.code : "sidecar.internal";
}
