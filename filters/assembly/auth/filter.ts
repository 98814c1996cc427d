// The auth filter: resolves the tenant's API key through the sidecar (gRPC call-out, or the
// worker's decision cache), then either rejects the request in the route's API format or forwards
// it with the tenant key removed and the provider credential injected. Requests on provider routes
// must carry a well-formed JSON body within the size limit, naming a model the tenant may use.
import { RootContext, HttpContext, CallReply } from "../sdk/context";
import { HeadersAction, DataAction, BufferType, HeaderMap } from "../sdk/abi";
import { grpcCall, grpcCallDetached, grpcServiceForCluster } from "../sdk/callouts";
import { continueRequest, getRequestHeader, removeHeader, replaceHeader, setProperty, setEffectiveContext, getBuffer, logError, logInfo, logWarn, nowMillis } from "../sdk/host";
import { denyRequest, ApiFormat } from "../sdk/api-error";
import { checkJson } from "../sdk/json-check";
import { contentLengthTooLarge } from "../sdk/body-limit";
import { topLevelString } from "../sdk/json-field";
import { Counter } from "../sdk/metrics";
import { AuthConfig, parseAuthConfig, EXPECTED_SHAPE } from "./config";
import { Route, matchRoute } from "../sdk/routes";
import { KEY_HEADERS, keyIn } from "./keys";
import { modelAllowed } from "./models";
import { DecisionCache } from "./decision-cache";
import { enableTiming } from "../sdk/timing";
import { requestCallMetadata } from "../sdk/call-metadata";
import { SERVICE, METHOD, Decision, AuthorizeResponse, encodeAuthorizeRequest, decodeAuthorizeResponse } from "./authorize-pb";

export class AuthRoot extends RootContext {
  config: AuthConfig = new AuthConfig();
  upstream: ArrayBuffer = new ArrayBuffer(0);
  cache: DecisionCache = new DecisionCache(0);
  allowed: Counter = new Counter("leash_auth.allowed");
  denied: Counter = new Counter("leash_auth.denied");
  sidecarErrors: Counter = new Counter("leash_auth.sidecar_errors");
  invalidBodies: Counter = new Counter("leash_auth.invalid_json");
  cacheHits: Counter = new Counter("leash_auth.cache_hits");
  cacheMisses: Counter = new Counter("leash_auth.cache_misses");
  /**
   * Streams waiting for an Authorize call already in flight for the same cache key (single
   * flight): when an answer expires under load, one call refreshes it instead of one per request.
   */
  waiting: Map<string, Array<AuthStream>> = new Map<string, Array<AuthStream>>();
  /** Background refreshes of cached answers in flight: call token → cache key. */
  refreshes: Map<u32, string> = new Map<u32, string>();
  cacheRefreshes: Counter = new Counter("leash_auth.cache_refreshes");
  cacheRefreshErrors: Counter = new Counter("leash_auth.cache_refresh_errors");

  onConfigure(configuration: string): bool {
    const r = parseAuthConfig(configuration);
    if (r.config == null) {
      logError("auth: invalid plugin configuration: " + r.error + "; expected shape: " + EXPECTED_SHAPE);
      return false;
    }
    this.config = r.config!;
    this.upstream = grpcServiceForCluster(this.config.sidecarCluster);
    enableTiming(this, "auth");
    // A new configuration may change routes or providers: start from an empty cache.
    this.cache = new DecisionCache(this.config.cacheMaxEntries);
    this.refreshes.clear();
    logInfo("auth: configured with " + this.config.routes.length.toString() + " routes, failure_mode=" +
      (this.config.failOpen ? "open" : "closed"));
    return true;
  }

  newHttpContext(id: u32): HttpContext { return new AuthStream(id, this); }

  /**
   * Asks the sidecar again, in the background, for a cached answer past half its life (see
   * DecisionCache). Nobody waits: the request that noticed goes on with the cached answer.
   */
  refresh(cacheKey: string, message: ArrayBuffer, metadata: Array<string>): void {
    const token = grpcCallDetached(this, this.upstream, SERVICE, METHOD, metadata, message, this.config.timeoutMs);
    if (token == 0) {
      this.cacheRefreshErrors.increment(1);
      return;
    }
    this.refreshes.set(token, cacheKey);
    this.cacheRefreshes.increment(1);
  }

  /** A refresh answered: its answer replaces the cached one; a failure leaves that one to expire. */
  onCallReply(reply: CallReply): void {
    if (!this.refreshes.has(reply.token)) return;
    const key = this.refreshes.get(reply.token);
    this.refreshes.delete(reply.token);
    const answer = reply.ok ? decodeAuthorizeResponse(reply.body) : null;
    if (answer == null || answer.decision == Decision.Unspecified) {
      this.cacheRefreshErrors.increment(1);
      return;
    }
    this.cache.put(key, answer, this.cacheTtl(answer), nowMillis());
  }

  /** How long `answer` may be reused: what the sidecar allows, at most cache_max_ttl_ms. */
  cacheTtl(answer: AuthorizeResponse): u32 {
    return answer.cacheTtlMs < this.config.cacheMaxTtlMs ? answer.cacheTtlMs : this.config.cacheMaxTtlMs;
  }
}

enum Phase { Idle, Waiting, Allowed, Denied }

class AuthStream extends HttpContext {
  route: Route | null = null;
  phase: Phase = Phase.Idle;
  checkBody: bool = false;
  cacheKey: string = "";
  /** The Authorize call this stream makes (or would make, if it has to take over a call). */
  callMessage: ArrayBuffer = new ArrayBuffer(0);
  callMetadata: Array<string> = new Array<string>(0);
  /** Models the tenant may call, from the answer that let the request in (empty = any). */
  allowedModels: Array<string> = new Array<string>(0);

  get auth(): AuthRoot { return changetype<AuthRoot>(this.root); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = getRequestHeader(":path");
    if (path == null) return HeadersAction.Continue;
    const route = matchRoute(this.auth.config.routes, path);
    if (route == null) return HeadersAction.Continue; // /health, unknown paths: Envoy answers those
    this.route = route;
    const method = getRequestHeader(":method");
    const m = method == null ? "" : method;
    this.checkBody = this.auth.config.validateJson && !endOfStream && (m == "POST" || m == "PUT" || m == "PATCH");
    // A declared length over the limit is refused before any work; a body without one (chunked)
    // is measured as it arrives in onRequestBody.
    const declared = getRequestHeader("content-length");
    if (declared != null && contentLengthTooLarge(declared, this.auth.config.maxBodyBytes)) {
      this.denyTooLarge();
      return HeadersAction.StopIteration;
    }

    const key = this.readKey();
    if (key.length == 0) {
      this.deny(401, "auth.missing_key", "No API key. Send your Leash key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
      return HeadersAction.StopIteration;
    }

    this.cacheKey = DecisionCache.keyOf(route.provider, key);
    const now = nowMillis();
    const cached = this.auth.cache.find(this.cacheKey, now);
    if (cached != null) {
      this.auth.cacheHits.increment(1);
      if (cached.claimRefresh(now)) {
        const rid = getRequestHeader("x-request-id");
        this.auth.refresh(this.cacheKey, encodeAuthorizeRequest(key, route.provider, rid == null ? "" : rid, m, path), requestCallMetadata());
      }
      // Headers are still held by this callback: edit them and let the request go on.
      return this.decide(cached.answer) ? HeadersAction.Continue : HeadersAction.StopIteration;
    }
    this.auth.cacheMisses.increment(1);

    const rid = getRequestHeader("x-request-id");
    const requestId = rid == null ? "" : rid;
    this.callMessage = encodeAuthorizeRequest(key, route.provider, requestId, m, path);
    this.callMetadata = requestCallMetadata();
    if (this.auth.waiting.has(this.cacheKey)) {
      // Another request with this key is already asking: wait for its answer.
      this.auth.waiting.get(this.cacheKey).push(this);
      this.phase = Phase.Waiting;
      return HeadersAction.StopIteration;
    }
    if (!this.startCall()) {
      logWarn("auth: sidecar call could not be started (cluster " + this.auth.config.sidecarCluster + ")");
      return this.cannotDecide(false) ? HeadersAction.Continue : HeadersAction.StopIteration;
    }
    this.phase = Phase.Waiting;
    this.auth.waiting.set(this.cacheKey, new Array<AuthStream>(0));
    return HeadersAction.StopIteration;
  }

  onCallReply(reply: CallReply): void {
    // Followers that joined this call; taken now so a new miss starts a new call.
    const followers = this.auth.waiting.has(this.cacheKey) ? this.auth.waiting.get(this.cacheKey) : new Array<AuthStream>(0);
    this.auth.waiting.delete(this.cacheKey);
    let answer: AuthorizeResponse | null = null;
    if (!reply.ok) {
      logWarn("auth: sidecar call failed: grpc status " + reply.status.toString() + " " + reply.statusMessage);
    } else {
      answer = decodeAuthorizeResponse(reply.body);
      if (answer == null || answer.decision == Decision.Unspecified) {
        logError("auth: sidecar answer could not be decoded");
        answer = null;
      } else {
        this.auth.cache.put(this.cacheKey, answer, this.auth.cacheTtl(answer), nowMillis());
      }
    }
    this.settle(answer);
    for (let i = 0; i < followers.length; i++) {
      const f = followers[i];
      // A follower whose client went away is skipped; the host refuses a dead context anyway.
      if (f.ended || f.phase != Phase.Waiting || !setEffectiveContext(f.id)) continue;
      f.settle(answer);
    }
  }

  startCall(): bool {
    return grpcCall(this, this.auth.upstream, SERVICE, METHOD, this.callMetadata, this.callMessage, this.auth.config.timeoutMs) != 0;
  }

  /**
   * A leader whose client went away takes its call with it (the SDK cancels it): hand the wait to
   * the first live follower, which asks again; if no call can start, the followers cannot be
   * decided for.
   */
  onDone(): void {
    if (this.phase != Phase.Waiting || this.calls.length == 0 || !this.auth.waiting.has(this.cacheKey)) return;
    const followers = this.auth.waiting.get(this.cacheKey);
    this.auth.waiting.delete(this.cacheKey);
    for (let i = 0; i < followers.length; i++) {
      const f = followers[i];
      if (f.ended || f.phase != Phase.Waiting) continue;
      if (f.startCall()) {
        this.auth.waiting.set(this.cacheKey, followers.slice(i + 1));
        return;
      }
      for (let j = i; j < followers.length; j++) {
        const g = followers[j];
        if (!g.ended && g.phase == Phase.Waiting && setEffectiveContext(g.id)) g.settle(null);
      }
      return;
    }
  }

  /** Resumes or rejects this waiting stream with `answer` (null: the sidecar could not decide). */
  settle(answer: AuthorizeResponse | null): void {
    if (this.phase != Phase.Waiting) return;
    if (answer == null) {
      this.cannotDecide(true);
      return;
    }
    if (this.decide(answer)) continueRequest();
  }

  /** Applies an answer to the held request headers; true when the request may go on. */
  decide(answer: AuthorizeResponse): bool {
    if (answer.decision != Decision.Allow) {
      const status = answer.httpStatus >= 400 && answer.httpStatus <= 599 ? answer.httpStatus : <u32>403;
      const code = answer.code.length > 0 ? answer.code : "auth.denied";
      this.deny(status, code, answer.message.length > 0 ? answer.message : "Request denied.");
      return false;
    }
    this.stripTenantKey();
    if (answer.upstreamAuthHeader.length > 0) replaceHeader(HeaderMap.RequestHeaders, answer.upstreamAuthHeader, answer.upstreamAuthValue);
    if (this.route != null && this.route!.api == ApiFormat.Anthropic && getRequestHeader("anthropic-version") == null) {
      replaceHeader(HeaderMap.RequestHeaders, "anthropic-version", "2023-06-01");
    }
    setProperty("leash.tenant_id", answer.tenantId);
    setProperty("leash.key_id", answer.keyId);
    // Read by the guard modules later in the chain (filter state is per request, visible to every
    // filter); left unset when the tenant has no guard policy so they use their plugin defaults.
    if (answer.modulePolicy.length > 0) setProperty("leash.policy", answer.modulePolicy);
    this.allowedModels = answer.allowedModels;
    this.phase = Phase.Allowed;
    this.auth.allowed.increment(1);
    return true;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.phase == Phase.Denied) return DataAction.StopIterationNoBuffer;
    if (this.route == null) return DataAction.Continue;
    if (bodySize > this.auth.config.maxBodyBytes) {
      this.denyTooLarge();
      return DataAction.StopIterationNoBuffer;
    }
    if (!this.checkBody) return DataAction.Continue;
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    const body = getBuffer(BufferType.HttpRequestBody, 0, bodySize);
    const base = changetype<usize>(body);
    const check = checkJson(base, body.byteLength, this.auth.config.maxJsonDepth, true);
    if (!check.ok) {
      this.auth.invalidBodies.increment(1);
      this.deny(400, "gateway.invalid_json", "Request body is not valid JSON: " + check.reason + " at byte " + check.offset.toString() + ".");
      return DataAction.StopIterationNoBuffer;
    }
    if (this.allowedModels.length > 0) {
      const model = topLevelString(base, body.byteLength, "model");
      if (model == null || !modelAllowed(this.allowedModels, model)) {
        const shown = model == null ? "(none)" : model.length > 100 ? model.substring(0, 100) + "…" : model;
        this.deny(403, "auth.model_not_allowed", "This key may not use model " + shown + ".");
        return DataAction.StopIterationNoBuffer;
      }
    }
    return DataAction.Continue;
  }

  /** Sidecar unreachable, slow or incoherent: refuse (fail closed) unless the operator chose open. */
  cannotDecide(resume: bool): bool {
    this.auth.sidecarErrors.increment(1);
    if (this.auth.config.failOpen) {
      this.stripTenantKey();
      this.phase = Phase.Allowed;
      if (resume) continueRequest();
      return true;
    }
    this.deny(503, "auth.sidecar_unavailable", "The gateway cannot verify credentials right now. Retry later.");
    return false;
  }

  denyTooLarge(): void {
    this.deny(413, "gateway.body_too_large", "Request body is larger than the gateway accepts (" +
      this.auth.config.maxBodyBytes.toString() + " bytes).");
  }

  /**
   * The client's key, chosen as pickKey does (the first of KEY_HEADERS that carries one), reading a header only while no
   * earlier one gave a key: each read is a host call (with a copy into the VM), and nearly every
   * client sends the first one.
   */
  readKey(): string {
    for (let i = 0; i < KEY_HEADERS.length; i++) {
      const v = getRequestHeader(KEY_HEADERS[i]);
      if (v == null) continue;
      const key = keyIn(i, v);
      if (key.length > 0) return key;
    }
    return "";
  }

  stripTenantKey(): void {
    for (let i = 0; i < KEY_HEADERS.length; i++) removeHeader(HeaderMap.RequestHeaders, KEY_HEADERS[i]);
  }

  deny(status: u32, code: string, message: string): void {
    this.phase = Phase.Denied;
    this.auth.denied.increment(1);
    const api = this.route == null ? ApiFormat.OpenAI : this.route!.api;
    denyRequest(api, status, code, message);
  }
}
