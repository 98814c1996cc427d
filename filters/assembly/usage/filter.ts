// The usage module: meters every request the auth module let through. It watches the response as
// it streams by (never holding it back), reads the provider's token usage from the JSON body or
// the SSE events (see extract.ts), and when the request ends reports one UsageReport to the
// sidecar, batched (RecordUsageBatch: up to batch_max reports, at most flush_ms late), which prices
// them and writes the ledger and metrics. Reports the sidecar did not take are queued in the VM and
// retried on a timer; the sidecar de-duplicates by request id.
import { RootContext, HttpContext, CallReply } from "../sdk/context";
import { HeadersAction, DataAction, BufferType, HeaderMap } from "../sdk/abi";
import { grpcCallDetached, grpcServiceForCluster } from "../sdk/callouts";
import { getBuffer, getPropertyString, getRequestHeader, getResponseHeader, logError, logInfo, logWarn, removeHeader, replaceBuffer, replaceHeader, setTickPeriod } from "../sdk/host";
import { ApiFormat } from "../sdk/api-error";
import { topLevelValues, stringAt } from "../sdk/json-field";
import { Counter } from "../sdk/metrics";
import { Route, matchRoute } from "../sdk/routes";
import { UsageConfig, parseUsageConfig, EXPECTED_SHAPE } from "./config";
import { Usage, usageFromBytes } from "./extract";
import { StreamEvents } from "./stream-events";
import { enableTiming, readModuleTimings, spentMicros, callbackStartMillis, ModuleTime, TIMED_MODULES } from "../sdk/timing";
import { SERVICE, METHOD, UsageReport, batchedSize, encodeUsageReport, encodeUsageBatch } from "./report-pb";
import { takesStreamOptions, withIncludeUsageAt } from "./stream-options";
import { UsageChunkStripper } from "./usage-chunk";
import { readGuardDecisions } from "../sdk/guard-decision";
import { auditEnabled } from "../sdk/audit-policy";
import { AuditCapture } from "./audit-capture";
import { refusedRoute, responseCode } from "./refused";

/** The request body's members this module reads: the model, and what include_usage depends on. */
const REQUEST_MEMBERS: Array<string> = ["model", "stream", "stream_options"];

export class UsageRoot extends RootContext {
  config: UsageConfig = new UsageConfig();
  upstream: ArrayBuffer = new ArrayBuffer(0);
  /** Reports waiting for the next batch (sent when full or on the flush timer). */
  batch: Array<ArrayBuffer> = new Array<ArrayBuffer>(0);
  /** Encoded size of `batch` as one RecordUsageBatch message. */
  batchBytes: i32 = 0;
  /** Batches in flight, by call token, kept until the sidecar acknowledges them. */
  inFlight: Map<u32, Array<ArrayBuffer>> = new Map<u32, Array<ArrayBuffer>>();
  /** Reports to send again (the sidecar was unreachable or failed). */
  retry: Array<ArrayBuffer> = new Array<ArrayBuffer>(0);
  /** Bytes held in `retry` (reports of tenants with audit on carry their bodies). */
  retryBytes: i64 = 0;
  ticks: u32 = 0;
  sent: Counter = new Counter("leash_usage.reports_sent");
  failed: Counter = new Counter("leash_usage.reports_failed");
  dropped: Counter = new Counter("leash_usage.reports_dropped");

  onConfigure(configuration: string): bool {
    const r = parseUsageConfig(configuration);
    if (r.config == null) {
      logError("usage: invalid plugin configuration: " + r.error + "; expected shape: " + EXPECTED_SHAPE);
      return false;
    }
    this.config = r.config!;
    this.upstream = grpcServiceForCluster(this.config.sidecarCluster);
    // Measured, not published: this module reads its own total when it reports.
    enableTiming(this, "usage", false);
    setTickPeriod(this.config.flushMs);
    logInfo("usage: configured with " + this.config.routes.length.toString() + " routes");
    return true;
  }

  newHttpContext(id: u32): HttpContext { return new UsageStream(id, this); }

  /**
   * Queues one report; a full batch (batch_max reports or batch_max_bytes) goes out at once, the
   * rest on the flush timer. A report that would take the batch past batch_max_bytes starts the
   * next one: the sidecar refuses a message over its limit, and a refused batch would be refused
   * again at every retry.
   */
  send(report: ArrayBuffer): void {
    const bytes = batchedSize(report);
    if (this.batch.length > 0 && this.batchBytes + bytes > this.config.batchMaxBytes) this.flush();
    this.batch.push(report);
    this.batchBytes += bytes;
    if (this.batch.length >= this.config.batchMax || this.batchBytes >= this.config.batchMaxBytes) this.flush();
  }

  /** Sends the waiting reports as one RecordUsageBatch call (one report per call cost ~0.6 ms of CPU). */
  flush(): void {
    if (this.batch.length == 0) return;
    const reports = this.batch;
    this.batch = new Array<ArrayBuffer>(0);
    this.batchBytes = 0;
    const token = grpcCallDetached(this, this.upstream, SERVICE, METHOD, new Array<string>(0), encodeUsageBatch(reports), this.config.timeoutMs);
    if (token == 0) {
      this.requeue(reports);
      return;
    }
    this.inFlight.set(token, reports);
  }

  onCallReply(reply: CallReply): void {
    if (!this.inFlight.has(reply.token)) return;
    const reports = this.inFlight.get(reply.token);
    this.inFlight.delete(reply.token);
    if (reply.ok) {
      this.sent.increment(<i64>reports.length);
      return;
    }
    this.failed.increment(<i64>reports.length);
    this.requeue(reports);
  }

  /**
   * Keeps reports for a later retry, at most retry_queue_max of them and retry_queue_max_bytes in
   * all (the VM's memory is finite: audited reports can be megabytes); past either bound the oldest
   * are dropped and counted, and a report larger than the byte bound alone is dropped at once.
   */
  requeue(reports: Array<ArrayBuffer>): void {
    const maxBytes = this.config.retryQueueMaxBytes;
    for (let i = 0; i < reports.length; i++) {
      const size = <i64>reports[i].byteLength;
      if (this.config.retryQueueMax == 0 || size > maxBytes) { this.dropped.increment(1); continue; }
      while (this.retry.length > 0 && (this.retry.length >= this.config.retryQueueMax || this.retryBytes + size > maxBytes)) {
        this.retryBytes -= <i64>this.retry.shift().byteLength;
        this.dropped.increment(1);
      }
      this.retry.push(reports[i]);
      this.retryBytes += size;
    }
  }

  onTick(): void {
    this.flush();
    this.ticks++;
    const every = this.config.retryTickMs / this.config.flushMs;
    if (this.retry.length == 0 || (every > 1 && this.ticks % every != 0)) return;
    // Bounded per retry so a long outage's backlog does not flood the sidecar when it returns.
    const n = this.retry.length < 200 ? this.retry.length : 200;
    const again = this.retry.slice(0, n);
    this.retry = this.retry.slice(n);
    for (let i = 0; i < again.length; i++) this.retryBytes -= <i64>again[i].byteLength;
    for (let i = 0; i < again.length; i++) this.send(again[i]);
    this.flush();
    if (this.retry.length > 0) logWarn("usage: " + this.retry.length.toString() + " reports waiting for the sidecar");
  }
}

class UsageStream extends HttpContext {
  route: Route | null = null;
  report: UsageReport = new UsageReport();
  usage: Usage = new Usage();
  startMs: u64 = 0;
  streamed: bool = false;
  sse: StreamEvents | null = null;
  /** Chunks of a non-streamed body (copies), joined once at the end. */
  chunks: Array<ArrayBuffer> = new Array<ArrayBuffer>(0);
  bodyLength: i32 = 0;
  bodyTooLarge: bool = false;
  reported: bool = false;
  /** An OpenAI completion request that may stream: its body may need include_usage (stream-options.ts). */
  mayAskUsage: bool = false;
  /** Set when the module added include_usage: takes the usage-only chunk out of the response. */
  stripper: UsageChunkStripper | null = null;
  /** The bodies for the audit trail, when the tenant's audit is on (audit-capture.ts). */
  audit: AuditCapture | null = null;

  get root_(): UsageRoot { return changetype<UsageRoot>(this.root); }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    const path = getRequestHeader(":path");
    if (path == null) return HeadersAction.Continue;
    const route = matchRoute(this.root_.config.routes, path);
    if (route == null) return HeadersAction.Continue;
    this.begin(route, getRequestHeader("x-request-id"));
    const r = this.report;
    // The client's trace context, so the sidecar's RecordUsage span joins the request's trace.
    const tp = getRequestHeader("traceparent");
    if (tp != null && tp.length <= 128) r.traceparent = tp;
    // The module reads usage from the response bytes: a compressed answer (a client SDK's
    // accept-encoding, passed on) would leave every request unmetered, and the quota unsettled.
    // The provider leg is uncompressed; Envoy still talks to the client as before.
    removeHeader(HeaderMap.RequestHeaders, "accept-encoding");
    if (auditEnabled()) this.audit = new AuditCapture(this.root_.config.auditMaxBodyBytes);
    // :method is read last: a host call, needed only for an OpenAI completion endpoint.
    if (route.api == ApiFormat.OpenAI && !endOfStream && takesStreamOptions(path) && isPost()) {
      // The body may grow (include_usage): hold the headers, so Content-Length can still be fixed
      // before they go upstream (the plugin's allow_on_headers_stop_iteration keeps the body coming).
      this.mayAskUsage = true;
      return HeadersAction.StopIteration;
    }
    return HeadersAction.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.route == null) return DataAction.Continue;
    // An audited body is buffered too, so it is read whole (the auth module holds it anyway).
    if (!endOfStream) return this.mayAskUsage || this.audit != null ? DataAction.StopIterationAndBuffer : DataAction.Continue;
    // The auth module buffered and checked the whole body, so it arrives here in one piece.
    const body = getBuffer(BufferType.HttpRequestBody, 0, bodySize);
    const base = changetype<usize>(body);
    const needModel = this.report.model.length == 0;
    if (needModel || this.mayAskUsage) {
      // model, stream and stream_options located in one pass over the body (prompts can be large).
      const found = topLevelValues(base, body.byteLength, REQUEST_MEMBERS);
      if (needModel) {
        const model = stringAt(base, body.byteLength, found[0]);
        if (model != null) this.report.model = model.length > 200 ? model.substring(0, 200) : model;
      }
      const changed = this.mayAskUsage ? withIncludeUsageAt(base, body.byteLength, found[1], found[2]) : null;
      if (changed != null && replaceBuffer(BufferType.HttpRequestBody, bodySize, changed)) {
        if (getRequestHeader("content-length") != null) {
          replaceHeader(HeaderMap.RequestHeaders, "content-length", changed.byteLength.toString());
        }
        this.stripper = new UsageChunkStripper();
        if (this.audit != null) this.audit!.request.addBuffer(changed);
        return DataAction.Continue;
      }
    }
    if (this.audit != null) this.audit!.request.addBuffer(body);
    return DataAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    if (this.route == null) return HeadersAction.Continue;
    // The clock reading the callback's timing took (sdk/timing.ts): one host call less.
    this.report.upstreamFirstByteMs = callbackStartMillis(this) - this.startMs;
    const status = getResponseHeader(":status");
    this.report.status = status == null ? 0 : <u32>I32.parseInt(status);
    const type = getResponseHeader("content-type");
    this.streamed = type != null && type.toLowerCase().includes("text/event-stream");
    if (this.streamed) this.sse = new StreamEvents(this.route!.api, 1 << 20);
    if (this.stripper != null) {
      // Only a successful, uncompressed stream carries a usage chunk this can find (compressed
      // bytes would only be held back waiting for an event end); a body that shrinks cannot keep
      // a length.
      // (content-encoding is read only when it decides: a host call.)
      if (this.streamed && this.report.status == 200 && plainEncoding()) removeHeader(HeaderMap.ResponseHeaders, "content-length");
      else this.stripper = null;
    }
    return HeadersAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.route == null) return DataAction.Continue;
    const stripping = this.stripper != null && !this.stripper!.done;
    if (bodySize == 0 && !(stripping && endOfStream)) return DataAction.Continue;
    // Each callback sees this chunk only (Continue passes it on); copy, never hold it back.
    const chunk = getBuffer(BufferType.HttpResponseBody, 0, bodySize);
    if (this.streamed) {
      this.sse!.feed(changetype<usize>(chunk), chunk.byteLength, this.usage);
      if (stripping) {
        const passed = this.stripper!.nextChunk(chunk, endOfStream);
        if (!this.stripper!.unchanged) replaceBuffer(BufferType.HttpResponseBody, bodySize, passed);
        if (this.audit != null) this.audit!.response.addBuffer(passed);
      } else if (this.audit != null) {
        this.audit!.response.addBuffer(chunk);
      }
      return DataAction.Continue;
    }
    if (this.audit != null) this.audit!.response.addBuffer(chunk);
    if (!this.bodyTooLarge) {
      if (this.bodyLength + chunk.byteLength > this.root_.config.maxResponseBytes) {
        this.bodyTooLarge = true;
        this.chunks = new Array<ArrayBuffer>(0);
      } else {
        this.chunks.push(chunk);
        this.bodyLength += chunk.byteLength;
      }
    }
    return DataAction.Continue;
  }

  /** Starts the report: the route, the clock, and who sent it. */
  begin(route: Route, rid: string | null): void {
    this.route = route;
    this.startMs = callbackStartMillis(this);
    const r = this.report;
    r.startedAtMs = this.startMs;
    r.provider = route.provider;
    r.api = route.api == ApiFormat.Anthropic ? "anthropic" : "openai";
    r.requestId = rid == null ? "" : rid;
    // Set by the auth module, which runs before this one and let the request in.
    const tenant = getPropertyString(["leash.tenant_id"]);
    const key = getPropertyString(["leash.key_id"]);
    r.tenantId = tenant == null ? "" : tenant;
    r.keyId = key == null ? "" : key;
  }

  /**
   * Readies the report of a request a guard refused before its headers reached this module
   * (refused.ts): no body was seen, so only the decision, the status and, if audited, an entry
   * without bodies.
   */
  startRefused(decisions: string): bool {
    const route = refusedRoute(this.root_.config.routes, decisions);
    if (route == null) return false;
    this.begin(route, getPropertyString(["request", "id"]));
    this.report.status = responseCode();
    if (auditEnabled()) this.audit = new AuditCapture(this.root_.config.auditMaxBodyBytes);
    return true;
  }

  /** The request is over (complete, failed or abandoned): report what was seen, once. */
  onLog(): void {
    if (this.reported) return;
    const decisions = readGuardDecisions();
    if (this.route == null && !this.startRefused(decisions)) return;
    this.reported = true;
    const r = this.report;
    if (!this.streamed && this.bodyLength > 0) {
      // Read from the bytes (extract.ts): no UTF-16 copy of the body, no tree.
      const body = this.chunks.length == 1 ? this.chunks[0] : joined(this.chunks, this.bodyLength);
      const u = usageFromBytes(this.route!.api, changetype<usize>(body), body.byteLength);
      if (u.reported) this.usage = u;
    }
    const u = this.usage;
    if (u.model.length > 0) r.model = u.model;
    r.promptTokens = u.promptTokens;
    r.cachedTokens = u.cachedTokens;
    r.completionTokens = u.reported ? u.completionTokens : u.estimatedCompletionTokens();
    // A successful answer without reported usage is estimated; an error answer has none to estimate.
    r.estimated = !u.reported && r.status >= 200 && r.status < 300;
    r.streamed = this.streamed;
    // Envoy's response code details: "via_upstream" only for a response the provider sent; local
    // replies (denials, connect failures, timeouts) carry their own. The sidecar releases a quota
    // reservation when this is false.
    const details = getPropertyString(["response", "code_details"]);
    r.upstreamResponded = details != null && details == "via_upstream";
    r.durationMs = callbackStartMillis(this) - this.startMs;
    const reservation = getPropertyString(["leash.quota.reservation"]);
    if (reservation != null) r.reservationId = reservation;
    // Every earlier module's total (published as filter state), then this module's own, measured
    // up to here: encoding the report is the only work left.
    r.guardDecisions = decisions;
    if (this.audit != null) this.audit!.fill(r);
    r.moduleTimings = readModuleTimings(TIMED_MODULES);
    r.moduleTimings.push(new ModuleTime("usage", spentMicros(this)));
    this.root_.send(encodeUsageReport(r));
  }
}

function plainEncoding(): bool {
  const encoding = getResponseHeader("content-encoding");
  return encoding == null || encoding.toLowerCase() == "identity";
}

function isPost(): bool {
  const method = getRequestHeader(":method");
  return method != null && method == "POST";
}

function joined(chunks: Array<ArrayBuffer>, length: i32): ArrayBuffer {
  const out = new ArrayBuffer(length);
  let at: usize = changetype<usize>(out);
  for (let i = 0; i < chunks.length; i++) {
    memory.copy(at, changetype<usize>(chunks[i]), <usize>chunks[i].byteLength);
    at += <usize>chunks[i].byteLength;
  }
  return out;
}
