// Root and HTTP contexts: the classes a filter extends. The ABI entry points in exports.ts create
// them and dispatch host callbacks to them.
//
// Call-outs (gRPC, HTTP) belong to the root context in proxy-wasm: replies arrive on the root
// context's id, not the stream's. Each RootContext therefore keeps a token → HttpContext map; the
// dispatcher looks up the waiting stream, makes it the effective context, and hands it the reply.
// A stream that ended meanwhile has been removed from the map (and its calls cancelled), so a late
// reply is dropped instead of touching a dead stream.
import { HeadersAction, DataAction } from "./abi";

/** The answer to a call-out, delivered to the HttpContext that made the call. */
export class CallReply {
  constructor(
    /** Token returned when the call was made. */
    public token: u32,
    /** 0 = OK; for gRPC the gRPC status code, for HTTP 0 or a transport failure code. */
    public status: u32,
    /** Status message from the host on failure ("" otherwise). */
    public statusMessage: string,
    /** gRPC response message, or HTTP response body. */
    public body: ArrayBuffer,
    /** HTTP only: response headers as flat [name, value, ...]. */
    public headers: Array<string>,
  ) {}

  get ok(): bool { return this.status == 0; }
}

export class RootContext {
  /** Calls in flight: token → the stream waiting for the answer. */
  readonly pending: Map<u32, HttpContext> = new Map<u32, HttpContext>();
  /** Calls the root made for itself (no stream waits): their replies go to onCallReply below. */
  readonly detached: Set<u32> = new Set<u32>();
  /** Module name and filter state name of callback timing (timing.ts); "" = not timed. */
  timingModule: string = "";
  timingProperty: string = "";
  timingPublish: bool = true;

  constructor(public readonly id: u32) {}

  /** Called once per VM. Return false to fail the VM start. */
  onVmStart(vmConfiguration: string): bool { return true; }

  /**
   * Called with the plugin configuration ("" when none was given) on load and on every change.
   * Parse and validate here, once; return false to reject the configuration (Envoy then refuses
   * the listener update and logs why, so log the expected shape first).
   */
  onConfigure(configuration: string): bool { return true; }

  /** Creates the per-request context. Filters override this to return their own subclass. */
  newHttpContext(id: u32): HttpContext { return new HttpContext(id, this); }

  onTick(): void {}

  /** A call made with grpcCallDetached() finished. Runs in the root context. */
  onCallReply(reply: CallReply): void {}

  /**
   * The root context that made the call `token`: this one, or (a module chain, chain.ts) the
   * module's root inside it. The SDK then delivers the reply there and calls callDelivered().
   */
  callOwner(token: u32): RootContext { return this; }
  callDelivered(): void {}

  /** Records that `stream` waits for the call `token`. */
  track(token: u32, stream: HttpContext): void {
    this.pending.set(token, stream);
    stream.calls.push(token);
  }

  /** Removes and returns the stream waiting for `token`, or null if none (ended or unknown). */
  claim(token: u32): HttpContext | null {
    if (!this.pending.has(token)) return null;
    const stream = this.pending.get(token);
    this.pending.delete(token);
    const i = stream.calls.indexOf(token);
    if (i >= 0) stream.calls.splice(i, 1);
    if (stream.ended) return null;
    return stream;
  }
}

export class HttpContext {
  /** Tokens of this stream's call-outs still in flight. */
  readonly calls: Array<u32> = new Array<u32>(0);
  /** Set when the host reported the stream done; nothing may act on it afterwards. */
  ended: bool = false;
  /** Callback timing (timing.ts): time spent in this stream's callbacks, and the running one's start. */
  spentNs: u64 = 0;
  callbackStartNs: u64 = 0;
  /** Total written as filter state in the log pass (µs, timing.ts publishTiming); MAX = not yet. */
  publishedMicros: u64 = U64.MAX_VALUE;
  /**
   * Set by the default (not overridden) stream callbacks below: the module chain then takes no
   * clock reading for that callback (the module did nothing to time). A module's own callback that
   * calls the default one has its time counted for the next module of the chain instead.
   */
  unhandled: bool = false;

  constructor(public readonly id: u32, public readonly root: RootContext) {}

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction { this.unhandled = true; return HeadersAction.Continue; }
  onRequestBody(bodySize: u32, endOfStream: bool): DataAction { this.unhandled = true; return DataAction.Continue; }
  onRequestTrailers(count: u32): HeadersAction { this.unhandled = true; return HeadersAction.Continue; }
  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction { this.unhandled = true; return HeadersAction.Continue; }
  onResponseBody(bodySize: u32, endOfStream: bool): DataAction { this.unhandled = true; return DataAction.Continue; }
  onResponseTrailers(count: u32): HeadersAction { this.unhandled = true; return HeadersAction.Continue; }

  /** A call-out made by this stream finished. Runs with this stream as the effective context. */
  onCallReply(reply: CallReply): void {}

  /** After the stream completed; request/response data is still readable. */
  onLog(): void { this.unhandled = true; }

  /**
   * The stream is over (completed, reset, or the client went away). Runs before the SDK cancels
   * this stream's call-outs, so a module can hand work that others wait on to another stream.
   */
  onDone(): void { this.unhandled = true; }

  /** The stream is gone (after onDone, its own call-outs cancelled): release what it holds. */
  onRelease(): void {}
}
