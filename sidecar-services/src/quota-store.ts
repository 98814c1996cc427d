// The quota counter seam: Redis (quota-redis.ts, one Lua script per operation, exact across
// replicas) or an in-process map (quota-memory.ts, the embedded mode). Both implement the same
// semantics, and the same tests run against both. The layout below is the Redis one; the memory
// store uses the same names so readouts and tests can speak of one layout.
//
//   <prefix>q:{<tenant>}:m:<scope>                 hash: r<epoch s> = requests, t<epoch s> = tokens
//                                                  (one-second buckets of the rolling minute; TTL 61 s);
//                                                  Redis only: R, T running totals of the buckets from
//                                                  second o on (quota-lua.ts); readers skip them
//   <prefix>q:{<tenant>}:d:<scope>:<YYYYMMDD>      hash: req, tok, usd (micro-dollars) of a UTC day
//   <prefix>q:{<tenant>}:mo:<scope>:<YYYYMM>       hash: req, tok, usd of a UTC month
//   <prefix>q:{<tenant>}:res:<reservation id>      hash: s, d, m, k, tok, usd — one reservation
//   <prefix>q:{<tenant>}:lease:<lease id>          hash: s, d, m, k, req, tok (granted), ret (returned)
//                                                  — one lease (Redis only: the memory store grants none)
//
// <scope> is `t` (the tenant) or `k:<key id>`. Every key of a tenant carries the hash tag
// {<tenant>}, so one script's keys share a Redis Cluster slot.
import type { LimitField, ScopeLimits } from "./quota-limits.ts";
import type { ScopeUsage } from "./quota-windows.ts";

/** One Reserve as the store executes it. */
export interface ReservePlan {
  tenantId: string;
  /** "" = no key scope (only the tenant's counters). */
  keyId: string;
  /** The quota module's random id of this request's reservation (never the client's x-request-id). */
  reservationId: string;
  /** Epoch ms of the decision; selects buckets and calendar windows. */
  nowMs: number;
  /** Tokens to reserve (prompt estimate + output allowance), ≥ 0. */
  tokens: number;
  /** Estimated cost in micro-dollars, ≥ 0. */
  costMicro: number;
  tenant: ScopeLimits;
  /** The key's limits (NO_LIMITS when it has none; its counters are kept anyway). */
  key: ScopeLimits;
  /** Lifetime of the reservation record, seconds (longer than the longest provider timeout). */
  recordTtlS: number;
  /** Ask for a lease along with this request (see LeaseAsk); absent = none. */
  lease?: LeaseAsk;
}

/**
 * A lease the filter VM asks for: requests and tokens it may admit without a call (ADR 0004).
 * Sized at most maxRequests / maxTokens and at most 1/divisor of the smallest headroom left after
 * this request; none below minRequests requests (near a limit each request is decided exactly).
 */
export interface LeaseAsk {
  /** The VM's 128 random bits (32 hex): names the lease record; leased usage reports carry it. */
  id: string;
  maxRequests: number;
  maxTokens: number;
  divisor: number;
  minRequests: number;
  /**
   * A renewal: the VM asks for its next lease while it still spends the current one, with no
   * request of its own. Nothing but the lease is counted and no reservation record is written; the
   * plan's tokens are one request's estimate (the lease must hold at least that), and its limits are
   * checked as for one more request (a renewal that would be refused gets no lease).
   */
  renewal?: boolean;
}

/** A granted lease (already counted in the store). */
export interface LeaseGrant {
  requests: number;
  tokens: number;
}

/** A lease's unused part, given back by the VM once (when it expires or is replaced). */
export interface LeaseReturn {
  tenantId: string;
  leaseId: string;
  nowMs: number;
  requests: number;
  tokens: number;
}

/** `returned`; `repeated`: this lease was returned before (nothing moves); `none`: no such lease. */
export type LeaseReturnResult = "returned" | "repeated" | "none";

/** Which scope a limit belongs to. */
export type QuotaScope = "tenant" | "key";

export interface ReserveResult {
  allowed: boolean;
  /** On DENY: the first failing check (tenant before key; rpm, tpm, tpd, tpmo, usd_per_day, usd_per_month). */
  deniedBy: { scope: QuotaScope; limit: LimitField } | null;
  /** On DENY: seconds until every failing limit has room (≥ 1). 0 on ALLOW. */
  retryAfterS: number;
  /** Counters after the reservation (ALLOW) or as found (DENY). */
  tenant: ScopeUsage;
  /** Null without a key scope. */
  key: ScopeUsage | null;
  /** The lease granted with this request, or null. */
  lease: LeaseGrant | null;
}

/** A finished request's settlement. */
export interface SettleInput {
  tenantId: string;
  /** A reservation id, or a leased request's "<lease id>.<tokens counted against the lease>". */
  reservationId: string;
  nowMs: number;
  /** True: undo the reservation entirely (no upstream answer, or a 5xx). */
  release: boolean;
  /** Actual tokens and cost (ignored when releasing). */
  tokens: number;
  costMicro: number;
}

/**
 * - `settled`: counters moved by actual − reserved; `released`: the reservation was undone;
 * - `none`: no reservation under this id (already settled, never reserved, or expired).
 */
export type SettleResult = "settled" | "released" | "none";

export interface QuotaStore {
  readonly kind: "redis" | "memory";
  /** Checks every limit of the plan and, if all pass, counts it: atomically. Throws when the store fails. */
  reserve(plan: ReservePlan): Promise<ReserveResult>;
  /** Applies a usage report to its reservation; idempotent (the record is deleted). Throws when the store fails. */
  settle(input: SettleInput): Promise<SettleResult>;
  /** Gives back a lease's unused part (once). Throws when the store fails. */
  returnLease(input: LeaseReturn): Promise<LeaseReturnResult>;
  /** Current counters of a scope (keyId "" = the tenant's). Throws when the store fails. */
  read(tenantId: string, keyId: string, nowMs: number): Promise<ScopeUsage>;
  close(): Promise<void>;
}

/** Scope part of a key: `t` or `k:<key id>`. */
export function scopeName(keyId: string): string {
  return keyId === "" ? "t" : `k:${keyId}`;
}

/** Full key names of one scope's counters at the given calendar windows. */
export function counterKeys(prefix: string, tenantId: string, keyId: string, day: string, month: string): [string, string, string] {
  const base = `${prefix}q:{${tenantId}}:`;
  const scope = scopeName(keyId);
  return [`${base}m:${scope}`, `${base}d:${scope}:${day}`, `${base}mo:${scope}:${month}`];
}

/** Full key name of a reservation record. */
export function reservationKey(prefix: string, tenantId: string, reservationId: string): string {
  return `${prefix}q:{${tenantId}}:res:${reservationId}`;
}

/** Full key name of a lease record. */
export function leaseKey(prefix: string, tenantId: string, leaseId: string): string {
  return `${prefix}q:{${tenantId}}:lease:${leaseId}`;
}

/** A reservation or lease id as the quota module makes it: 128 random bits in lowercase hex. */
export const RESERVATION_ID = /^[0-9a-f]{32}$/;

/**
 * What a leased request's usage report names: the lease id and the tokens the filter counted
 * against the lease for it ("<32 hex>.<tokens>"). Like a reservation id, only the filter writes it.
 */
export const LEASED_USE = /^([0-9a-f]{32})\.(\d{1,15})$/;

/** Check order: index i of a store's deny number (1-based) → scope and limit. */
export const CHECKS: readonly { scope: QuotaScope; limit: LimitField }[] = (["tenant", "key"] as const).flatMap((scope) =>
  (["rpm", "tpm", "tpd", "tpmo", "usd_per_day", "usd_per_month"] as const).map((limit) => ({ scope, limit })),
);

/** Limits in the argument order of the scripts. */
export function limitArgs(l: ScopeLimits): number[] {
  return [l.rpm, l.tpm, l.tpd, l.tpmo, l.usdDayMicro, l.usdMonthMicro];
}
