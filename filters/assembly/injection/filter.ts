// The injection module: on provider routes it holds the request, reads the whole body, scores the
// prompt text for injection and jailbreak patterns (scorer.ts), and per the effective policy
// (tenant policy over plugin settings, config.ts) either refuses the request with 400
// guard.prompt_injection in the route's API format — the provider never sees it — or forwards it
// flagged: `x-leash-injection-score` on the upstream request, `x-leash-injection` on the
// response, and a log line. Below the threshold the request passes untouched. A tenant policy it
// cannot read refuses the request (503 guard.policy_invalid), as every guard does.
//
// The headers are held (StopIteration) until the body is scored, because a flag header can only
// be added while they are: this needs `allow_on_headers_stop_iteration: true` in the filter's
// PluginConfig, without which Envoy would hold the body too (proxy-wasm-cpp-host #143).
import { RootContext, HttpContext } from "../sdk/context";
import { HeadersAction, DataAction, BufferType, HeaderMap } from "../sdk/abi";
import { getBuffer, getPropertyString, getRequestHeader, addHeader, removeHeader, replaceHeader, logError, logInfo, logWarn } from "../sdk/host";
import { denyRequest, ApiFormat } from "../sdk/api-error";
import { checkJson } from "../sdk/json-check";
import { contentLengthTooLarge } from "../sdk/body-limit";
import { Counter } from "../sdk/metrics";
import { Route, matchRoute } from "../sdk/routes";
import { InjectionConfig, parseInjectionConfig, policyFor, Action, PolicyResult, EXPECTED_SHAPE } from "./config";
import { Tokens } from "./tokens";
import { scoreTokens, Score } from "./scorer";
import { feedPromptText } from "./prompt-text";
import { enableTiming } from "../sdk/timing";
import { publishGuardDecision } from "../sdk/guard-decision";

export const SCORE_HEADER = "x-leash-injection-score";
export const RESULT_HEADER = "x-leash-injection";
export const CODE = "guard.prompt_injection";
const MAX_JSON_DEPTH: i32 = 64; // the auth module's default; prompt bodies are shallow

// One stream is scored at a time per VM thread, so one token buffer serves them all.
const tokens = new Tokens();

export class InjectionRoot extends RootContext {
  config: InjectionConfig = new InjectionConfig();
  scanned: Counter = new Counter("leash_injection.scanned");
  flagged: Counter = new Counter("leash_injection.flagged");
  blocked: Counter = new Counter("leash_injection.blocked");
  invalid: Counter = new Counter("leash_injection.invalid_body");
  policyErrors: Counter = new Counter("leash_injection.policy_errors");
  /** The last tenant policy string and what it gave: tenants repeat, so most requests parse nothing. */
  lastPolicyText: string | null = null;
  lastPolicy: PolicyResult | null = null;

  policy(text: string | null): PolicyResult {
    if (this.lastPolicy != null && text == this.lastPolicyText) return this.lastPolicy!;
    const r = policyFor(text, this.config.defaults);
    this.lastPolicyText = text;
    this.lastPolicy = r;
    return r;
  }

  onConfigure(configuration: string): bool {
    const r = parseInjectionConfig(configuration);
    if (r.config == null) {
      logError("injection: invalid plugin configuration: " + r.error + "; expected shape: " + EXPECTED_SHAPE);
      return false;
    }
    this.config = r.config!;
    this.lastPolicy = null; // the defaults under it changed
    enableTiming(this, "injection");
    const d = this.config.defaults;
    logInfo("injection: configured with " + this.config.routes.length.toString() + " routes, action=" +
      (d.action == Action.Block ? "block" : "flag") + ", threshold=" + formatScore(d.threshold));
    return true;
  }

  newHttpContext(id: u32): HttpContext { return new InjectionStream(id, this); }
}

class InjectionStream extends HttpContext {
  route: Route | null = null;
  /** Set once the body is scored (or refused): later callbacks pass through. */
  decided: bool = false;
  /** The response header value when the request was flagged ("" otherwise). */
  flag: string = "";
  /** Bytes buffered so far (a request with trailers ends in onRequestTrailers, not with the body). */
  bodySize: u32 = 0;

  get root_(): InjectionRoot { return changetype<InjectionRoot>(this.root); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = getRequestHeader(":path");
    if (path == null) return HeadersAction.Continue;
    const route = matchRoute(this.root_.config.routes, path);
    if (route == null) return HeadersAction.Continue;
    this.route = route;
    // Only this module may tell the provider a request was flagged.
    removeHeader(HeaderMap.RequestHeaders, SCORE_HEADER);
    if (endOfStream) { this.decided = true; return HeadersAction.Continue; } // no body, no prompt
    const declared = getRequestHeader("content-length");
    if (declared != null && contentLengthTooLarge(declared, this.root_.config.maxBodyBytes)) this.denyTooLarge();
    return HeadersAction.StopIteration;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.route == null || this.decided) return DataAction.Continue;
    if (bodySize > this.root_.config.maxBodyBytes) {
      this.denyTooLarge();
      return DataAction.StopIterationNoBuffer;
    }
    this.bodySize = bodySize;
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    return this.decide() ? DataAction.Continue : DataAction.StopIterationNoBuffer;
  }

  onRequestTrailers(count: u32): HeadersAction {
    if (this.route == null || this.decided) return HeadersAction.Continue;
    return this.decide() ? HeadersAction.Continue : HeadersAction.StopIteration;
  }

  /** Scores the whole buffered body and acts on it; true when the request may go on. */
  decide(): bool {
    this.decided = true;
    const body = getBuffer(BufferType.HttpRequestBody, 0, this.bodySize);
    const base = changetype<usize>(body);
    const check = checkJson(base, body.byteLength, MAX_JSON_DEPTH, true);
    if (!check.ok) {
      this.root_.invalid.increment(1);
      this.deny(400, "gateway.invalid_json", "Request body is not valid JSON: " + check.reason + " at byte " + check.offset.toString() + ".", "");
      return false;
    }
    const pr = this.root_.policy(getPropertyString(["leash.policy"]));
    if (pr.error.length > 0) {
      this.root_.policyErrors.increment(1);
      logWarn("injection: unreadable tenant policy, request refused: " + pr.error);
      this.deny(503, "guard.policy_invalid", "The gateway cannot read this tenant's guard policy. Retry later or contact the operator.", "");
      return false;
    }
    const policy = pr.policy;
    tokens.reset();
    tokens.boundary();
    feedPromptText(base, body.byteLength, tokens);
    const s = scoreTokens(tokens);
    this.root_.scanned.increment(1);
    const shown = formatScore(s.score);
    // The decision uses the score as shown, so the header and the log agree with what happened.
    if (parseFloat(shown) + 1e-9 < policy.threshold) return true;

    if (policy.action == Action.Block) {
      this.root_.blocked.increment(1);
      this.log("blocked", s, shown, policy.threshold);
      publishGuardDecision("injection", "injection:blocked(" + shown + ")");
      this.deny(400, CODE, "The request looks like a prompt-injection or jailbreak attempt (score " + shown +
        ", threshold " + formatScore(policy.threshold) + ") and was not sent to the provider.", "blocked;score=" + shown);
      return false;
    }
    this.root_.flagged.increment(1);
    this.log("flagged", s, shown, policy.threshold);
    publishGuardDecision("injection", "injection:flagged(" + shown + ")");
    replaceHeader(HeaderMap.RequestHeaders, SCORE_HEADER, shown);
    this.flag = "flagged;score=" + shown;
    return true;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (this.flag.length > 0) addHeader(HeaderMap.ResponseHeaders, RESULT_HEADER, this.flag);
    return HeadersAction.Continue;
  }

  /** One line per flagged or blocked request: never the prompt, only what matched. */
  log(what: string, s: Score, shown: string, threshold: f64): void {
    const rid = getRequestHeader("x-request-id");
    const tenant = getPropertyString(["leash.tenant_id"]);
    logWarn("injection: " + what + " request_id=" + (rid == null ? "-" : rid) + " tenant=" + (tenant == null ? "-" : tenant) +
      " score=" + shown + " threshold=" + formatScore(threshold) + " matched=" + s.reasons());
  }

  denyTooLarge(): void {
    this.decided = true;
    this.root_.invalid.increment(1);
    this.deny(413, "gateway.body_too_large", "Request body is larger than the gateway accepts (" +
      this.root_.config.maxBodyBytes.toString() + " bytes).", "");
  }

  deny(status: u32, code: string, message: string, result: string): void {
    this.decided = true;
    const api = this.route == null ? ApiFormat.OpenAI : this.route!.api;
    const extra = new Array<string>(0);
    if (result.length > 0) { extra.push(RESULT_HEADER); extra.push(result); }
    denyRequest(api, status, code, message, extra);
  }
}

/** A score with two decimals ("0.93", "1.00"), rounded half up. */
export function formatScore(x: f64): string {
  const h = <i32>Math.floor(x * 100 + 0.5);
  const frac = h % 100;
  return (h / 100).toString() + "." + (frac < 10 ? "0" : "") + frac.toString();
}
