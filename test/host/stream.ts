/**
 * One HTTP stream (a proxy-wasm stream context), driven the way Envoy's HTTP filter manager drives
 * the wasm filter (envoyproxy/envoy source/extensions/common/wasm/context.cc, decodeHeaders … encodeTrailers):
 *
 * - Header maps are readable and writable from their callback until the filter lets them go
 *   (callback returned Continue, or proxy_continue_stream); afterwards only proxy_on_log reads them.
 * - StopIteration from a headers callback becomes StopAllIterationAndWatermark (unless
 *   `allowOnHeadersStopIteration`): body and trailers that arrive meanwhile are held by the host and
 *   delivered, merged, once the module continues the stream.
 * - StopIterationAndBuffer/Watermark from a body callback keeps the body; the next callback sees
 *   all of it. Continue lets the (possibly rewritten) body through.
 * - After proxy_send_local_response the callback's result becomes a Stop, and the stream is over.
 * - When the VM has failed, callbacks are not run: the stream gets a 503 ("wasm_fail_stream"),
 *   or passes untouched when the host is fail-open.
 */
import {
  BufferType,
  DataAction,
  FAIL_STREAM_DETAILS,
  GrpcStatus,
  HeaderAction,
  HeaderMapType,
  StreamType,
  TrailerAction,
  WasmResult,
} from "./abi.ts";
import { BodyBuffer, ConstBuffer } from "./buffers.ts";
import type { HostBuffer } from "./buffers.ts";
import { HeaderMap } from "./header-map.ts";
import type { HostContext } from "./host-core.ts";
import { bytesToText, concatBytes, toBytes } from "./memory.ts";
import type { HeaderPair } from "./memory.ts";
import { encodePropertyValue, headerAttributes } from "./properties.ts";
import type { LocalResponse } from "./records.ts";
import type { RootContext } from "./root-context.ts";

/** What a stream needs from the host that owns it. */
export interface StreamHost {
  readonly failed: boolean;
  readonly failOpen: boolean;
  readonly allowOnHeadersStopIteration: boolean;
  rootContext(): RootContext;
  hostProperty(path: string): Uint8Array | undefined;
  hasExport(name: string): boolean;
  /** Runs callback `name`; returns its i32 result (0 for void callbacks), or undefined if it trapped. */
  callExport(name: string, contextId: number, args: readonly number[]): number | undefined;
  /** Whether the callback that just ran sent a local response (and clears the flag). */
  takeStopNextIteration(): boolean;
  /** Runs `fn`, then the actions the VM deferred (continue/local reply) once the outermost call ends. */
  withAfterActions<T>(fn: () => T): T;
  /** Defers `action` until the current VM call (and the host's handling of its result) is over. */
  afterVmCall(action: () => void): void;
  forgetContext(id: number): void;
}

/** How the last callback went, for assertions. */
export interface CallbackOutcome {
  callback: string;
  /** What the module returned, or null when it did not run (failed VM, trap). */
  returned: number | null;
  /** What Envoy would act on after its conversions. */
  effective: number;
}

/** A body/trailers event the host holds while the filter pauses at headers. */
type HeldEvent = { kind: "data"; data: Uint8Array; endOfStream: boolean } | { kind: "trailers"; pairs: HeaderPair[] };

/** Per-direction (request or response) state. */
class Direction {
  headers: HeaderMap | null = null;
  headersReadable: boolean = false;
  trailers: HeaderMap | null = null;
  trailersReadable: boolean = false;
  /** The filter stopped all iteration at headers: later events wait in `held`. */
  pausedAtHeaders: boolean = false;
  held: HeldEvent[] = [];
  /** The filter is accumulating the body (StopIterationAndBuffer / Watermark). */
  buffering: boolean = false;
  readonly body: BodyBuffer = new BodyBuffer();
  /** Body bytes the filter let through. */
  readonly passed: Uint8Array[] = [];
  continued: boolean = false;

  constructor(readonly name: "request" | "response") {}

  /** Everything the filter let through or still holds. */
  bodyBytes(): Uint8Array {
    const heldData: Uint8Array[] = this.held.flatMap((e: HeldEvent) => (e.kind === "data" ? [e.data] : []));
    return concatBytes([...this.passed, this.body.bytes(), ...heldData]);
  }
}

export class HttpStream implements HostContext {
  readonly isRoot: boolean = false;
  private readonly request: Direction = new Direction("request");
  private readonly response: Direction = new Direction("response");
  /** Properties the module set (Envoy filter state `wasm.<path>`), keyed by NUL-joined path. */
  readonly filterState: Map<string, Uint8Array> = new Map();
  /** The first local response (module's or the host's fail-closed 503), or null. */
  localResponse: LocalResponse | null = null;
  /** Every local response the module attempted, in order (later ones have no effect in Envoy). */
  readonly localResponses: LocalResponse[] = [];
  /** The module reset the stream with proxy_close_stream. */
  reset: boolean = false;
  /** proxy_on_delete ran (or the context is otherwise gone). */
  deleted: boolean = false;
  lastOutcome: CallbackOutcome | null = null;
  private inLog: boolean = false;

  constructor(
    readonly id: number,
    private readonly host: StreamHost,
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Driving the stream (what Envoy's filter manager does)
  // ---------------------------------------------------------------------------------------------

  /** Delivers request headers; returns the module's action, or the host's when the module did not run. */
  requestHeaders(headers: ReadonlyArray<readonly [string, string]>, endOfStream: boolean = false): number | null {
    return this.host.withAfterActions(() => this.deliverHeaders(this.request, headers, endOfStream));
  }
  /**
   * Delivers a request body chunk; returns the action, or null when the chunk was held because the
   * filter paused at headers, or the stream is over.
   */
  requestBody(data: string | Uint8Array, endOfStream: boolean = false): number | null {
    return this.host.withAfterActions(() => this.deliverData(this.request, toBytes(data), endOfStream));
  }
  requestTrailers(trailers: ReadonlyArray<readonly [string, string]>): number | null {
    return this.host.withAfterActions(() => this.deliverTrailers(this.request, trailers));
  }
  responseHeaders(headers: ReadonlyArray<readonly [string, string]>, endOfStream: boolean = false): number | null {
    return this.host.withAfterActions(() => this.deliverHeaders(this.response, headers, endOfStream));
  }
  responseBody(data: string | Uint8Array, endOfStream: boolean = false): number | null {
    return this.host.withAfterActions(() => this.deliverData(this.response, toBytes(data), endOfStream));
  }
  responseTrailers(trailers: ReadonlyArray<readonly [string, string]>): number | null {
    return this.host.withAfterActions(() => this.deliverTrailers(this.response, trailers));
  }

  /**
   * Ends the stream as Envoy does: the access-log pass (proxy_on_log, headers readable again), then
   * filter destruction (proxy_on_done, proxy_on_delete). Nothing runs on a failed VM.
   */
  done(): void {
    if (this.deleted) return;
    this.host.withAfterActions(() => {
      if (!this.host.failed && this.host.hasExport("proxy_on_log")) {
        this.inLog = true;
        try {
          this.host.callExport("proxy_on_log", this.id, [this.id]);
        } finally {
          this.inLog = false;
        }
      }
      if (!this.host.failed && this.host.hasExport("proxy_on_done")) {
        this.host.callExport("proxy_on_done", this.id, [this.id]);
      }
      if (!this.host.failed && this.host.hasExport("proxy_on_delete")) {
        this.host.callExport("proxy_on_delete", this.id, [this.id]);
      }
      this.deleted = true;
      this.request.body.detach();
      this.response.body.detach();
      this.host.forgetContext(this.id);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Observing the stream
  // ---------------------------------------------------------------------------------------------

  /** Request headers as they stand now (including the module's edits); [] before they arrived. */
  getRequestHeaders(): HeaderPair[] {
    return this.request.headers?.pairs() ?? [];
  }
  getResponseHeaders(): HeaderPair[] {
    return this.response.headers?.pairs() ?? [];
  }
  getRequestTrailers(): HeaderPair[] {
    return this.request.trailers?.pairs() ?? [];
  }
  getResponseTrailers(): HeaderPair[] {
    return this.response.trailers?.pairs() ?? [];
  }
  /** Sets a response header between callbacks, as another filter of Envoy's chain may. */
  replaceResponseHeader(name: string, value: string): void {
    if (this.response.headers === null) throw new Error("no response headers yet");
    this.response.headers.replace(name, value);
  }

  requestHeader(name: string): string | undefined {
    return this.request.headers?.get(name);
  }
  responseHeader(name: string): string | undefined {
    return this.response.headers?.get(name);
  }

  /** Request body the filter let through plus what it still holds (i.e. what upstream gets on continue). */
  get requestBodyBytes(): Uint8Array {
    return this.request.bodyBytes();
  }
  get requestBodyText(): string {
    return bytesToText(this.request.bodyBytes());
  }
  get responseBodyBytes(): Uint8Array {
    return this.response.bodyBytes();
  }
  get responseBodyText(): string {
    return bytesToText(this.response.bodyBytes());
  }

  /** Whether proxy_continue_stream was called for each direction. */
  get continued(): { request: boolean; response: boolean } {
    return { request: this.request.continued, response: this.response.continued };
  }
  /** Whether the filter currently holds the request/response (paused at headers, or buffering the body). */
  get paused(): { request: boolean; response: boolean } {
    const p = (d: Direction): boolean => !this.finished && (d.pausedAtHeaders || d.buffering);
    return { request: p(this.request), response: p(this.response) };
  }
  /** A local response was sent, the stream was reset, or it was deleted: nothing more flows. */
  get finished(): boolean {
    return this.localResponse !== null || this.reset || this.deleted;
  }

  // ---------------------------------------------------------------------------------------------
  // HostContext: what the ABI functions see while this context is active
  // ---------------------------------------------------------------------------------------------

  readableHeaderMap(type: HeaderMapType): HeaderMap | null {
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return this.request.headersReadable || this.inLog ? this.request.headers : null;
      case HeaderMapType.RequestTrailers:
        return this.request.trailersReadable ? this.request.trailers : null;
      case HeaderMapType.ResponseHeaders:
        return this.response.headersReadable || this.inLog ? this.response.headers : null;
      case HeaderMapType.ResponseTrailers:
        return this.response.trailersReadable || this.inLog ? this.response.trailers : null;
      default:
        return this.host.rootContext().readableHeaderMap(type); // call-out replies live on the root
    }
  }

  writableHeaderMap(type: HeaderMapType): HeaderMap | null {
    switch (type) {
      case HeaderMapType.RequestHeaders:
        return this.request.headersReadable ? this.request.headers : null;
      case HeaderMapType.RequestTrailers:
        return this.request.trailersReadable ? this.request.trailers : null;
      case HeaderMapType.ResponseHeaders:
        return this.response.headersReadable ? this.response.headers : null;
      case HeaderMapType.ResponseTrailers:
        return this.response.trailersReadable ? this.response.trailers : null;
      default:
        return null;
    }
  }

  buffer(type: BufferType): HostBuffer | null {
    switch (type) {
      case BufferType.HttpRequestBody:
        return this.request.body;
      case BufferType.HttpResponseBody:
        return this.response.body;
      case BufferType.NetworkDownstreamData:
      case BufferType.NetworkUpstreamData:
        return new ConstBuffer(new Uint8Array(0));
      case BufferType.PluginConfiguration:
        return null; // only the root context sees it, during proxy_on_configure
      default:
        return this.host.rootContext().buffer(type);
    }
  }

  getProperty(path: string): Uint8Array | undefined {
    const own: Uint8Array | undefined = this.filterState.get(path);
    if (own !== undefined) return own;
    const derived: Uint8Array | undefined = this.derivedProperty(path);
    return derived ?? this.host.hostProperty(path);
  }

  setProperty(path: string, value: Uint8Array): WasmResult {
    this.filterState.set(path, value.slice());
    return WasmResult.Ok;
  }

  /**
   * Envoy drops the filter's header pointers at once (Context::continueStream) and resumes the
   * stream only after the VM call returns (addAfterVmCallAction), so does this.
   */
  continueStream(type: StreamType): WasmResult {
    if (type === StreamType.Request || type === StreamType.Response) {
      const direction: Direction = type === StreamType.Request ? this.request : this.response;
      direction.continued = true;
      direction.headersReadable = false;
      direction.trailersReadable = false;
      this.host.afterVmCall(() => this.resume(direction));
    }
    return WasmResult.Ok; // Downstream/Upstream: no network filter callbacks on an HTTP stream
  }

  closeStream(type: StreamType): WasmResult {
    if (type === StreamType.Request || type === StreamType.Response) this.reset = true;
    return WasmResult.Ok;
  }

  sendLocalResponse(response: LocalResponse): void {
    this.localResponses.push(response);
    if (this.finished) return;
    this.localResponse = response;
    this.dropEverything();
  }

  // ---------------------------------------------------------------------------------------------
  // Delivery
  // ---------------------------------------------------------------------------------------------

  private deliverHeaders(d: Direction, pairs: ReadonlyArray<readonly [string, string]>, endOfStream: boolean): number | null {
    if (this.finished) return null;
    d.headers = new HeaderMap(pairs);
    d.headersReadable = true;
    const callback: string = `proxy_on_${d.name}_headers`;
    const failedAction: number | undefined = this.failedVmAction(HeaderAction.StopAllIterationAndWatermark);
    if (failedAction !== undefined) return this.settleHeaders(d, callback, null, failedAction);
    if (!this.host.hasExport(callback)) return this.settleHeaders(d, callback, null, HeaderAction.Continue);

    const returned: number | undefined = this.host.callExport(callback, this.id, [this.id, d.headers.count, endOfStream ? 1 : 0]);
    const stopNext: boolean = this.host.takeStopNextIteration();
    if (returned === undefined) {
      return this.settleHeaders(d, callback, null, this.failedVmAction(HeaderAction.StopAllIterationAndWatermark)!);
    }
    let effective: number = returned;
    if (stopNext || returned > HeaderAction.StopAllIterationAndWatermark) {
      effective = HeaderAction.StopAllIterationAndWatermark;
    } else if (returned === HeaderAction.StopIteration && !this.host.allowOnHeadersStopIteration) {
      effective = HeaderAction.StopAllIterationAndWatermark; // proxy-wasm-cpp-host issue #143
    }
    this.settleHeaders(d, callback, returned, effective);
    return returned;
  }

  private settleHeaders(d: Direction, callback: string, returned: number | null, effective: number): number {
    this.lastOutcome = { callback, returned, effective };
    if (!this.finished) {
      if (effective === HeaderAction.Continue || effective === HeaderAction.ContinueAndEndStream) {
        d.headersReadable = false;
      } else {
        d.pausedAtHeaders = effective !== HeaderAction.StopIteration;
      }
    }
    return returned ?? effective;
  }

  private deliverData(d: Direction, chunk: Uint8Array, endOfStream: boolean): number | null {
    if (this.finished) return null;
    if (d.pausedAtHeaders) {
      d.held.push({ kind: "data", data: chunk, endOfStream });
      return null;
    }
    // While buffering, Envoy appends the chunk to the held body and shows the module all of it.
    d.body.attach(d.buffering ? concatBytes([d.body.bytes(), chunk]) : chunk);
    const callback: string = `proxy_on_${d.name}_body`;
    const failedAction: number | undefined = this.failedVmAction(DataAction.StopIterationNoBuffer);
    if (failedAction !== undefined) return this.settleData(d, callback, null, failedAction);
    if (!this.host.hasExport(callback)) return this.settleData(d, callback, null, DataAction.Continue);

    const returned: number | undefined = this.host.callExport(callback, this.id, [
      this.id,
      d.body.bytes().length,
      endOfStream ? 1 : 0,
    ]);
    const stopNext: boolean = this.host.takeStopNextIteration();
    if (returned === undefined) {
      return this.settleData(d, callback, null, this.failedVmAction(DataAction.StopIterationNoBuffer)!);
    }
    const effective: number =
      stopNext || returned > DataAction.StopIterationNoBuffer ? DataAction.StopIterationNoBuffer : returned;
    this.settleData(d, callback, returned, effective);
    return returned;
  }

  private settleData(d: Direction, callback: string, returned: number | null, effective: number): number {
    this.lastOutcome = { callback, returned, effective };
    if (!this.finished) {
      if (effective === DataAction.Continue) {
        d.passed.push(d.body.detach());
        d.buffering = false;
      } else if (effective === DataAction.StopIterationAndBuffer || effective === DataAction.StopIterationAndWatermark) {
        d.buffering = true;
      } else {
        d.body.detach(); // StopIterationNoBuffer: the filter manager keeps nothing
        d.buffering = false;
      }
    }
    return returned ?? effective;
  }

  private deliverTrailers(d: Direction, pairs: ReadonlyArray<readonly [string, string]>): number | null {
    if (this.finished) return null;
    if (d.pausedAtHeaders) {
      d.held.push({ kind: "trailers", pairs: pairs.map(([k, v]): HeaderPair => [k, v]) });
      return null;
    }
    d.trailers = new HeaderMap(pairs);
    d.trailersReadable = true;
    const callback: string = `proxy_on_${d.name}_trailers`;
    const failedAction: number | undefined = this.failedVmAction(TrailerAction.StopIteration);
    if (failedAction !== undefined) return this.settleTrailers(d, callback, null, failedAction);
    if (!this.host.hasExport(callback)) return this.settleTrailers(d, callback, null, TrailerAction.Continue);

    const returned: number | undefined = this.host.callExport(callback, this.id, [this.id, d.trailers.count]);
    const stopNext: boolean = this.host.takeStopNextIteration();
    if (returned === undefined) {
      return this.settleTrailers(d, callback, null, this.failedVmAction(TrailerAction.StopIteration)!);
    }
    const effective: number = stopNext || returned > TrailerAction.StopIteration ? TrailerAction.StopIteration : returned;
    this.settleTrailers(d, callback, returned, effective);
    return returned;
  }

  private settleTrailers(d: Direction, callback: string, returned: number | null, effective: number): number {
    this.lastOutcome = { callback, returned, effective };
    if (!this.finished && effective === TrailerAction.Continue) {
      d.trailersReadable = false;
      // Trailers end the stream: a buffered body goes out with them.
      if (d.body.attached) d.passed.push(d.body.detach());
      d.buffering = false;
    }
    return returned ?? effective;
  }

  /** proxy_continue_stream took effect: release what the filter held and deliver what waited. */
  private resume(d: Direction): void {
    if (this.finished) return;
    if (d.body.attached) d.passed.push(d.body.detach());
    d.buffering = false;
    if (!d.pausedAtHeaders) return;
    d.pausedAtHeaders = false;
    // Envoy hands the data it buffered during the pause to the filter as one chunk.
    const held: HeldEvent[] = d.held.splice(0);
    const data: Uint8Array[] = [];
    let endOfStream: boolean = false;
    let trailers: HeaderPair[] | null = null;
    for (const event of held) {
      if (event.kind === "data") {
        data.push(event.data);
        endOfStream = event.endOfStream;
      } else {
        trailers = event.pairs;
      }
    }
    if (data.length > 0) this.deliverData(d, concatBytes(data), endOfStream && trailers === null);
    if (trailers !== null) this.deliverTrailers(d, trailers);
  }

  // ---------------------------------------------------------------------------------------------
  // Failure handling
  // ---------------------------------------------------------------------------------------------

  /**
   * Envoy's CHECK_FAIL: on a failed VM a fail-open host lets the stream through (Continue), a
   * fail-closed one answers 503 once and stops. Returns undefined when the VM is healthy.
   */
  private failedVmAction(stopAction: number): number | undefined {
    if (!this.host.failed) return undefined;
    if (this.host.failOpen) return 0; // Continue, for every callback kind
    if (this.localResponse === null) {
      this.localResponse = {
        status: 503,
        details: FAIL_STREAM_DETAILS,
        body: "",
        bodyBytes: new Uint8Array(0),
        headers: [],
        grpcStatus: GrpcStatus.Unavailable,
        rawGrpcStatus: GrpcStatus.Unavailable,
        byHost: true,
      };
      this.dropEverything();
    }
    return stopAction;
  }

  /** After a local reply Envoy stops the filter chain: nothing held is delivered any more. */
  private dropEverything(): void {
    for (const d of [this.request, this.response]) {
      d.held.length = 0;
      d.buffering = false;
      d.pausedAtHeaders = false;
    }
  }

  /** `request.*` / `response.*` attributes Envoy derives from headers it can currently see. */
  private derivedProperty(path: string): Uint8Array | undefined {
    if (path.startsWith("request\u0000")) {
      const map: HeaderMap | null = this.readableHeaderMap(HeaderMapType.RequestHeaders);
      return map === null ? undefined : headerAttributes("request", map.pairs()).get(path);
    }
    if (path === "response\u0000code") {
      const status: string | undefined = this.response.headers?.get(":status");
      if (status !== undefined) return encodePropertyValue(BigInt(status));
      return this.localResponse === null ? undefined : encodePropertyValue(BigInt(this.localResponse.status));
    }
    if (path.startsWith("response\u0000")) {
      const map: HeaderMap | null = this.readableHeaderMap(HeaderMapType.ResponseHeaders);
      return map === null ? undefined : headerAttributes("response", map.pairs()).get(path);
    }
    return undefined;
  }
}
