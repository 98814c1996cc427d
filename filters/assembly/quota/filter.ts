// The quota module: admits each request on a provider route against its tenant's and key's limits
// with one Reserve call to the sidecar (which reserves the request and an estimate of its tokens
// in Redis, atomically across replicas), then forwards it or answers 429/503 in the route's API
// format. The request is held, headers and body, until the answer: a refused request never
// reaches the provider. The reservation is named by a random id the client never sees nor
// chooses (filter state leash.quota.reservation); the usage module sends it back with its report,
// which settles the reservation.
// Every response of an admitted request carries OpenAI's x-ratelimit-* headers.
// With settings.lease, a Reserve may also grant this VM a lease (leases.ts): later requests of the
// same tenant and key that fit it are admitted here without any call; a leased request names
// "<lease id>.<tokens it took>" as its reservation, which settles it against the lease. When half
// of a lease is spent the root asks for the next one in the background (a renewal), so in steady
// state no request waits for the sidecar.
import { RootContext, HttpContext, CallReply } from "../sdk/context";
import { HeadersAction, DataAction, BufferType, HeaderMap } from "../sdk/abi";
import { grpcCall, grpcCallDetached, grpcServiceForCluster } from "../sdk/callouts";
import { continueRequest, getBuffer, getPropertyString, getRequestHeader, logError, logInfo, logWarn, nowMillis, randomHex, removeHeader, replaceHeader, setProperty, setTickPeriod } from "../sdk/host";
import { enableTiming } from "../sdk/timing";
import { ApiFormat, denyRequest } from "../sdk/api-error";
import { Counter } from "../sdk/metrics";
import { Route, matchRoute } from "../sdk/routes";
import { QuotaConfig, parseQuotaConfig, EXPECTED_SHAPE } from "./config";
import { estimatePromptTokens, requestFacts, RequestFacts } from "./estimate";
import { NoLimitsCache } from "./no-limits-cache";
import { REQUEST_HEADERS, TOKEN_HEADERS, ANTHROPIC_REQUEST_HEADERS, ANTHROPIC_TOKEN_HEADERS, rateLimitHeaders, anthropicRateLimitHeaders } from "./rate-limit-headers";
import { SERVICE, METHOD, RETURN_METHOD, Decision, RateLimits, ReserveRequest, ReserveResponse, encodeReserveRequest, decodeReserveResponse, encodeLeaseReturn } from "./reserve-pb";
import { Lease, LeaseTable } from "./leases";

/**
 * Filter state naming this request's reservation, read by the usage module for its report. Set
 * only once the sidecar admitted the request (see decide).
 */
export const RESERVATION_PROPERTY: string = "leash.quota.reservation";

/**
 * Bytes of randomness in a reservation id (32 hex characters). 128 bits: a client that wants to
 * settle someone else's reservation can neither choose the id (it is not x-request-id) nor guess it.
 */
const RESERVATION_ID_BYTES: i32 = 16;

/** How often expired leases are retired and unused units given back (ReturnLease). */
const LEASE_TICK_MS: u32 = 100;

export class QuotaRoot extends RootContext {
  config: QuotaConfig = new QuotaConfig();
  upstream: ArrayBuffer = new ArrayBuffer(0);
  noLimits: NoLimitsCache = new NoLimitsCache(0);
  allowed: Counter = new Counter("leash_quota.allowed");
  denied: Counter = new Counter("leash_quota.denied");
  sidecarErrors: Counter = new Counter("leash_quota.sidecar_errors");
  /** Admitted by the sidecar without counting (Redis down, tenant fails open). */
  unmetered: Counter = new Counter("leash_quota.unmetered");
  /** Provider requests without a tenant (auth off, or failed open): never limited. */
  noTenant: Counter = new Counter("leash_quota.no_tenant");
  noLimitsHits: Counter = new Counter("leash_quota.no_limits_cache_hits");
  leases: LeaseTable = new LeaseTable();
  /** Admitted on a lease, without a Reserve call. */
  leased: Counter = new Counter("leash_quota.leased");
  leasesGranted: Counter = new Counter("leash_quota.leases_granted");
  /** Unused parts of leases sent back; failed ones stay counted in Redis (conservative). */
  leaseReturns: Counter = new Counter("leash_quota.lease_returns");
  leaseReturnErrors: Counter = new Counter("leash_quota.lease_return_errors");
  /** Renewals asked for in the background (a lease half spent), and the failed ones. */
  leaseRenewals: Counter = new Counter("leash_quota.lease_renewals");
  leaseRenewalErrors: Counter = new Counter("leash_quota.lease_renewal_errors");
  /** Renewal calls in flight: token → what they ask for. */
  renewals: Map<u32, ReserveRequest> = new Map<u32, ReserveRequest>();

  onConfigure(configuration: string): bool {
    const r = parseQuotaConfig(configuration);
    if (r.config == null) {
      logError("quota: invalid plugin configuration: " + r.error + "; expected shape: " + EXPECTED_SHAPE);
      return false;
    }
    this.config = r.config!;
    enableTiming(this, "quota");
    this.upstream = grpcServiceForCluster(this.config.sidecarCluster);
    // Limits may have changed with the configuration's sidecar: forget what was known.
    this.noLimits = new NoLimitsCache(this.config.noLimitsMaxEntries);
    // Leases of the previous configuration are left to expire in Redis' accounting: their unused
    // units stay counted (conservative) rather than be spent under a configuration that has none.
    this.leases = new LeaseTable();
    this.renewals.clear();
    if (this.config.lease && !setTickPeriod(LEASE_TICK_MS)) logWarn("quota: no timer; unused lease units are given back only when a lease is replaced");
    logInfo("quota: configured with " + this.config.routes.length.toString() + " routes, failure_mode=" +
      (this.config.failOpen ? "open" : "closed"));
    return true;
  }

  newHttpContext(id: u32): HttpContext { return new QuotaStream(id, this); }

  onTick(): void {
    this.leases.expire(nowMillis());
    this.sendReturns();
  }

  /** One ReturnLease per retired lease with unused units; what cannot be sent waits for the next tick. */
  sendReturns(): void {
    const returns = this.leases.returns;
    while (returns.length > 0) {
      const l = returns[0];
      const token = grpcCallDetached(this, this.upstream, SERVICE, RETURN_METHOD, new Array<string>(0),
        encodeLeaseReturn(l.tenantId, l.id, l.requests, l.tokens), this.config.timeoutMs);
      if (token == 0) return;
      returns.shift();
      this.leaseReturns.increment(1);
    }
  }

  /**
   * Asks in the background for the pair's next lease, for a request like `r` (a renewal: the
   * sidecar counts only the lease). Nothing waits for it; without an answer the pair goes on with
   * what it holds, then Reserves per request as without leases.
   */
  renew(cacheKey: string, r: ReserveRequest, tokens: u64, now: u64): void {
    const ask = new ReserveRequest();
    ask.requestId = r.requestId;
    ask.tenantId = r.tenantId;
    ask.keyId = r.keyId;
    ask.provider = r.provider;
    ask.model = r.model;
    ask.estimatedPromptTokens = r.estimatedPromptTokens;
    ask.maxOutputTokens = r.maxOutputTokens;
    ask.leaseOnly = true;
    const want = this.leases.wanted(cacheKey, tokens, now);
    ask.leaseRequestsWanted = want.requests;
    ask.leaseTokensWanted = want.tokens;
    ask.leaseId = randomHex(RESERVATION_ID_BYTES);
    if (ask.leaseId.length == 0) return;
    const token = grpcCallDetached(this, this.upstream, SERVICE, METHOD, new Array<string>(0), encodeReserveRequest(ask), this.config.timeoutMs);
    if (token == 0) {
      this.leaseRenewalErrors.increment(1);
      return;
    }
    this.leases.asked(cacheKey, now + <u64>this.config.timeoutMs);
    this.renewals.set(token, ask);
    this.leaseRenewals.increment(1);
  }

  /** A renewal answered, or a ReturnLease finished (a failed one leaves the units counted until their windows pass). */
  onCallReply(reply: CallReply): void {
    if (this.renewals.has(reply.token)) {
      const ask = this.renewals.get(reply.token);
      this.renewals.delete(reply.token);
      this.renewed(ask, reply);
      return;
    }
    if (!reply.ok) this.leaseReturnErrors.increment(1);
  }

  /** Holds the renewal's lease, if any; a refusal, an error or no lease leaves the pair as it was. */
  renewed(ask: ReserveRequest, reply: CallReply): void {
    const key = NoLimitsCache.keyOf(ask.tenantId, ask.keyId);
    this.leases.answered(key);
    if (!reply.ok) {
      this.leaseRenewalErrors.increment(1);
      return;
    }
    const answer = decodeReserveResponse(reply.body);
    if (answer == null) {
      this.leaseRenewalErrors.increment(1);
      return;
    }
    if (answer.decision != Decision.Allow || answer.unmetered || answer.leaseRequests == 0) return;
    this.leases.put(key, new Lease(ask.leaseId, ask.tenantId, answer.leaseRequests, answer.leaseTokens,
      nowMillis() + <u64>answer.leaseTtlMs, answer.limits, <u64>answer.leaseTtlMs));
    this.leasesGranted.increment(1);
  }
}

enum Phase {
  /** Not metered: no provider route, no tenant, or a tenant known to have no limit. */
  Passing,
  /** Holding the request until its body is complete. */
  Buffering,
  /** Holding the request until the Reserve answer. */
  Waiting,
  Allowed,
  Denied,
}

class QuotaStream extends HttpContext {
  route: Route | null = null;
  phase: Phase = Phase.Passing;
  reserve: ReserveRequest = new ReserveRequest();
  cacheKey: string = "";
  /** Limits of the answer that admitted the request, for the response headers. */
  limits: RateLimits | null = null;

  get quota(): QuotaRoot { return changetype<QuotaRoot>(this.root); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = getRequestHeader(":path");
    if (path == null) return HeadersAction.Continue;
    const route = matchRoute(this.quota.config.routes, path);
    if (route == null) return HeadersAction.Continue;
    this.route = route;
    // Set by the auth module, which runs first; absent when auth is off or failed open.
    const tenant = getPropertyString(["leash.tenant_id"]);
    if (tenant == null || tenant.length == 0) {
      this.quota.noTenant.increment(1);
      return HeadersAction.Continue;
    }
    const key = getPropertyString(["leash.key_id"]);
    const r = this.reserve;
    r.tenantId = tenant;
    r.keyId = key == null ? "" : key;
    this.cacheKey = NoLimitsCache.keyOf(r.tenantId, r.keyId);
    if (this.quota.noLimits.has(this.cacheKey, nowMillis())) {
      this.quota.noLimitsHits.increment(1);
      return HeadersAction.Continue;
    }
    const rid = getRequestHeader("x-request-id");
    r.requestId = rid == null ? "" : rid;
    r.provider = route.provider;
    if (endOfStream) {
      // No body (GET /v1/models, …): still one request against the request limits.
      return this.startReserve(new RequestFacts(), 0) ? HeadersAction.StopIteration : this.headersAfterFailure();
    }
    // Held, body callbacks still running (the plugin's allow_on_headers_stop_iteration): the
    // router must not open an upstream request before the answer.
    this.phase = Phase.Buffering;
    return HeadersAction.StopIteration;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.phase == Phase.Denied) return DataAction.StopIterationNoBuffer;
    if (this.phase != Phase.Buffering) return this.phase == Phase.Waiting ? DataAction.StopIterationAndBuffer : DataAction.Continue;
    if (bodySize > this.quota.config.maxBodyBytes) {
      this.deny(413, "gateway.body_too_large", "Request body is larger than the gateway accepts (" +
        this.quota.config.maxBodyBytes.toString() + " bytes).", new Array<string>(0));
      return DataAction.StopIterationNoBuffer;
    }
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    const body = getBuffer(BufferType.HttpRequestBody, 0, bodySize);
    const facts = requestFacts(changetype<usize>(body), body.byteLength);
    if (this.startReserve(facts, <u64>body.byteLength)) return DataAction.StopIterationAndBuffer;
    return this.phase == Phase.Denied ? DataAction.StopIterationNoBuffer : DataAction.Continue;
  }

  /**
   * A body that ends with trailers never reaches onRequestBody with endOfStream: decide here, on
   * what was buffered, rather than hold the request forever.
   */
  onRequestTrailers(count: u32): HeadersAction {
    if (this.phase == Phase.Waiting) return HeadersAction.StopIteration;
    if (this.phase != Phase.Buffering) return this.phase == Phase.Denied ? HeadersAction.StopIteration : HeadersAction.Continue;
    const body = getBuffer(BufferType.HttpRequestBody, 0, this.quota.config.maxBodyBytes);
    const facts = requestFacts(changetype<usize>(body), body.byteLength);
    return this.startReserve(facts, <u64>body.byteLength) ? HeadersAction.StopIteration : this.headersAfterFailure();
  }

  /** Sends the Reserve call; false when it could not start (then already decided, see cannotDecide). */
  startReserve(facts: RequestFacts, bodyBytes: u64): bool {
    const r = this.reserve;
    r.model = facts.model;
    r.maxOutputTokens = facts.maxOutputTokens;
    r.estimatedPromptTokens = estimatePromptTokens(bodyBytes);
    if (this.quota.config.lease) {
      // What the sidecar would reserve for this request (quota-service.ts): prompt estimate plus
      // the output cap, or the configured default when the body names none.
      const tokens = r.estimatedPromptTokens + (r.maxOutputTokens > 0 ? r.maxOutputTokens : this.quota.config.defaultOutputTokens);
      const now = nowMillis();
      const lease = this.quota.leases.take(this.cacheKey, tokens, now);
      if (lease != null) {
        this.admitLeased(lease, tokens);
        if (this.quota.leases.shouldRenew(this.cacheKey, now)) this.quota.renew(this.cacheKey, r, tokens, now);
        return false;
      }
      if (this.quota.leases.mayAsk(this.cacheKey, now)) {
        // Empty when the host gives no randomness: then simply no lease is asked for.
        r.leaseId = randomHex(RESERVATION_ID_BYTES);
        if (r.leaseId.length > 0) {
          this.quota.leases.asked(this.cacheKey, now + <u64>this.quota.config.timeoutMs);
          const want = this.quota.leases.wanted(this.cacheKey, tokens, now);
          r.leaseRequestsWanted = want.requests;
          r.leaseTokensWanted = want.tokens;
        }
      }
    }
    r.reservationId = randomHex(RESERVATION_ID_BYTES);
    if (r.reservationId.length == 0) {
      // No randomness from the host (never in Envoy): a reservation nobody can settle is worse
      // than the failure mode, which the operator chose for a sidecar that cannot decide.
      logError("quota: the host gave no random bytes for a reservation id");
      this.cannotDecide(false);
      return false;
    }
    const metadata = new Array<string>(0);
    if (r.requestId.length > 0) { metadata.push("x-request-id"); metadata.push(r.requestId); }
    const token = grpcCall(this, this.quota.upstream, SERVICE, METHOD, metadata, encodeReserveRequest(r), this.quota.config.timeoutMs);
    if (token == 0) {
      logWarn("quota: sidecar call could not be started (cluster " + this.quota.config.sidecarCluster + ")");
      this.cannotDecide(false);
      return false;
    }
    this.phase = Phase.Waiting;
    return true;
  }

  /** Admitted on `lease` (already spent by take): no call; the request continues when the caller returns Continue. */
  admitLeased(lease: Lease, tokens: u64): void {
    setProperty(RESERVATION_PROPERTY, lease.id + "." + tokens.toString());
    if (lease.limits.any) this.limits = leasedLimits(this.quota.leases, this.cacheKey);
    this.phase = Phase.Allowed;
    this.quota.allowed.increment(1);
    this.quota.leased.increment(1);
  }

  headersAfterFailure(): HeadersAction {
    return this.phase == Phase.Denied ? HeadersAction.StopIteration : HeadersAction.Continue;
  }

  onCallReply(reply: CallReply): void {
    if (this.phase != Phase.Waiting) return;
    if (this.reserve.leaseId.length > 0) this.quota.leases.answered(this.cacheKey);
    if (!reply.ok) {
      logWarn("quota: sidecar call failed: grpc status " + reply.status.toString() + " " + reply.statusMessage);
      this.cannotDecide(true);
      return;
    }
    const answer = decodeReserveResponse(reply.body);
    if (answer == null || answer.decision == Decision.Unspecified) {
      logError("quota: sidecar answer could not be decoded");
      this.cannotDecide(true);
      return;
    }
    this.decide(answer);
  }

  decide(answer: ReserveResponse): void {
    const limits = answer.limits;
    if (answer.decision != Decision.Allow) {
      const status = answer.httpStatus >= 400 && answer.httpStatus <= 599 ? answer.httpStatus : <u32>429;
      const code = answer.code.length > 0 ? answer.code : "quota.exceeded";
      const headers = this.limitHeaders(limits);
      // Retry-After is whole seconds; at least 1 so a client never retries in a tight loop.
      headers.push("retry-after");
      headers.push((answer.retryAfterS > 0 ? answer.retryAfterS : 1).toString());
      this.deny(status, code, answer.message.length > 0 ? answer.message : "Quota exceeded.", headers);
      return;
    }
    if (answer.unmetered) this.quota.unmetered.increment(1);
    // An unmetered answer has no reservation. Any other ALLOW may have one (a budget-only tenant
    // has no limits to show but is reserved); one that has none settles nothing. Published before
    // the request continues, so the usage module finds it whatever happens upstream.
    if (!answer.unmetered) setProperty(RESERVATION_PROPERTY, this.reserve.reservationId);
    if (answer.leaseRequests > 0 && !answer.unmetered && this.reserve.leaseId.length > 0) {
      const lease = new Lease(this.reserve.leaseId, this.reserve.tenantId, answer.leaseRequests, answer.leaseTokens,
        nowMillis() + <u64>answer.leaseTtlMs, limits, <u64>answer.leaseTtlMs);
      this.quota.leases.put(this.cacheKey, lease);
      this.quota.leasesGranted.increment(1);
      // The answer counted the whole lease as used; none of it is yet.
      if (limits.any) this.limits = leasedLimits(this.quota.leases, this.cacheKey);
    }
    if (limits.any) {
      if (this.limits == null) this.limits = limits;
      this.quota.noLimits.forget(this.cacheKey);
    } else if (!answer.unmetered) {
      this.quota.noLimits.put(this.cacheKey, answer.noLimitsTtlMs, nowMillis());
    }
    this.phase = Phase.Allowed;
    this.quota.allowed.increment(1);
    continueRequest();
  }

  /** Sidecar unreachable, slow or incoherent: refuse (fail closed) unless the operator chose open. */
  cannotDecide(resume: bool): void {
    this.quota.sidecarErrors.increment(1);
    if (this.quota.config.failOpen) {
      this.phase = Phase.Allowed;
      if (resume) continueRequest();
      return;
    }
    const headers = new Array<string>(0);
    headers.push("retry-after"); headers.push("1");
    this.deny(503, "quota.sidecar_unavailable", "The gateway cannot check quotas right now. Retry later.", headers);
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (this.limits == null) return HeadersAction.Continue;
    const limits = this.limits!;
    // Replace, never add: the provider's own x-ratelimit-* describe the gateway's upstream account,
    // not the tenant's limits, and a kind of limit the tenant does not have must not show them.
    const headers = this.limitHeaders(limits);
    for (let i = 0; i + 1 < headers.length; i += 2) replaceHeader(HeaderMap.ResponseHeaders, headers[i], headers[i + 1]);
    if (!limits.hasRequestLimit) removeAll(REQUEST_HEADERS);
    if (!limits.hasTokenLimit) removeAll(TOKEN_HEADERS);
    if (this.anthropicRoute) {
      if (!limits.hasRequestLimit) removeAll(ANTHROPIC_REQUEST_HEADERS);
      if (!limits.hasTokenLimit) removeAll(ANTHROPIC_TOKEN_HEADERS);
    }
    return HeadersAction.Continue;
  }

  get anthropicRoute(): bool { return this.route != null && this.route!.api == ApiFormat.Anthropic; }

  /** OpenAI's x-ratelimit-* for `limits`, and on Anthropic routes Anthropic's anthropic-ratelimit-* too. */
  limitHeaders(limits: RateLimits): Array<string> {
    const headers = rateLimitHeaders(limits);
    if (this.anthropicRoute) {
      const more = anthropicRateLimitHeaders(limits, nowMillis());
      for (let i = 0; i < more.length; i++) headers.push(more[i]);
    }
    return headers;
  }

  deny(status: u32, code: string, message: string, headers: Array<string>): void {
    this.phase = Phase.Denied;
    this.quota.denied.increment(1);
    const api = this.route == null ? ApiFormat.OpenAI : this.route!.api;
    denyRequest(api, status, code, message, headers);
  }
}

/**
 * Headers of a request admitted with or on a lease: the newest granting answer's remaining plus
 * what is left of the pair's leases in this VM. Exact for this VM's own traffic; other VMs'
 * traffic since the grant is not seen (at most the lease slack, see docs/quotas.md).
 */
function leasedLimits(table: LeaseTable, key: string): RateLimits {
  const newest = table.newest(key);
  const out = new RateLimits();
  if (newest == null) return out;
  const s = newest.limits;
  const leftRequests = table.leftRequests(key);
  const leftTokens = table.leftTokens(key);
  out.hasRequestLimit = s.hasRequestLimit;
  out.limitRequests = s.limitRequests;
  out.remainingRequests = min<u64>(s.limitRequests, s.remainingRequests + leftRequests);
  out.resetRequestsMs = s.resetRequestsMs;
  out.hasTokenLimit = s.hasTokenLimit;
  out.limitTokens = s.limitTokens;
  out.remainingTokens = min<u64>(s.limitTokens, s.remainingTokens + leftTokens);
  out.resetTokensMs = s.resetTokensMs;
  return out;
}

function removeAll(names: Array<string>): void {
  for (let i = 0; i < names.length; i++) removeHeader(HeaderMap.ResponseHeaders, names[i]);
}
