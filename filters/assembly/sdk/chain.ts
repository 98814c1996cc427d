// Several modules in one Envoy filter (docs/decisions/0007): one root context holds every module's
// root, one stream context every module's stream, and the chain runs the modules' callbacks in
// order as Envoy would run them as separate filters — request callbacks in chain order, response
// callbacks in reverse — so a module is written, tested and behaves the same either way. What a
// filter of its own costs Envoy per request (bench/README.md, "Filters and host calls") is paid
// once for the chain.
//
// Envoy's iteration rules, applied between the modules:
// - a module that stops the headers holds them: later modules see neither headers nor body until
//   it resumes (continueRequest) or lets a body callback through (Continue), as Envoy's
//   allow_on_headers_stop_iteration does between filters;
// - body bytes reach a module only once every earlier module let them through; a module that
//   buffers (StopIterationAndBuffer) is shown the whole accumulated body again on the next chunk,
//   one that passed a chunk is shown only what came after it (host.ts offsets its body reads);
// - a local reply ends the direction: no later module sees the request;
// - the chain answers Envoy with what the modules together answer: Continue only when the last
//   module let everything through; otherwise it stops (buffering), and resumes Envoy itself when a
//   held request is let through by the last module.
// A module's gRPC replies, timer and call cancellation stay its own (callOwner, per-module tick
// periods, onRelease). The configuration is one line of plugin JSON per module, in chain order
// (envoy/wasm-filters.ts chainConfiguration).
import { HeadersAction, DataAction, BufferType, HeaderMap, StreamType } from "./abi";
import { RootContext, HttpContext } from "./context";
import { rootFactory, streamOf } from "./registry";
import { beginCallback, endCallback, publishTiming, skipCallback } from "./timing";
import { releaseStream } from "./callouts";
import { CachedHeader, CachedProperty, ChainDriver, chainDriver, installChainDriver } from "./chain-hooks";
import { continueHostStream, getHeaders, logError, nowMillis, setEffectiveContext, setHostTickPeriod } from "./host";
import { topLevelString, topLevelValueAt } from "./json-field";
import { CallbackReads, WrittenState } from "./chain-reads";
import { Flow } from "./chain-flow";

const REQUEST: i32 = 0;
const RESPONSE: i32 = 1;

// Which callback of a module the chain runs.
const REQUEST_HEADERS: i32 = 0;
const REQUEST_BODY: i32 = 1;
const REQUEST_TRAILERS: i32 = 2;
const RESPONSE_HEADERS: i32 = 3;
const RESPONSE_BODY: i32 = 4;
const RESPONSE_TRAILERS: i32 = 5;
const LOG: i32 = 6;
const DONE: i32 = 7;

/** What the chain tracks while a module runs: whose callback, on which stream, in which direction. */
class Driver extends ChainDriver {
  /** The chain stream of the effective context (null: not a chain stream, or a root callback). */
  stream: ChainStream | null = null;
  effectiveId: u32 = 0;
  /** Index of the running module, -1 when none. */
  running: i32 = -1;
  dir: i32 = REQUEST;
  /** The chain root whose module runs a root callback (configure, tick). */
  root: ChainRoot | null = null;
  /** The module stream whose callback is running (its time is paused while the chain resumes). */
  timed: HttpContext | null = null;
  /** Headers and body read in the running callback (one per VM, reused). */
  readonly reads: CallbackReads = new CallbackReads();

  continueStream(response: bool): bool {
    const s = this.stream;
    if (s == null || this.running < 0) return false;
    const timed = this.timed;
    if (timed != null) endCallback(timed);
    const back = this.effectiveId;
    s.resume(response ? RESPONSE : REQUEST, this.running);
    this.ensureEffective(back);
    if (timed != null) beginCallback(timed);
    return true;
  }

  localReply(): void {
    const s = this.stream;
    if (s != null) s.flow(this.dir).stopped = true;
  }

  tickPeriod(ms: u32): bool {
    const root = this.root;
    if (root == null || this.running < 0) return false;
    root.setPeriod(this.running, ms);
    return true;
  }

  bodyOffset(type: BufferType): u32 {
    const s = this.stream;
    if (s == null || this.running < 0) return 0;
    const dir = type == BufferType.HttpRequestBody ? REQUEST : RESPONSE;
    return s.flow(dir).passed[s.position(dir, this.running)];
  }

  bodyReplaced(type: BufferType, length: u32, newLength: u32): void {
    const s = this.stream;
    if (s == null || this.running < 0) return;
    this.reads.forgetBody();
    const dir = type == BufferType.HttpRequestBody ? REQUEST : RESPONSE;
    s.flow(dir).resized(s.position(dir, this.running), length, newLength);
  }

  effective(id: u32): void {
    this.effectiveId = id;
    const s = streamOf(id);
    const chainStream = s != null && s instanceof ChainStream ? changetype<ChainStream>(s) : null;
    // A new callback (or another stream): headers and body may have changed since the last read.
    if (chainStream != null) this.reads.forget(id);
    this.stream = chainStream;
  }

  /** The chain stream whose memory may answer reads: the effective context's, in a module's callback. */
  private cacheStream(): ChainStream | null {
    const s = this.stream;
    return s != null && s.id == this.effectiveId && this.running >= 0 ? s : null;
  }

  cachedHeader(map: HeaderMap, name: string): CachedHeader | null {
    const s = this.cacheStream();
    return s == null || !cachedMap(map) || !lowerCaseName(name) ? null : this.reads.header(s.id, map, name);
  }

  keepHeader(map: HeaderMap, name: string, value: string | null): void {
    const s = this.cacheStream();
    if (s != null && cachedMap(map) && lowerCaseName(name)) this.reads.keepHeader(s.id, map, name, value);
  }

  /**
   * Reads every header of `map` at once for stream `id` (one host call) unless this callback did,
   * so the modules' reads in it, and their removals of absent headers, need none.
   */
  prefetchHeaders(id: u32, map: HeaderMap): void {
    if (this.reads.whole(id, map)) return;
    const pairs = getHeaders(map);
    if (pairs.length > 0) this.reads.keepAll(id, map, pairs);
  }

  headerKnown(map: HeaderMap, name: string, value: string | null): void {
    if (!cachedMap(map)) return;
    const s = this.cacheStream();
    // A write from outside a module's callback, or to another stream than the one remembered, or
    // under a name with capitals (Envoy lower-cases it, memory is by exact name): forget the map.
    if (s == null || s.id != this.reads.stream || !lowerCaseName(name)) this.reads.forgetMap(map);
    else this.reads.setHeader(map, name, value);
  }

  headerWritten(map: HeaderMap, name: string): void {
    if (!cachedMap(map)) return;
    if (lowerCaseName(name)) this.reads.forgetHeader(map, name);
    else this.reads.forgetMap(map);
  }

  cachedBody(type: BufferType, start: u32, length: u32): ArrayBuffer | null {
    const s = this.cacheStream();
    return s == null ? null : this.reads.bodyRange(s.id, type, start, length);
  }

  keepBody(type: BufferType, start: u32, length: u32, bytes: ArrayBuffer): void {
    const s = this.cacheStream();
    if (s != null) this.reads.keepBody(s.id, type, start, length, bytes);
  }

  cachedProperty(path: string): CachedProperty | null {
    const s = this.cacheStream();
    if (s == null) return null;
    const w = s.written;
    return w == null ? null : w.get(path);
  }

  keepProperty(path: string, value: ArrayBuffer | null): void {
    const s = this.cacheStream();
    if (s == null) return;
    let w = s.written;
    if (w == null) {
      w = new WrittenState();
      s.written = w;
    }
    w.set(path, value);
  }

  ensureEffective(id: u32): void {
    if (this.effectiveId != id) setEffectiveContext(id);
  }

  /** Module `i` of `root` runs a root callback (configure, tick, a call's reply). */
  enterRoot(root: ChainRoot, i: i32): void {
    this.root = root;
    this.running = i;
    this.dir = REQUEST;
    this.timed = null;
    this.effective(root.id);
  }

  /** The root callback is over: no module runs. */
  leaveRoot(): void {
    this.root = null;
    this.running = -1;
    this.stream = null;
  }
}

/** Request and response headers: only our modules change them within one callback of the chain. */
function cachedMap(map: HeaderMap): bool {
  return map == HeaderMap.RequestHeaders || map == HeaderMap.ResponseHeaders;
}

/** No ASCII capitals: the name Envoy stores the header under, so memory by exact name is right. */
function lowerCaseName(name: string): bool {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return false;
  }
  return true;
}

function driver(): Driver {
  let d = chainDriver();
  if (d == null) {
    d = new Driver();
    installChainDriver(d);
  }
  return changetype<Driver>(d);
}

/** The chain's root context: every module's root, configured from one line each. */
export class ChainRoot extends RootContext {
  readonly modules: Array<RootContext> = new Array<RootContext>(0);
  readonly names: Array<string> = new Array<string>(0);
  /**
   * Per module: it reads the body while it holds the headers (`"body_while_headers_held": true` in
   * its line, which envoy/wasm-filters.ts writes, as Envoy's allow_on_headers_stop_iteration for a
   * filter). Otherwise a held request's body waits until the module resumes, as Envoy does between
   * filters (StopAllIteration).
   */
  bodyWhileHeadersHeld: Array<bool> = new Array<bool>(0);
  private periods: Array<u32> = new Array<u32>(0);
  private due: Array<u64> = new Array<u64>(0);
  private tick: u32 = 0;

  onConfigure(configuration: string): bool {
    const lines = configuration.split("\n");
    const names = new Array<string>(0);
    const texts = new Array<string>(0);
    const holds = new Array<bool>(0);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line.length == 0) continue;
      const bytes = String.UTF8.encode(line);
      const name = topLevelString(changetype<usize>(bytes), bytes.byteLength, "module");
      if (name == null || rootFactory(name) == null || name == "chain") {
        logError("leash chain: line " + (i + 1).toString() + " is not the plugin JSON of a built-in module (\"module\": auth, redact, …)");
        return false;
      }
      names.push(name);
      texts.push(line);
      holds.push(trueAt(changetype<usize>(bytes), bytes.byteLength, "body_while_headers_held"));
    }
    if (names.length == 0) {
      logError("leash chain: the configuration lists no module (one line of plugin JSON per module)");
      return false;
    }
    if (this.modules.length > 0 && names.join(",") != this.names.join(",")) {
      logError("leash chain: a configuration change may not change the modules (" + this.names.join(",") + ")");
      return false;
    }
    const fresh = this.modules.length == 0;
    this.bodyWhileHeadersHeld = holds;
    const d = driver();
    for (let i = 0; i < names.length; i++) {
      if (fresh) {
        const factory = rootFactory(names[i])!;
        this.modules.push(factory(this.id));
        this.names.push(names[i]);
        this.periods.push(0);
        this.due.push(0);
      }
      d.enterRoot(this, i);
      const ok = this.modules[i].onConfigure(texts[i]);
      d.leaveRoot();
      if (!ok) {
        logError("leash chain: module " + names[i] + " refused its configuration");
        return false;
      }
    }
    return true;
  }

  newHttpContext(id: u32): HttpContext { return new ChainStream(id, this); }

  /** Module `i` armed its timer: the chain's timer runs at the shortest period any module wants. */
  setPeriod(i: i32, ms: u32): void {
    this.periods[i] = ms;
    this.due[i] = ms == 0 ? 0 : nowMillis() + <u64>ms;
    let shortest: u32 = 0;
    for (let j = 0; j < this.periods.length; j++) {
      const p = this.periods[j];
      if (p != 0 && (shortest == 0 || p < shortest)) shortest = p;
    }
    if (shortest != this.tick) {
      this.tick = shortest;
      setHostTickPeriod(shortest);
    }
  }

  onTick(): void {
    const now = nowMillis();
    const d = driver();
    for (let i = 0; i < this.modules.length; i++) {
      const p = this.periods[i];
      // Half a tick early counts as due: the host's timer fires about, not exactly, on time.
      if (p == 0 || now + <u64>(this.tick >> 1) < this.due[i]) continue;
      this.due[i] = now + <u64>p;
      d.enterRoot(this, i);
      this.modules[i].onTick();
      d.leaveRoot();
    }
  }

  callOwner(token: u32): RootContext {
    for (let i = 0; i < this.modules.length; i++) {
      const m = this.modules[i];
      if (!m.pending.has(token) && !m.detached.has(token)) continue;
      driver().enterRoot(this, i);
      return m;
    }
    return this;
  }

  callDelivered(): void { driver().leaveRoot(); }
}

/** One request through the chain: every module's stream and both directions' progress. */
export class ChainStream extends HttpContext {
  readonly streams: Array<HttpContext>;
  request: Flow;
  response: Flow;
  /** Filter state the chain's modules wrote for this request (Driver.cachedProperty), once any did. */
  written: WrittenState | null = null;
  /**
   * The clock when the last module callback of this pass ended (0: none yet): the next module's
   * start, so back-to-back modules share a reading. Only the chain's bookkeeping runs in between;
   * every pass over the modules starts and ends with 0, so a reading never spans host callbacks.
   */
  private clockNs: u64 = 0;

  constructor(id: u32, root: ChainRoot) {
    super(id, root);
    const n = root.modules.length;
    this.request = new Flow(n);
    this.response = new Flow(n);
    const streams = new Array<HttpContext>(n);
    for (let i = 0; i < n; i++) streams[i] = root.modules[i].newHttpContext(id);
    this.streams = streams;
  }

  flow(dir: i32): Flow { return dir == REQUEST ? this.request : this.response; }

  /** Position of module `index` in direction `dir` (responses run the modules in reverse). */
  position(dir: i32, index: i32): i32 { return dir == REQUEST ? index : this.streams.length - 1 - index; }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction { return this.headers(REQUEST, headerCount, endOfStream); }
  onRequestBody(bodySize: u32, endOfStream: bool): DataAction { return this.body(REQUEST, bodySize, endOfStream); }
  onRequestTrailers(count: u32): HeadersAction { return this.trailers(REQUEST, count); }
  onResponseHeaders(headerCount: u32, endOfStream: bool): HeadersAction { return this.headers(RESPONSE, headerCount, endOfStream); }
  onResponseBody(bodySize: u32, endOfStream: bool): DataAction { return this.body(RESPONSE, bodySize, endOfStream); }
  onResponseTrailers(count: u32): HeadersAction { return this.trailers(RESPONSE, count); }

  onLog(): void {
    // A host callback of its own: what was read in the last one may have changed since.
    driver().effective(this.id);
    this.clockNs = 0;
    for (let i = 0; i < this.streams.length; i++) this.call(i, LOG, 0, false);
    this.clockNs = 0;
  }

  onDone(): void {
    driver().effective(this.id);
    this.clockNs = 0;
    for (let i = 0; i < this.streams.length; i++) {
      if (!this.streams[i].ended) this.call(i, DONE, 0, false);
      this.streams[i].ended = true;
    }
    this.clockNs = 0;
  }

  onRelease(): void {
    for (let i = 0; i < this.streams.length; i++) releaseStream(this.streams[i]);
  }

  private headers(dir: i32, count: u32, endOfStream: bool): HeadersAction {
    driver().effective(this.id);
    let f = this.flow(dir);
    // Headers again in one direction: a local reply replacing a response not yet sent.
    if (f.headersArrived) {
      f = new Flow(this.streams.length);
      if (dir == REQUEST) this.request = f; else this.response = f;
    }
    f.headersArrived = true;
    f.headersEos = endOfStream;
    f.headerCount = count;
    this.pump(dir);
    if (f.complete()) return HeadersAction.Continue;
    if (!f.stopped) f.holding = true;
    return HeadersAction.StopIteration;
  }

  private body(dir: i32, size: u32, endOfStream: bool): DataAction {
    driver().effective(this.id);
    const f = this.flow(dir);
    f.buffered = size;
    f.dataEos = endOfStream;
    this.pump(dir);
    if (f.stopped) return DataAction.StopIterationNoBuffer;
    if (f.complete()) {
      f.holding = false;
      f.drained();
      return DataAction.Continue;
    }
    f.holding = true;
    return DataAction.StopIterationAndBuffer;
  }

  private trailers(dir: i32, count: u32): HeadersAction {
    driver().effective(this.id);
    const f = this.flow(dir);
    f.trailersArrived = true;
    f.trailerCount = count;
    this.pump(dir);
    if (f.complete()) {
      f.holding = false;
      f.drained();
      return HeadersAction.Continue;
    }
    if (!f.stopped) f.holding = true;
    return HeadersAction.StopIteration;
  }

  /** Module `index` resumed direction `dir`: it lets through what it holds, and the chain goes on. */
  resume(dir: i32, index: i32): void {
    const f = this.flow(dir);
    if (f.stopped || !f.headersArrived) return;
    const p = this.position(dir, index);
    if (!f.given[p]) return;
    if (f.headersPassed == p) f.headersPassed = p + 1;
    f.passed[p] = f.shown[p];
    f.eosPassed[p] = f.eosShown[p];
    if (f.trailersGiven[p]) f.trailersPassed[p] = true;
    this.pump(dir);
    if (f.stopped || !f.holding || !f.complete()) return;
    f.holding = false;
    f.drained();
    driver().ensureEffective(this.id);
    continueHostStream(dir == REQUEST ? StreamType.Request : StreamType.Response);
  }

  /** Runs every module that has something new to see, in order, until one holds. */
  private pump(dir: i32): void {
    this.clockNs = 0;
    this.pumpModules(dir);
    this.clockNs = 0;
  }

  private pumpModules(dir: i32): void {
    const f = this.flow(dir);
    const n = this.streams.length;
    for (let p = 0; p < n; p++) {
      if (f.stopped || !f.headersArrived || p > f.headersPassed) return;
      const m = dir == REQUEST ? p : n - 1 - p;
      if (!f.given[p]) {
        f.given[p] = true;
        const r = this.call(m, dir == REQUEST ? REQUEST_HEADERS : RESPONSE_HEADERS, f.headerCount, f.headersEos);
        if (f.stopped) return;
        if (r == HeadersAction.Continue && f.headersPassed == p) {
          f.headersPassed = p + 1;
          if (f.headersEos) f.eosPassed[p] = true;
        }
      }
      if (f.headersEos) {
        if (p >= f.headersPassed) return;
        continue;
      }
      // Holding the headers without reading the body meanwhile: the body waits for the resume.
      if (p == f.headersPassed && !changetype<ChainRoot>(this.root).bodyWhileHeadersHeld[m]) return;
      const avail = f.avail(p);
      const eos = p == 0 ? f.dataEos : f.eosPassed[p - 1];
      if (avail > f.shown[p] || (eos && !f.eosShown[p])) {
        f.shown[p] = avail;
        f.eosShown[p] = eos;
        const r = this.call(m, dir == REQUEST ? REQUEST_BODY : RESPONSE_BODY, avail - f.passed[p], eos);
        if (f.stopped) return;
        // The module may have resized its window (Flow.resized): what it saw ends there now.
        f.shown[p] = f.avail(p);
        if (r == DataAction.StopIterationNoBuffer) {
          f.stopped = true;
          return;
        }
        if (r != DataAction.Continue) return;
        f.passed[p] = f.avail(p);
        f.eosPassed[p] = eos;
        if (f.headersPassed == p) f.headersPassed = p + 1;
      }
      if (f.trailersArrived && !f.trailersGiven[p] && (p == 0 || f.trailersPassed[p - 1]) && f.passed[p] == f.avail(p)) {
        f.trailersGiven[p] = true;
        const r = this.call(m, dir == REQUEST ? REQUEST_TRAILERS : RESPONSE_TRAILERS, f.trailerCount, false);
        if (f.stopped || r != HeadersAction.Continue) return;
        f.shown[p] = f.avail(p);
        f.passed[p] = f.avail(p);
        f.trailersPassed[p] = true;
        if (f.headersPassed == p) f.headersPassed = p + 1;
      }
      if (p >= f.headersPassed) return;
    }
  }

  /** Runs one callback of module `m` on this stream, timed as its own, with the chain's bookkeeping. */
  private call(m: i32, what: i32, a: u32, b: bool): u32 {
    const d = driver();
    const prevStream = d.stream;
    const prevRunning = d.running;
    const prevDir = d.dir;
    const prevTimed = d.timed;
    const s = this.streams[m];
    d.ensureEffective(this.id);
    d.stream = this;
    d.running = m;
    d.dir = what >= RESPONSE_HEADERS && what <= RESPONSE_TRAILERS ? RESPONSE : REQUEST;
    d.timed = s;
    // Before a module's onRequestHeaders, the request headers at once, if this callback has not
    // read them yet: one call costs about three reads in Envoy (bench/host-calls.ts header-pairs,
    // 2026-11-27), and the built-in modules read six and remove four absent ones there. The
    // response's three reads do not pay for it.
    if (what == REQUEST_HEADERS) d.prefetchHeaders(this.id, HeaderMap.RequestHeaders);
    beginCallback(s, this.clockNs);
    this.clockNs = 0;
    s.unhandled = false;
    let r: u32 = 0;
    switch (what) {
      case REQUEST_HEADERS: r = <u32>s.onRequestHeaders(a, b); break;
      case REQUEST_BODY: r = <u32>s.onRequestBody(a, b); break;
      case REQUEST_TRAILERS: r = <u32>s.onRequestTrailers(a); break;
      case RESPONSE_HEADERS: r = <u32>s.onResponseHeaders(a, b); break;
      case RESPONSE_BODY: r = <u32>s.onResponseBody(a, b); break;
      case RESPONSE_TRAILERS: r = <u32>s.onResponseTrailers(a); break;
      case LOG: s.onLog(); break;
      default: s.onDone(); break;
    }
    // A callback the module does not implement: no reading; the next module starts from its start.
    const end = s.unhandled ? skipCallback(s) : endCallback(s);
    // After the module's own access-log callback, as the SDK's entry point does for a filter.
    if (what == LOG) publishTiming(s);
    d.stream = prevStream;
    d.running = prevRunning;
    d.dir = prevDir;
    d.timed = prevTimed;
    this.clockNs = end;
    return r;
  }
}

/** Whether the top-level member `name` of the JSON object at `base` is the literal true. */
function trueAt(base: usize, len: i32, name: string): bool {
  const at = topLevelValueAt(base, len, name);
  // "true" read as a little-endian u32.
  return at >= 0 && at + 4 <= len && load<u32>(base + <usize>at) == 0x65757274;
}
