// The quota module: admits each request on a provider route against its tenant's and key's limits
// with one Reserve call to the sidecar (which reserves the request and an estimate of its tokens
// in Redis, atomically across replicas), then forwards it or answers 429/503 in the route's API
// format. The request is held, headers and body, until the answer: a refused request never
// reaches the provider. The reservation is named by a random id the client never sees nor
// chooses (filter state leash.quota.reservation); the usage module sends it back with its report,
// which settles the reservation.
// Every response of an admitted request carries OpenAI's x-ratelimit-* headers.
import { RootContext, HttpContext, CallReply } from "../sdk/context";
import { HeadersAction, DataAction, BufferType, HeaderMap } from "../sdk/abi";
import { grpcCall, grpcServiceForCluster } from "../sdk/callouts";
import { continueRequest, getBuffer, getPropertyString, getRequestHeader, logError, logInfo, logWarn, nowMillis, randomHex, removeHeader, replaceHeader, setProperty } from "../sdk/host";
import { enableTiming } from "../sdk/timing";
import { ApiFormat, denyRequest } from "../sdk/api-error";
import { Counter } from "../sdk/metrics";
import { Route, matchRoute } from "../sdk/routes";
import { QuotaConfig, parseQuotaConfig, EXPECTED_SHAPE } from "./config";
import { estimatePromptTokens, requestFacts, RequestFacts } from "./estimate";
import { NoLimitsCache } from "./no-limits-cache";
import { REQUEST_HEADERS, TOKEN_HEADERS, rateLimitHeaders } from "./rate-limit-headers";
import { SERVICE, METHOD, Decision, RateLimits, ReserveRequest, ReserveResponse, encodeReserveRequest, decodeReserveResponse } from "./reserve-pb";

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
    logInfo("quota: configured with " + this.config.routes.length.toString() + " routes, failure_mode=" +
      (this.config.failOpen ? "open" : "closed"));
    return true;
  }

  newHttpContext(id: u32): HttpContext { return new QuotaStream(id, this); }
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
    r.reservationId = randomHex(RESERVATION_ID_BYTES);
    if (r.reservationId.length == 0) {
      // No randomness from the host (never in Envoy): a reservation nobody can settle is worse
      // than the failure mode, which the operator chose for a sidecar that cannot decide.
      logError("quota: the host gave no random bytes for a reservation id");
      this.cannotDecide(false);
      return this.headersAfterFailure();
    }
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

  headersAfterFailure(): HeadersAction {
    return this.phase == Phase.Denied ? HeadersAction.StopIteration : HeadersAction.Continue;
  }

  onCallReply(reply: CallReply): void {
    if (this.phase != Phase.Waiting) return;
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
      const headers = rateLimitHeaders(limits);
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
    if (limits.any) {
      this.limits = limits;
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
    const headers = rateLimitHeaders(limits);
    for (let i = 0; i + 1 < headers.length; i += 2) replaceHeader(HeaderMap.ResponseHeaders, headers[i], headers[i + 1]);
    if (!limits.hasRequestLimit) removeAll(REQUEST_HEADERS);
    if (!limits.hasTokenLimit) removeAll(TOKEN_HEADERS);
    return HeadersAction.Continue;
  }

  deny(status: u32, code: string, message: string, headers: Array<string>): void {
    this.phase = Phase.Denied;
    this.quota.denied.increment(1);
    const api = this.route == null ? ApiFormat.OpenAI : this.route!.api;
    denyRequest(api, status, code, message, headers);
  }
}

function removeAll(names: Array<string>): void {
  for (let i = 0; i < names.length; i++) removeHeader(HeaderMap.ResponseHeaders, names[i]);
}
