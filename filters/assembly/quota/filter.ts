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
import { continueRequest, getBuffer, getPropertyString, getRequestHeader, logError, logInfo, logWarn, nowMillis, randomHex, removeHeader, replaceHeader, setEffectiveContext, setProperty, setTickPeriod } from "../sdk/host";
import { callbackStartMillis, enableTiming } from "../sdk/timing";
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

/** Most requests of one tenant and key parked behind its lease ask; more make their own Reserve. */
const MAX_PARKED: i32 = 1000;

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
  /**
   * Requests waiting for their pair's lease ask in flight (a request's first ask or a renewal),
   * by pair, instead of each making a Reserve: on a cold gateway under load, a burst of Reserves
   * while the first lease is asked for ran the sidecar past its timeout (503s). Each waits at most
   * for the ask's answer, which the call's timeout bounds.
   */
  parked: Map<string, Array<QuotaStream>> = new Map<string, Array<QuotaStream>>();
  /** Requests that waited for a lease ask (parked), whatever then decided them. */
  parkedCount: Counter = new Counter("leash_quota.parked");

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
    // Streams parked under the previous configuration decide on their own Reserve.
    const keys = this.parked.keys();
    for (let i = 0; i < keys.length; i++) this.releaseParked(keys[i], false);
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
      const key = NoLimitsCache.keyOf(ask.tenantId, ask.keyId);
      const ok = this.renewed(key, ask, reply);
      this.releaseParked(key, !ok);
      return;
    }
    if (!reply.ok) this.leaseReturnErrors.increment(1);
  }

  /**
   * Holds the renewal's lease, if any; a refusal or no lease leaves the pair as it was. False when
   * the call failed or its answer did not decode (the sidecar could not decide).
   */
  renewed(key: string, ask: ReserveRequest, reply: CallReply): bool {
    this.leases.answered(key);
    if (!reply.ok) {
      this.leaseRenewalErrors.increment(1);
      return false;
    }
    const answer = decodeReserveResponse(reply.body);
    if (answer == null) {
      this.leaseRenewalErrors.increment(1);
      return false;
    }
    if (answer.decision != Decision.Allow || answer.unmetered || answer.leaseRequests == 0) return true;
    this.leases.put(key, new Lease(ask.leaseId, ask.tenantId, answer.leaseRequests, answer.leaseTokens,
      nowMillis() + <u64>answer.leaseTtlMs, answer.limits, <u64>answer.leaseTtlMs));
    this.leasesGranted.increment(1);
    return true;
  }

  /** Parks `s` behind its pair's lease ask in flight; false when too many wait already. */
  park(key: string, s: QuotaStream): bool {
    if (!this.parked.has(key)) this.parked.set(key, new Array<QuotaStream>(0));
    const waiting = this.parked.get(key);
    if (waiting.length >= MAX_PARKED) return false;
    waiting.push(s);
    this.parkedCount.increment(1);
    return true;
  }

  /**
   * The pair's lease ask was answered: each request parked behind it is admitted on the lease if it
   * fits, else decided by its own Reserve (no lease, or too small); when the sidecar could not
   * decide (`failed`), none is asked again: each gets the failure mode, as the asker did.
   */
  releaseParked(key: string, failed: bool): void {
    const waiting = this.takeParked(key);
    for (let i = 0; i < waiting.length; i++) {
      if (waiting[i].resumable()) waiting[i].unpark(failed);
    }
  }

  /**
   * The request asking for the pair's lease went away (its call goes with it): the first live
   * parked request asks in its place and the others wait for that ask instead.
   */
  handOff(key: string): void {
    this.leases.answered(key);
    const waiting = this.takeParked(key);
    for (let i = 0; i < waiting.length; i++) {
      if (!waiting[i].resumable()) continue;
      // The rest wait for its ask; if it cannot be sent, callFailed decides them with it.
      this.parked.set(key, waiting.slice(i + 1));
      waiting[i].askInstead();
      return;
    }
  }

  /** Removes and returns the requests parked behind the pair's ask (none: empty). */
  takeParked(key: string): Array<QuotaStream> {
    if (!this.parked.has(key)) return new Array<QuotaStream>(0);
    const waiting = this.parked.get(key);
    this.parked.delete(key);
    return waiting;
  }
}

enum Phase {
  /** Not metered: no provider route, no tenant, or a tenant known to have no limit. */
  Passing,
  /** Holding the request until its body is complete. */
  Buffering,
  /** Holding the request until the Reserve answer. */
  Waiting,
  /** Holding the request until its pair's lease ask in flight is answered (root.parked). */
  Parked,
  Allowed,
  Denied,
}

class QuotaStream extends HttpContext {
  route: Route | null = null;
  phase: Phase = Phase.Passing;
  reserve: ReserveRequest = new ReserveRequest();
  /** Whether reserve.requestId holds the request's x-request-id yet (see readRequestId). */
  requestIdRead: bool = false;
  cacheKey: string = "";
  /** Limits of the answer that admitted the request, for the response headers. */
  limits: RateLimits | null = null;
  /** What the request takes from a lease: prompt estimate plus output cap (or the default). */
  tokens: u64 = 0;

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
    if (this.quota.noLimits.has(this.cacheKey, callbackStartMillis(this))) {
      this.quota.noLimitsHits.increment(1);
      return HeadersAction.Continue;
    }
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
    if (this.phase != Phase.Buffering) return this.held ? DataAction.StopIterationAndBuffer : DataAction.Continue;
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
    if (this.held) return HeadersAction.StopIteration;
    if (this.phase != Phase.Buffering) return this.phase == Phase.Denied ? HeadersAction.StopIteration : HeadersAction.Continue;
    const body = getBuffer(BufferType.HttpRequestBody, 0, this.quota.config.maxBodyBytes);
    const facts = requestFacts(changetype<usize>(body), body.byteLength);
    return this.startReserve(facts, <u64>body.byteLength) ? HeadersAction.StopIteration : this.headersAfterFailure();
  }

  /**
   * Still parked and alive, and now the effective context (host calls act on it): a request whose
   * client went away is skipped, and the host refuses a dead context anyway.
   */
  resumable(): bool {
    return !this.ended && this.phase == Phase.Parked && setEffectiveContext(this.id);
  }

  /** Waiting for a Reserve answer, its own or its pair's lease ask. */
  get held(): bool { return this.phase == Phase.Waiting || this.phase == Phase.Parked; }

  /**
   * Admits the request on a lease, or parks it behind its pair's lease ask in flight, or sends its
   * Reserve call. True when the request is held; false when it was decided (admitted on a lease,
   * or the call could not start: then already decided, see cannotDecide).
   */
  startReserve(facts: RequestFacts, bodyBytes: u64): bool {
    const r = this.reserve;
    r.model = facts.model;
    r.maxOutputTokens = facts.maxOutputTokens;
    r.estimatedPromptTokens = estimatePromptTokens(bodyBytes);
    if (this.quota.config.lease) {
      // What the sidecar would reserve for this request (quota-service.ts): prompt estimate plus
      // the output cap, or the configured default when the body names none.
      const tokens = r.estimatedPromptTokens + (r.maxOutputTokens > 0 ? r.maxOutputTokens : this.quota.config.defaultOutputTokens);
      this.tokens = tokens;
      const now = callbackStartMillis(this);
      const lease = this.quota.leases.take(this.cacheKey, tokens, now);
      if (lease != null) {
        this.admitLeased(lease, tokens);
        if (this.quota.leases.shouldRenew(this.cacheKey, now)) this.renew(now);
        return false;
      }
      if (this.quota.leases.mayAsk(this.cacheKey, now)) {
        // Empty when the host gives no randomness: then simply no lease is asked for.
        this.askLease(now);
      } else if (this.quota.park(this.cacheKey, this)) {
        // The pair's lease is being asked for: wait for it rather than make a Reserve of its own.
        this.phase = Phase.Parked;
        return true;
      }
    }
    return this.sendReserve(false);
  }

  /**
   * The client's x-request-id, read when a call to the sidecar carries it (a Reserve, a renewal):
   * a request admitted on a lease never needs it.
   */
  readRequestId(): void {
    if (this.requestIdRead) return;
    this.requestIdRead = true;
    const rid = getRequestHeader("x-request-id");
    this.reserve.requestId = rid == null ? "" : rid;
  }

  /** Asks in the background for the pair's next lease, on behalf of this request. */
  renew(now: u64): void {
    this.readRequestId();
    this.quota.renew(this.cacheKey, this.reserve, this.tokens, now);
  }

  /** Makes this request's Reserve also ask for the pair's lease (one ask per pair at a time). */
  askLease(now: u64): void {
    const r = this.reserve;
    // Empty when the host gives no randomness: then simply no lease is asked for.
    r.leaseId = randomHex(RESERVATION_ID_BYTES);
    if (r.leaseId.length == 0) return;
    this.quota.leases.asked(this.cacheKey, now + <u64>this.quota.config.timeoutMs);
    const want = this.quota.leases.wanted(this.cacheKey, this.tokens, now);
    r.leaseRequestsWanted = want.requests;
    r.leaseTokensWanted = want.tokens;
  }

  /**
   * Sends this request's Reserve call; false when it could not start (then decided by the failure
   * mode, resuming the request when `resume`, i.e. when it is held outside a callback's return).
   */
  sendReserve(resume: bool): bool {
    const r = this.reserve;
    r.reservationId = randomHex(RESERVATION_ID_BYTES);
    if (r.reservationId.length == 0) {
      // No randomness from the host (never in Envoy): a reservation nobody can settle is worse
      // than the failure mode, which the operator chose for a sidecar that cannot decide.
      logError("quota: the host gave no random bytes for a reservation id");
      this.callFailed(resume);
      return false;
    }
    this.readRequestId();
    const metadata = new Array<string>(0);
    if (r.requestId.length > 0) { metadata.push("x-request-id"); metadata.push(r.requestId); }
    const token = grpcCall(this, this.quota.upstream, SERVICE, METHOD, metadata, encodeReserveRequest(r), this.quota.config.timeoutMs);
    if (token == 0) {
      logWarn("quota: sidecar call could not be started (cluster " + this.quota.config.sidecarCluster + ")");
      this.callFailed(resume);
      return false;
    }
    this.phase = Phase.Waiting;
    return true;
  }

  /**
   * The Reserve could not be sent: the failure mode decides this request, and when it was to ask
   * for the pair's lease, the ask is over and whoever parked behind it is decided the same way
   * (last: releasing switches the effective context to those streams).
   */
  callFailed(resume: bool): void {
    this.cannotDecide(resume);
    if (this.reserve.leaseId.length == 0) return;
    this.quota.leases.answered(this.cacheKey);
    this.quota.releaseParked(this.cacheKey, true);
  }

  /**
   * Its pair's lease ask was answered (see QuotaRoot.releaseParked): admitted on the lease if it
   * fits, else its own Reserve; `failed`: the sidecar could not decide, so the failure mode.
   */
  unpark(failed: bool): void {
    if (failed) {
      this.cannotDecide(true);
      return;
    }
    const now = nowMillis();
    const lease = this.quota.leases.take(this.cacheKey, this.tokens, now);
    if (lease != null) {
      this.admitLeased(lease, this.tokens);
      if (this.quota.leases.shouldRenew(this.cacheKey, now)) this.renew(now);
      continueRequest();
      return;
    }
    this.sendReserve(true);
  }

  /** Asks for the pair's lease in place of a request that went away (parked ones wait for it). */
  askInstead(): void {
    this.askLease(nowMillis());
    const asking = this.reserve.leaseId.length > 0;
    this.sendReserve(true);
    // No lease could be asked for (no randomness): the others make their own Reserve (last:
    // releasing switches the effective context to them).
    if (!asking) this.quota.releaseParked(this.cacheKey, false);
  }

  /** A request asking for its pair's lease went away: its call goes with it, so another asks. */
  onDone(): void {
    if (this.phase == Phase.Waiting && this.reserve.leaseId.length > 0 && this.calls.length > 0) this.quota.handOff(this.cacheKey);
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
    const asked = this.reserve.leaseId.length > 0;
    if (asked) this.quota.leases.answered(this.cacheKey);
    const decided = this.decideReply(reply);
    // Requests parked behind this lease ask go on after this one (its resume comes first).
    if (asked) this.quota.releaseParked(this.cacheKey, !decided);
  }

  /** Decides on the Reserve reply; false when the sidecar could not decide (failure mode applied). */
  decideReply(reply: CallReply): bool {
    if (!reply.ok) {
      logWarn("quota: sidecar call failed: grpc status " + reply.status.toString() + " " + reply.statusMessage);
      this.cannotDecide(true);
      return false;
    }
    const answer = decodeReserveResponse(reply.body);
    if (answer == null || answer.decision == Decision.Unspecified) {
      logError("quota: sidecar answer could not be decoded");
      this.cannotDecide(true);
      return false;
    }
    this.decide(answer);
    return true;
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
