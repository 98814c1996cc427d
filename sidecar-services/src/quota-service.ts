// The quota decisions: Reserve (admission: count the request and reserve its estimated tokens and
// cost against every limit of the tenant and the key) and settle (the usage report corrects the
// reservation with the real usage, or releases it when the request never got an upstream answer).
// Transport is grpc-service.ts; counters are a QuotaStore (quota-redis.ts / quota-memory.ts).
import { isKeyId } from "./api-key.ts";
import { QUOTA_DENIALS, type QuotaDenialCode } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { costOf, type PriceTable } from "./prices.ts";
import type { LimitField, ScopeLimits } from "./quota-limits.ts";
import type { QuotaMetrics } from "./quota-metrics.ts";
import type { QuotaPolicyCache } from "./quota-policy.ts";
import { RESERVATION_ID, type QuotaScope, type QuotaStore } from "./quota-store.ts";
import { limitStates, tightest } from "./quota-usage.ts";
import { calendarWindows } from "./quota-windows.ts";
import { isTenantId } from "./tenants.ts";
import { MAX_REQUEST_ID_LENGTH, MAX_TOKENS, type UsageRecord } from "./usage-report.ts";

/** ReserveRequest as decoded by proto-loader (keepCase, longs as strings). */
export interface ReserveRequest {
  /** x-request-id: logs only (a client may choose it). */
  request_id: string;
  tenant_id: string;
  key_id: string;
  provider: string;
  model: string;
  estimated_prompt_tokens: string | number;
  max_output_tokens: string | number;
  /** Field 8: names the reservation (32 hex characters, random per request, made by the filter). */
  reservation_id: string;
  /** Field 9: the VM asks for a lease under this id (32 hex, random); "" = no lease wanted. */
  lease_id?: string;
  /**
   * Field 10: a lease renewal: the VM asks only for its next lease (lease_id) while it still
   * spends the current one; no request of its own is counted and reservation_id is "". The token
   * fields describe the request that prompted it (the lease must hold at least that much).
   */
  lease_only?: boolean;
  /** Fields 11, 12: what the VM expects to admit on the lease (0 = no estimate): caps its size. */
  lease_requests_wanted?: string | number;
  lease_tokens_wanted?: string | number;
}

/** LeaseReturn: a lease's unused part, sent by the quota module once per lease. */
export interface LeaseReturnRequest {
  tenant_id: string;
  lease_id: string;
  unused_requests: string | number;
  unused_tokens: string | number;
}

/** ReserveResponse (proto field names). */
export interface ReserveResponse {
  decision: "ALLOW" | "DENY";
  code: string;
  message: string;
  http_status: number;
  retry_after_s: number;
  has_request_limit: boolean;
  limit_requests: number;
  remaining_requests: number;
  reset_requests_ms: number;
  has_token_limit: boolean;
  limit_tokens: number;
  remaining_tokens: number;
  reset_tokens_ms: number;
  unmetered: boolean;
  no_limits_ttl_ms: number;
  /** A lease granted under ReserveRequest.lease_id (0 requests = none), valid lease_ttl_ms from now. */
  lease_requests: number;
  lease_tokens: number;
  lease_ttl_ms: number;
}

/**
 * modules.quota.lease_*: leases of requests and tokens held by the filter VMs (ADR 0004). ttlMs 0
 * = no leases (every limited request makes a Reserve call).
 */
export interface LeaseSettings {
  ttlMs: number;
  maxRequests: number;
  maxTokens: number;
}

/**
 * A lease takes at most 1/LEASE_DIVISOR of the smallest headroom left, and is not granted below
 * LEASE_MIN_REQUESTS requests: a lease is only granted with at least 64 requests of headroom, so
 * a small limit (and the last 64 requests of any limit) is decided per request, exactly.
 */
const LEASE_DIVISOR = 16;
const LEASE_MIN_REQUESTS = 4;
/** A lease shorter than this (the day ends) is not worth a Redis record. */
const LEASE_MIN_TTL_MS = 50;

export interface QuotaServiceDeps {
  store: QuotaStore;
  policies: QuotaPolicyCache;
  prices: PriceTable;
  metrics: QuotaMetrics;
  log: Logger;
  /** modules.quota.default_output_tokens: reserved when the request names no max_tokens. */
  defaultOutputTokens: number;
  /** Upper bound of no_limits_ttl_ms (sidecar.auth_cache_ttl_ms). */
  noLimitsTtlMs: number;
  /** Lifetime of a reservation record, seconds. */
  recordTtlS: number;
  /** Epoch ms clock. Default Date.now. */
  now?: () => number;
  /** Leases; absent or ttlMs 0 = none. */
  lease?: LeaseSettings;
}

export interface QuotaService {
  reserve(req: Partial<ReserveRequest>): Promise<ReserveResponse>;
  /**
   * Applies an accepted usage report; never throws (a failure leaves the reservation counted as
   * reserved). `costUsd`: the report's cost, priced by the caller from the same price table (the
   * usage recorder has it for the ledger row; null: unpriced).
   */
  settle(record: Omit<UsageRecord, "audit">, costUsd: number | null): Promise<void>;
  /** Gives back a lease's unused part; never throws (a failure leaves the units counted). */
  returnLease(req: Partial<LeaseReturnRequest>): Promise<{ returned: boolean }>;
}

const DENY_CODE: Record<LimitField, QuotaDenialCode> = {
  rpm: "quota.rpm_exceeded",
  tpm: "quota.tpm_exceeded",
  tpd: "quota.tpd_exceeded",
  tpmo: "quota.tpmo_exceeded",
  usd_per_day: "quota.budget_exhausted",
  usd_per_month: "quota.budget_exhausted",
};

const LIMIT_WORDS: Record<LimitField, string> = {
  rpm: "requests per minute",
  tpm: "tokens per minute",
  tpd: "tokens per day (UTC)",
  tpmo: "tokens per month (UTC)",
  usd_per_day: "USD per day (UTC)",
  usd_per_month: "USD per month (UTC)",
};

const EMPTY: Omit<ReserveResponse, "decision" | "code" | "message" | "http_status"> = {
  retry_after_s: 0,
  has_request_limit: false,
  limit_requests: 0,
  remaining_requests: 0,
  reset_requests_ms: 0,
  has_token_limit: false,
  limit_tokens: 0,
  remaining_tokens: 0,
  reset_tokens_ms: 0,
  unmetered: false,
  no_limits_ttl_ms: 0,
  lease_requests: 0,
  lease_tokens: 0,
  lease_ttl_ms: 0,
};

const CONTROL = /[\u0000-\u001f\u007f]/;

/** A uint64 decoded as a string (or a JS number) → an integer in 0..MAX_TOKENS, else null. */
function tokenCount(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d{1,20}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_TOKENS ? n : null;
}

/**
 * Micro-dollars, rounded up: a reservation or a charge never rounds in the tenant's favour. costOf
 * rounds to nano-dollars, so going through the integer nano amount keeps float noise
 * (0.000027 × 1e6 = 27.000000000000004) from adding a micro-dollar.
 */
function micro(usd: number | null): number {
  return usd === null ? 0 : Math.ceil(Math.round(usd * 1e9) / 1000);
}

/**
 * The most a lease may hold for this ask: the configured maxima, lowered to what the VM expects to
 * admit on it (0 = no estimate), but never below the minimum lease nor below this request's tokens
 * (a lease that cannot hold the request that asked is no lease).
 */
function leaseSize(cfg: LeaseSettings, r: ReserveRequest, tokens: number): { maxRequests: number; maxTokens: number } {
  const wantedRequests = tokenCount(r.lease_requests_wanted ?? 0)!;
  const wantedTokens = tokenCount(r.lease_tokens_wanted ?? 0)!;
  return {
    maxRequests: wantedRequests > 0 ? Math.min(cfg.maxRequests, Math.max(wantedRequests, LEASE_MIN_REQUESTS)) : cfg.maxRequests,
    maxTokens: wantedTokens > 0 ? Math.min(cfg.maxTokens, Math.max(wantedTokens, tokens)) : cfg.maxTokens,
  };
}

/** What is wrong with a Reserve request, or null. */
function invalidReason(req: Partial<ReserveRequest>): string | null {
  const id = req.request_id;
  if (typeof id !== "string" || id === "" || id.length > MAX_REQUEST_ID_LENGTH || CONTROL.test(id)) {
    return `request_id (x-request-id) must be 1-${MAX_REQUEST_ID_LENGTH} characters without control characters`;
  }
  if (req.lease_only === true) {
    if (typeof req.lease_id !== "string" || !RESERVATION_ID.test(req.lease_id)) return "a lease renewal (lease_only) needs a lease_id of 32 lowercase hex characters";
    if (req.reservation_id !== "" && req.reservation_id !== undefined) return "a lease renewal (lease_only) reserves no request: reservation_id must be empty";
  } else if (typeof req.reservation_id !== "string" || !RESERVATION_ID.test(req.reservation_id)) {
    return "reservation_id must be 32 lowercase hex characters";
  }
  if (req.lease_id !== undefined && req.lease_id !== "" && (typeof req.lease_id !== "string" || !RESERVATION_ID.test(req.lease_id))) {
    return "lease_id must be 32 lowercase hex characters or empty";
  }
  if (typeof req.tenant_id !== "string" || !isTenantId(req.tenant_id)) return "tenant_id must be a tenant id";
  if (typeof req.key_id !== "string" || (req.key_id !== "" && !isKeyId(req.key_id))) return "key_id must be a key id or empty";
  if (typeof req.provider !== "string" || req.provider.length > 64 || CONTROL.test(req.provider)) return "provider must be at most 64 characters";
  if (typeof req.model !== "string" || req.model.length > 200 || CONTROL.test(req.model)) return "model must be at most 200 characters";
  if (tokenCount(req.estimated_prompt_tokens ?? 0) === null || tokenCount(req.max_output_tokens ?? 0) === null) {
    return `token counts must be integers in 0..${MAX_TOKENS}`;
  }
  if (tokenCount(req.lease_requests_wanted ?? 0) === null || tokenCount(req.lease_tokens_wanted ?? 0) === null) {
    return `lease_requests_wanted and lease_tokens_wanted must be integers in 0..${MAX_TOKENS}`;
  }
  return null;
}

/** Ms between two log lines about the same store failure: an outage must not become a line per request. */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * A warning logged at most once per interval, with the number of occurrences since the last line.
 * The metrics count every occurrence.
 */
function throttledWarn(log: Logger, message: string, now: () => number): (fields: Record<string, unknown>) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fields) => {
    const t = now();
    if (t - last < FAILURE_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    log.warn(message, { ...fields, suppressed_since_last: suppressed });
    last = t;
    suppressed = 0;
  };
}

export function createQuotaService(deps: QuotaServiceDeps): QuotaService {
  const now = deps.now ?? Date.now;
  const { store, policies, metrics, log } = deps;
  const warnReserveFailed = throttledWarn(log, "quota store failed; applying the tenant's on_store_failure", now);
  const warnReturnFailed = throttledWarn(log, "quota lease return failed; its unused units stay counted", now);
  const warnSettleFailed = throttledWarn(log, "quota settle failed; the reservation stays counted at its estimate", now);

  const deny = (code: QuotaDenialCode, message: string, extra: Partial<ReserveResponse> = {}): ReserveResponse => ({
    ...EMPTY,
    decision: "DENY",
    code,
    message,
    http_status: QUOTA_DENIALS[code].httpStatus,
    ...extra,
  });
  const allow = (extra: Partial<ReserveResponse> = {}): ReserveResponse => ({ ...EMPTY, decision: "ALLOW", code: "", message: "", http_status: 0, ...extra });

  const decide = async (req: Partial<ReserveRequest>): Promise<ReserveResponse> => {
    const bad = invalidReason(req);
    if (bad) return deny("quota.invalid_request", `Invalid request: ${bad}.`);
    const r = req as ReserveRequest;
    const policy = await policies.get(r.tenant_id, r.key_id);
    const t = now();
    if (!policy.tenantExists) return deny("quota.invalid_request", "Invalid request: unknown tenant.");
    if (policy.unlimited) {
      // The filter may skip Reserve for this pair until our own cached answer would be reloaded.
      return allow({ no_limits_ttl_ms: Math.max(0, Math.min(deps.noLimitsTtlMs, policy.expiresAt - t)) });
    }

    const prompt = tokenCount(r.estimated_prompt_tokens ?? 0)!;
    const output = tokenCount(r.max_output_tokens ?? 0)! || deps.defaultOutputTokens;
    const tokens = prompt + output;
    // Unknown model: no price, so the reservation carries no cost (the report's cost is 0 too).
    const cost = micro(costOf(deps.prices, { provider: r.provider, model: r.model, prompt_tokens: prompt, completion_tokens: output, cached_tokens: 0 }).costUsd);

    // A lease never outlives the calendar day it is counted in (nor, so, its month).
    const leaseTtl = deps.lease && r.lease_id ? Math.min(deps.lease.ttlMs, calendarWindows(t).dayEndMs - t) : 0;
    const lease =
      deps.lease && r.lease_id && leaseTtl >= LEASE_MIN_TTL_MS
        ? { id: r.lease_id, ...leaseSize(deps.lease, r, tokens), divisor: LEASE_DIVISOR, minRequests: LEASE_MIN_REQUESTS, renewal: r.lease_only === true }
        : undefined;
    // A renewal that cannot have a lease (leases off, the day ending) has nothing to count.
    if (r.lease_only === true && !lease) return allow();
    let result;
    try {
      result = await store.reserve({
        lease,
        tenantId: r.tenant_id,
        keyId: r.key_id,
        reservationId: r.reservation_id,
        nowMs: t,
        tokens,
        costMicro: cost,
        tenant: policy.tenant,
        key: policy.key,
        recordTtlS: deps.recordTtlS,
      });
    } catch (err) {
      warnReserveFailed({ tenant_id: r.tenant_id, policy: policy.onStoreFailure, error: err });
      if (policy.onStoreFailure === "open") {
        // Not counted, and never settled (there is no reservation record to settle).
        if (r.lease_only !== true) metrics.unmetered(r.tenant_id);
        return allow({ unmetered: true });
      }
      return deny("quota.unavailable", QUOTA_DENIALS["quota.unavailable"].message, { retry_after_s: 1 });
    }

    const states = [...limitStates(policy.tenant, result.tenant, t), ...(result.key ? limitStates(policy.key, result.key, t) : [])];
    const { requests, tokens: tok } = tightest(states);
    const headers: Partial<ReserveResponse> = {
      has_request_limit: requests !== null,
      limit_requests: requests?.limit ?? 0,
      remaining_requests: requests?.remaining ?? 0,
      reset_requests_ms: requests?.resetMs ?? 0,
      has_token_limit: tok !== null,
      limit_tokens: tok?.limit ?? 0,
      remaining_tokens: tok?.remaining ?? 0,
      reset_tokens_ms: tok?.resetMs ?? 0,
    };
    if (result.allowed) {
      const l = result.lease;
      if (l) metrics.leasesGranted.inc();
      return allow(l ? { ...headers, lease_requests: l.requests, lease_tokens: l.tokens, lease_ttl_ms: leaseTtl } : headers);
    }
    const { scope, limit } = result.deniedBy!;
    const limits = scope === "tenant" ? policy.tenant : policy.key;
    return deny(DENY_CODE[limit], denyMessage(scope, limit, limits), { ...headers, retry_after_s: result.retryAfterS });
  };

  return {
    async reserve(req) {
      const stop = metrics.reserveDuration.startTimer();
      try {
        const res = await decide(req);
        // A renewal decides no request: it has its own counter.
        if (req.lease_only === true) metrics.leaseRenewal.inc({ result: res.lease_requests > 0 ? "granted" : res.decision === "DENY" ? "refused" : "none" });
        else metrics.decision(typeof req.tenant_id === "string" && isTenantId(req.tenant_id) ? req.tenant_id : "", res.code || "ok");
        return res;
      } finally {
        stop();
      }
    },
    async settle(record, costUsd) {
      if (record.tenant_id === "" || !isTenantId(record.tenant_id)) return;
      // Only the quota module's random id names a reservation: a report without one (tenant
      // without limits, module off, unmetered) has nothing to settle and costs no Redis call.
      if (record.reservation_id === "") {
        metrics.settle.inc({ result: "none" });
        return;
      }
      if (!record.upstream_responded && record.status === 0) {
        // The client left before any answer: the request may have reached the provider, which
        // may still do (and bill) the work, and no usage came back. Keep the reservation at its
        // estimate rather than give back what may have been spent.
        metrics.settle.inc({ result: "kept" });
        return;
      }
      // No upstream answer (a local reply: connect failure, timeout, a refusal by a filter after
      // quota) or a provider 5xx: the request is not counted at all.
      const release = !record.upstream_responded || record.status >= 500;
      const cost = micro(costUsd);
      try {
        const result = await store.settle({
          tenantId: record.tenant_id,
          reservationId: record.reservation_id,
          nowMs: now(),
          release,
          tokens: record.prompt_tokens + record.completion_tokens,
          costMicro: cost,
        });
        metrics.settle.inc({ result });
      } catch (err) {
        // The reservation stays counted at its estimate until its windows pass (conservative).
        metrics.settle.inc({ result: "error" });
        warnSettleFailed({ tenant_id: record.tenant_id, request_id: record.request_id.slice(0, 128), error: err });
      }
    },
    async returnLease(req) {
      const requests = tokenCount(req.unused_requests ?? 0);
      const tokens = tokenCount(req.unused_tokens ?? 0);
      if (typeof req.tenant_id !== "string" || !isTenantId(req.tenant_id) || typeof req.lease_id !== "string" || !RESERVATION_ID.test(req.lease_id)) {
        return { returned: false };
      }
      if (requests === null || tokens === null) return { returned: false };
      try {
        const result = await store.returnLease({ tenantId: req.tenant_id, leaseId: req.lease_id, nowMs: now(), requests, tokens });
        metrics.leaseReturn.inc({ result });
        return { returned: result === "returned" };
      } catch (err) {
        // The unused units stay counted until their windows pass (conservative, like a failed settle).
        metrics.leaseReturn.inc({ result: "error" });
        warnReturnFailed({ tenant_id: req.tenant_id, error: err });
        return { returned: false };
      }
    },
  };
}

/** Client-facing denial text: the scope, the limit and its value; never ids or counters of others. */
function denyMessage(scope: QuotaScope, limit: LimitField, l: ScopeLimits): string {
  const value = { rpm: l.rpm, tpm: l.tpm, tpd: l.tpd, tpmo: l.tpmo, usd_per_day: l.usdDayMicro / 1e6, usd_per_month: l.usdMonthMicro / 1e6 }[limit];
  const who = scope === "tenant" ? "this API key's tenant" : "this API key";
  return `${QUOTA_DENIALS[DENY_CODE[limit]].message} Limit of ${who}: ${value} ${LIMIT_WORDS[limit]}.`;
}
