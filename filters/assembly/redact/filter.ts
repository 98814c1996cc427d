// The redact filter: PII and secrets in request bodies are masked, hashed or refused before the
// provider sees them, and the same entities are masked in responses (JSON and SSE) before the
// client sees them. It fails closed: a body it cannot read is refused (400/413), a tenant policy it
// cannot parse refuses the request (503), and a fault (trap) makes Envoy's failure policy answer
// for it (FAIL_RELOAD: 503, never forwarded). See README.md for the settings and denial codes.
import { RootContext, HttpContext } from "../sdk/context";
import { HeadersAction, DataAction, BufferType, HeaderMap } from "../sdk/abi";
import { getBuffer, getPropertyString, getRequestHeader, getResponseHeader, logError, logInfo, logWarn, removeHeader, replaceBuffer } from "../sdk/host";
import { denyRequest, ApiFormat } from "../sdk/api-error";
import { checkJson } from "../sdk/json-check";
import { contentLengthTooLarge } from "../sdk/body-limit";
import { Counter } from "../sdk/metrics";
import { Route, matchRoute } from "../sdk/routes";
import { RedactState, redactText } from "../detect/redactor";
import { ENTITY_KINDS, EntityKind, entityName, isSecret } from "../detect/finding";
import { RedactConfig, RedactSettings, parseRedactConfig, EXPECTED_SHAPE } from "./config";
import { PolicyCache } from "./policy-cache";
import { ByteSink } from "./byte-sink";
import { JsonWalker } from "./json-walk";
import { TextVisitor } from "./text-visitor";
import { SseRewriter } from "./sse-rewrite";
import { enableTiming } from "../sdk/timing";
import { auditEnabledIn } from "../sdk/audit-policy";
import { ResponseCopy, publishBlocked, publishMasked } from "./audit-trail";

export class RedactRoot extends RootContext {
  config: RedactConfig = new RedactConfig();
  policies: PolicyCache = new PolicyCache();
  // Shared by every stream of this VM: a VM runs one callback at a time and each use is synchronous.
  walker: JsonWalker = new JsonWalker();
  sink: ByteSink = new ByteSink();
  visitor: TextVisitor = new TextVisitor();

  requestsRedacted: Counter = new Counter("leash_redact.requests_redacted");
  requestsBlocked: Counter = new Counter("leash_redact.requests_blocked");
  responsesRedacted: Counter = new Counter("leash_redact.responses_redacted");
  invalidBodies: Counter = new Counter("leash_redact.invalid_body");
  entities: Counter = new Counter("leash_redact.entities");

  onConfigure(configuration: string): bool {
    const r = parseRedactConfig(configuration);
    if (r.config == null) {
      logError("redact: invalid plugin configuration: " + r.error + "; expected shape: " + EXPECTED_SHAPE);
      return false;
    }
    this.config = r.config!;
    this.policies.clear();
    enableTiming(this, "redact");
    logInfo("redact: configured with " + this.config.routes.length.toString() + " routes");
    return true;
  }

  newHttpContext(id: u32): HttpContext { return new RedactStream(id, this); }
}

enum BodyMode { None, Json, Sse, Unreadable }

/** RedactStream.settings before onRequestHeaders sets it (never read then, never written). */
const UNSET: RedactSettings = new RedactSettings();

/** The entity names of the kinds in `kinds`, comma-separated. */
function kindNames(kinds: u32): string {
  let out = "";
  for (let k = 0; k < ENTITY_KINDS; k++) {
    if ((kinds & ((<u32>1) << <u32>k)) == 0) continue;
    if (out.length > 0) out += ", ";
    out += entityName(<EntityKind>k);
  }
  return out;
}

export class RedactStream extends HttpContext {
  route: Route | null = null;
  // Replaced by the tenant's or the configured settings in onRequestHeaders before anything reads
  // it; a shared placeholder spares every stream the allocation of a settings object of its own.
  settings: RedactSettings = UNSET;
  state: RedactState = new RedactState();
  rewriteRequest: bool = false;
  requestDone: bool = false;
  responseDone: bool = false;
  denied: bool = false;
  responseMode: BodyMode = BodyMode.None;
  sse: SseRewriter | null = null;
  /** leash.policy as read in onRequestHeaders (null: none), for the audit check on the response. */
  policyText: string | null = null;
  /** The response as passed on, kept for the audit trail when the tenant's audit is on (audit-trail.ts). */
  copy: ResponseCopy | null = null;

  get r(): RedactRoot { return changetype<RedactRoot>(this.root); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = getRequestHeader(":path");
    if (path == null) return HeadersAction.Continue;
    const route = matchRoute(this.r.config.routes, path);
    if (route == null) return HeadersAction.Continue;
    this.route = route;

    const policy = getPropertyString(["leash.policy"]);
    this.policyText = policy;
    if (policy != null && policy.length > 0) {
      const s = this.r.policies.get(this.r.config.defaults, policy);
      if (s == null) {
        logWarn("redact: the tenant policy in leash.policy does not parse; refusing the request");
        this.deny(503, "guard.policy_invalid", "The gateway cannot read this tenant's guard policy. Contact the gateway operator.");
        return HeadersAction.StopIteration;
      }
      this.settings = s;
    } else {
      this.settings = this.r.config.defaults;
    }
    if (!this.settings.enabled) {
      this.route = null; // the tenant opted out: nothing on this stream is touched
      return HeadersAction.Continue;
    }

    // The response must arrive uncompressed for it to be read.
    if (this.settings.responses) removeHeader(HeaderMap.RequestHeaders, "accept-encoding");

    // Any request with a body is scanned, whatever its method: a body on a GET must not be a way
    // around the guard.
    if (endOfStream) return HeadersAction.Continue;
    const declared = getRequestHeader("content-length");
    if (declared != null && contentLengthTooLarge(declared, this.r.config.maxBodyBytes)) {
      this.denyTooLarge();
      return HeadersAction.StopIteration;
    }
    // The body may be rewritten and the headers leave before it is read: the provider gets it
    // chunked instead of with a length that could be wrong.
    removeHeader(HeaderMap.RequestHeaders, "content-length");
    this.rewriteRequest = true;
    return HeadersAction.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.denied) return DataAction.StopIterationNoBuffer;
    if (!this.rewriteRequest) return DataAction.Continue;
    if (bodySize > this.r.config.maxBodyBytes) {
      this.denyTooLarge();
      return DataAction.StopIterationNoBuffer;
    }
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    return this.redactRequest(bodySize) ? DataAction.Continue : DataAction.StopIterationNoBuffer;
  }

  /**
   * A body followed by trailers never reaches onRequestBody with endOfStream: it is redacted here,
   * from the buffer, or the request would go on unread.
   */
  onRequestTrailers(count: u32): HeadersAction {
    if (this.denied) return HeadersAction.StopIteration;
    if (!this.rewriteRequest || this.requestDone) return HeadersAction.Continue;
    return this.redactRequest(MAX_BUFFER) ? HeadersAction.Continue : HeadersAction.StopIteration;
  }

  /** Checks and rewrites the buffered request body; false when the request was refused. */
  redactRequest(bodySize: u32): bool {
    this.requestDone = true;
    const body = getBuffer(BufferType.HttpRequestBody, 0, bodySize);
    bodySize = <u32>body.byteLength;
    if (bodySize > this.r.config.maxBodyBytes) {
      this.denyTooLarge();
      return false;
    }
    const base = changetype<usize>(body);
    const len = body.byteLength;
    const check = checkJson(base, len, this.r.config.maxJsonDepth, true);
    if (!check.ok) {
      this.r.invalidBodies.increment(1);
      this.deny(400, "gateway.invalid_json", "Request body is not valid JSON: " + check.reason + " at byte " + check.offset.toString() + ".");
      return false;
    }
    const v = this.r.visitor;
    v.begin(this.settings.policy, this.state);
    const sink = this.r.sink;
    this.r.walker.walk(base, len, v, sink);
    const blocked = this.state.blockedKinds();
    if (blocked != 0) {
      this.r.requestsBlocked.increment(1);
      let secret = false;
      for (let k = 0; k < ENTITY_KINDS; k++) if ((blocked & ((<u32>1) << <u32>k)) != 0 && isSecret(<EntityKind>k)) secret = true;
      const code = secret ? "guard.secret_blocked" : "guard.pii_blocked";
      logInfo("redact: " + code + " (" + kindNames(blocked) + ")");
      publishBlocked(this.state);
      this.deny(400, code, "The request contains " + (secret ? "a secret" : "personal data") + " (" + kindNames(blocked) +
        ") that this gateway's policy does not allow to be sent to the provider. Remove it and retry.");
      return false;
    }
    if (this.r.walker.changed) {
      this.r.requestsRedacted.increment(1);
      this.r.entities.increment(this.state.total());
      publishMasked(this.state);
      if (!replaceBuffer(BufferType.HttpRequestBody, bodySize, sink.toBuffer())) {
        // Never forward the original when the rewrite did not take.
        this.deny(503, "guard.redact_failed", "The gateway could not redact the request. Retry later.");
        return false;
      }
    }
    return true;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (this.route == null || this.denied || !this.settings.responses || endOfStream) return HeadersAction.Continue;
    const encoding = getResponseHeader("content-encoding");
    const type = getResponseHeader("content-type");
    const t = type == null ? "" : type.toLowerCase();
    if (encoding != null && encoding.length > 0 && encoding.toLowerCase() != "identity") {
      // Compressed despite the request asking for none: it cannot be read, so it is not passed on.
      this.responseMode = BodyMode.Unreadable;
      removeHeader(HeaderMap.ResponseHeaders, "content-encoding");
    } else if (t.includes("text/event-stream")) {
      this.responseMode = BodyMode.Sse;
      const sse = new SseRewriter(this.r.walker);
      sse.begin(this.route!.api, this.settings.responsePolicy, this.state, this.settings.holdbackChars);
      this.sse = sse;
    } else if (t.includes("json")) {
      this.responseMode = BodyMode.Json;
    } else {
      return HeadersAction.Continue;
    }
    // The route matched, so onRequestHeaders read the policy.
    if (auditEnabledIn(this.policyText)) {
      this.copy = new ResponseCopy();
      this.copy!.claim();
    }
    removeHeader(HeaderMap.ResponseHeaders, "content-length");
    return HeadersAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    const mode = this.responseMode;
    if (mode == BodyMode.None) return DataAction.Continue;
    if (mode == BodyMode.Sse) {
      const body = getBuffer(BufferType.HttpResponseBody, 0, bodySize);
      const out = this.r.sink;
      out.reset();
      const sse = this.sse!;
      sse.push(changetype<usize>(body), body.byteLength, out);
      if (endOfStream) { sse.finish(out); this.responseDone = true; }
      const replaced = out.len != body.byteLength || this.state.total() > 0 || sse.overflows > 0 || !sameBytes(body, out);
      if (replaced) replaceBuffer(BufferType.HttpResponseBody, bodySize, out.toBuffer());
      if (this.copy != null) {
        if (replaced) this.copy!.add(out.ptr, out.len); else this.copy!.addBuffer(body);
      }
      if (endOfStream) this.responseEnded();
      if (endOfStream && this.state.total() > 0) this.r.responsesRedacted.increment(1);
      return DataAction.Continue;
    }
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    this.redactResponse(bodySize);
    return DataAction.Continue;
  }

  /** As for requests: a buffered response followed by trailers is redacted here. */
  onResponseTrailers(count: u32): HeadersAction {
    if (this.responseDone || this.responseMode == BodyMode.None) return HeadersAction.Continue;
    if (this.responseMode == BodyMode.Sse) {
      // Release what the stream redactors hold; if the host takes no body now, it is dropped, never leaked.
      this.responseDone = true;
      const out = this.r.sink;
      out.reset();
      this.sse!.finish(out);
      if (out.len > 0) replaceBuffer(BufferType.HttpResponseBody, 0, out.toBuffer());
      if (this.copy != null) this.copy!.add(out.ptr, out.len);
      this.responseEnded();
      return HeadersAction.Continue;
    }
    this.redactResponse(MAX_BUFFER);
    return HeadersAction.Continue;
  }

  /** Rewrites the buffered (non-streamed) response body. */
  redactResponse(bodySize: u32): void {
    this.responseDone = true;
    const mode = this.responseMode;
    const body = getBuffer(BufferType.HttpResponseBody, 0, bodySize);
    bodySize = <u32>body.byteLength;
    if (mode == BodyMode.Unreadable) {
      const api = this.route!.api;
      const msg = "{\"error\":{\"message\":\"The provider sent a compressed response the gateway cannot inspect.\",\"type\":\"api_error\",\"code\":\"guard.response_unreadable\"}}";
      const anth = "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"The provider sent a compressed response the gateway cannot inspect.\",\"code\":\"guard.response_unreadable\"}}";
      const replacement = String.UTF8.encode(api == ApiFormat.Anthropic ? anth : msg);
      replaceBuffer(BufferType.HttpResponseBody, bodySize, replacement);
      if (this.copy != null) this.copy!.addBuffer(replacement);
      this.responseEnded();
      return;
    }
    const base = changetype<usize>(body);
    const len = body.byteLength;
    const policy = this.settings.responsePolicy;
    if (checkJson(base, len, this.r.config.maxJsonDepth, false).ok) {
      const v = this.r.visitor;
      v.begin(policy, this.state);
      const sink = this.r.sink;
      this.r.walker.walk(base, len, v, sink);
      const changed = this.r.walker.changed;
      if (changed) {
        this.r.responsesRedacted.increment(1);
        replaceBuffer(BufferType.HttpResponseBody, bodySize, sink.toBuffer());
      }
      if (this.copy != null) {
        if (changed) this.copy!.add(sink.ptr, sink.len); else this.copy!.addBuffer(body);
      }
      this.responseEnded();
      return;
    }
    // Not JSON after all (or malformed): redact it as text; the placeholders hold no JSON syntax.
    const text = String.UTF8.decode(body);
    const redacted = redactText(text, policy, this.state);
    const passed = redacted != text ? String.UTF8.encode(redacted) : body;
    if (redacted != text) {
      this.r.responsesRedacted.increment(1);
      replaceBuffer(BufferType.HttpResponseBody, bodySize, passed);
    }
    if (this.copy != null) this.copy!.addBuffer(passed);
    this.responseEnded();
    return;
  }

  /** The response is complete: hand the audit copy over and count the response's entities in the decision. */
  responseEnded(): void {
    if (this.copy != null) this.copy!.publish();
    publishMasked(this.state);
  }

  denyTooLarge(): void {
    this.deny(413, "gateway.body_too_large", "Request body is larger than the gateway accepts (" +
      this.r.config.maxBodyBytes.toString() + " bytes).");
  }

  deny(status: u32, code: string, message: string): void {
    this.denied = true;
    denyRequest(this.route == null ? ApiFormat.OpenAI : this.route!.api, status, code, message);
  }
}

/** Length to ask the host for "the whole buffer" (it clamps to what it has). */
const MAX_BUFFER: u32 = 0x7fffffff;

function sameBytes(a: ArrayBuffer, sink: ByteSink): bool {
  if (a.byteLength != sink.len) return false;
  return memory.compare(changetype<usize>(a), sink.ptr, <usize>sink.len) == 0;
}
