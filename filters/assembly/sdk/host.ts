// Typed wrappers over the raw host ABI. None of them throws: a failed host call returns null,
// false or an empty value, because an exception in AssemblyScript aborts the whole VM (and with it
// every request on this worker).
import * as raw from "./imports";
import { LogLevel, WasmResult, HeaderMap, BufferType, StreamType } from "./abi";
import { outPtr, outSize, outU64, resetOut, takeHostBuffer, utf8, fromUtf8, serializePairs, deserializePairs,
  scratchArg, scratchArgs, argA, argALength, argB, argBLength, argBCopy, resultIntoScratch, hostResultString } from "./memory";
import { CachedProperty, ChainDriver, chainDriver } from "./chain-hooks";

// ---- logging ---------------------------------------------------------------------------------

let cachedLogLevel: i32 = -1;

/** The host's log level, read once per VM (Envoy fixes it at start; `-l` / admin changes are rare). */
export function hostLogLevel(): LogLevel {
  if (cachedLogLevel < 0) {
    const r = raw.proxy_get_log_level(outU64());
    cachedLogLevel = r == WasmResult.Ok ? <i32>load<u32>(outU64()) : <i32>LogLevel.Info;
  }
  return <LogLevel>cachedLogLevel;
}

/** Whether a message at `level` would be printed; check before building expensive strings. */
export function logEnabled(level: LogLevel): bool {
  return <i32>level >= <i32>hostLogLevel();
}

export function log(level: LogLevel, message: string): void {
  if (!logEnabled(level)) return;
  scratchArg(message);
  raw.proxy_log(<usize>level, argA(), argALength());
}

export function logInfo(message: string): void { log(LogLevel.Info, message); }
export function logWarn(message: string): void { log(LogLevel.Warn, message); }
export function logError(message: string): void { log(LogLevel.Error, message); }
export function logDebug(message: string): void { log(LogLevel.Debug, message); }

// ---- time ------------------------------------------------------------------------------------

export function nowNanos(): u64 {
  if (raw.proxy_get_current_time_nanoseconds(outU64()) != WasmResult.Ok) return 0;
  return load<u64>(outU64());
}

export function nowMillis(): u64 { return nowNanos() / 1_000_000; }

/** Arms the root context's timer (onTick); call from onConfigure or onTick. */
export function setTickPeriod(ms: u32): bool {
  const chain = chainDriver();
  if (chain != null && chain.tickPeriod(ms)) return true;
  return setHostTickPeriod(ms);
}

/** Arms the current root context's timer on the host itself (the chain's own timer). */
export function setHostTickPeriod(ms: u32): bool {
  return raw.proxy_set_tick_period_milliseconds(ms) == WasmResult.Ok;
}

// ---- randomness ------------------------------------------------------------------------------

const HEX_DIGITS: string = "0123456789abcdef";

/**
 * `bytes` bytes from the host's CSPRNG as lowercase hex, or "" when the host refuses (never in
 * Envoy; the caller decides what no randomness means). Unpredictable to clients: use it for names
 * a client must not be able to guess or choose.
 */
export function randomHex(bytes: i32): string {
  const buf = new ArrayBuffer(bytes);
  // WASI errno 0 = success.
  if (raw.random_get(changetype<usize>(buf), <usize>bytes) != 0) return "";
  const hex = new ArrayBuffer(bytes * 2);
  const src = changetype<usize>(buf);
  const dst = changetype<usize>(hex);
  for (let i = 0; i < bytes; i++) {
    const b = <i32>load<u8>(src + <usize>i);
    store<u8>(dst + <usize>(2 * i), <u8>HEX_DIGITS.charCodeAt(b >> 4));
    store<u8>(dst + <usize>(2 * i + 1), <u8>HEX_DIGITS.charCodeAt(b & 15));
  }
  return String.UTF8.decode(hex);
}

// ---- headers ---------------------------------------------------------------------------------

/** A header's value, or null when absent. */
export function getHeader(map: HeaderMap, name: string): string | null {
  const chain = chainDriver();
  if (chain != null) {
    const hit = chain.cachedHeader(map, name);
    if (hit != null) return hit.value;
  }
  scratchArg(name);
  resultIntoScratch();
  const r = raw.proxy_get_header_map_value(<i32>map, argA(), argALength(), outPtr(), outSize());
  const value = hostResultString(r == WasmResult.Ok);
  // Absent is remembered only when the host said so (not when the map cannot be read here).
  if (chain != null && (r == WasmResult.Ok || r == WasmResult.NotFound)) chain.keepHeader(map, name, value);
  return value;
}

export function replaceHeader(map: HeaderMap, name: string, value: string): bool {
  scratchArgs(name, value);
  const ok = raw.proxy_replace_header_map_value(<i32>map, argA(), argALength(), argB(), argBLength()) == WasmResult.Ok;
  const chain = chainDriver();
  if (chain != null) {
    if (ok) chain.headerKnown(map, name, value);
    else chain.headerWritten(map, name);
  }
  return ok;
}

export function addHeader(map: HeaderMap, name: string, value: string): bool {
  scratchArgs(name, value);
  const ok = raw.proxy_add_header_map_value(<i32>map, argA(), argALength(), argB(), argBLength()) == WasmResult.Ok;
  // The header may now have several values: the next read asks the host.
  const chain = chainDriver();
  if (chain != null) chain.headerWritten(map, name);
  return ok;
}

export function removeHeader(map: HeaderMap, name: string): bool {
  const chain = chainDriver();
  if (chain != null) {
    // Known absent (read as absent, or removed, earlier in this callback): nothing to remove.
    const hit = chain.cachedHeader(map, name);
    if (hit != null && hit.value == null) return true;
  }
  scratchArg(name);
  const ok = raw.proxy_remove_header_map_value(<i32>map, argA(), argALength()) == WasmResult.Ok;
  if (chain != null) {
    if (ok) chain.headerKnown(map, name, null);
    else chain.headerWritten(map, name);
  }
  return ok;
}

/** All headers as a flat [name0, value0, name1, value1, ...] array. */
export function getHeaders(map: HeaderMap): Array<string> {
  resetOut();
  if (raw.proxy_get_header_map_pairs(<i32>map, outPtr(), outSize()) != WasmResult.Ok) return new Array<string>(0);
  return deserializePairs(takeHostBuffer());
}

export function getRequestHeader(name: string): string | null { return getHeader(HeaderMap.RequestHeaders, name); }
export function getResponseHeader(name: string): string | null { return getHeader(HeaderMap.ResponseHeaders, name); }

// ---- bodies and buffers ----------------------------------------------------------------------

/**
 * Bytes of a buffer. Inside a module chain (chain.ts) a body buffer may begin with bytes the
 * running module already passed on while a later module holds them: the module sees only what
 * follows, as it would in its own filter.
 */
export function getBuffer(type: BufferType, start: u32, length: u32): ArrayBuffer {
  const chain = chainDriver();
  if (chain == null || !isBody(type)) return hostBuffer(type, start, length);
  // Inside a chain several modules read the same body in one callback: one host read, copies.
  const from = start + chain.bodyOffset(type);
  const hit = chain.cachedBody(type, from, length);
  if (hit != null) return hit.slice(0);
  const bytes = hostBuffer(type, from, length);
  chain.keepBody(type, from, length, bytes.slice(0));
  return bytes;
}

function hostBuffer(type: BufferType, start: u32, length: u32): ArrayBuffer {
  resetOut();
  if (raw.proxy_get_buffer_bytes(<i32>type, start, length, outPtr(), outSize()) != WasmResult.Ok) return new ArrayBuffer(0);
  return takeHostBuffer();
}

function isBody(type: BufferType): bool {
  return type == BufferType.HttpRequestBody || type == BufferType.HttpResponseBody;
}

/**
 * Replaces the first `currentLength` bytes of the buffer with `data` (Envoy: start 0 drains that
 * many bytes and prepends; `currentLength` = the buffer's size replaces it whole, 0 prepends).
 */
export function replaceBuffer(type: BufferType, currentLength: u32, data: ArrayBuffer): bool {
  const chain = chainDriver();
  if (chain == null || !isBody(type)) return setHostBuffer(type, currentLength, data);
  const offset = chain.bodyOffset(type);
  chain.bodyReplaced(type, currentLength, <u32>data.byteLength);
  if (offset == 0) return setHostBuffer(type, currentLength, data);
  // Envoy edits a buffer only at its start: keep the bytes the module already passed on, put
  // `data` after them, then what followed the replaced range.
  const all = hostBuffer(type, 0, U32.MAX_VALUE);
  const end = min<i32>(all.byteLength, <i32>(offset + currentLength));
  const head = <i32>offset;
  const out = new ArrayBuffer(head + data.byteLength + (all.byteLength - end));
  memory.copy(changetype<usize>(out), changetype<usize>(all), <usize>head);
  memory.copy(changetype<usize>(out) + <usize>head, changetype<usize>(data), <usize>data.byteLength);
  memory.copy(changetype<usize>(out) + <usize>(head + data.byteLength), changetype<usize>(all) + <usize>end, <usize>(all.byteLength - end));
  return setHostBuffer(type, <u32>all.byteLength, out);
}

function setHostBuffer(type: BufferType, currentLength: u32, data: ArrayBuffer): bool {
  return raw.proxy_set_buffer_bytes(<i32>type, 0, currentLength, changetype<usize>(data), <usize>data.byteLength) == WasmResult.Ok;
}

/** The plugin configuration as a string; "" when the operator gave none (not an error). */
export function pluginConfiguration(size: u32): string {
  if (size == 0) return "";
  return fromUtf8(getBuffer(BufferType.PluginConfiguration, 0, size));
}

// ---- properties ------------------------------------------------------------------------------

/** A property path as the ABI takes it: segments joined with NUL. */
function joinPath(path: Array<string>): string {
  return path.length == 1 ? path[0] : path.join("\0");
}

/**
 * What the running chain's memory holds for `joined`: written by one of its modules, or a `leash.*`
 * name found absent before (a null value). Null: ask the host.
 */
function cachedByChain(chain: ChainDriver | null, joined: string): CachedProperty | null {
  return chain == null ? null : chain.cachedProperty(joined);
}

/**
 * After the host found `joined` absent: inside a chain a `leash.*` name is remembered absent for
 * the request, until a module of the chain writes it. Leash's filter state is written by its own
 * modules, earlier in the filter chain than any module that reads it (decision 0007), so a name
 * absent once stays absent unless the chain writes it (a guard reading a tenant's policy when the
 * tenant has none: one host call per request, not one per guard).
 */
function notFound(chain: ChainDriver | null, joined: string): void {
  if (chain != null && joined.startsWith(LEASH_STATE_PREFIX)) chain.keepProperty(joined, null);
}

/** Filter state names of Leash's modules. */
const LEASH_STATE_PREFIX: string = "leash.";

/** Reads a host property; `path` segments are joined with NUL as the ABI requires. */
export function getProperty(path: Array<string>): ArrayBuffer | null {
  const joined = joinPath(path);
  const chain = chainDriver();
  const hit = cachedByChain(chain, joined);
  if (hit != null) return hit.value == null ? null : hit.value!.slice(0);
  scratchArg(joined);
  resetOut();
  const r = raw.proxy_get_property(argA(), argALength(), outPtr(), outSize());
  if (r == WasmResult.NotFound) notFound(chain, joined);
  if (r != WasmResult.Ok) return null;
  return takeHostBuffer();
}

export function getPropertyString(path: Array<string>): string | null {
  const joined = joinPath(path);
  const chain = chainDriver();
  const hit = cachedByChain(chain, joined);
  if (hit != null) return hit.value == null ? null : fromUtf8(hit.value!);
  scratchArg(joined);
  resultIntoScratch();
  const r = raw.proxy_get_property(argA(), argALength(), outPtr(), outSize());
  if (r == WasmResult.NotFound) notFound(chain, joined);
  return hostResultString(r == WasmResult.Ok);
}

/** Writes filter state (Envoy exposes it as `wasm.<name>` to access logs and later filters). */
export function setProperty(name: string, value: string): bool {
  scratchArgs(name, value);
  const ok = raw.proxy_set_property(argA(), argALength(), argB(), argBLength()) == WasmResult.Ok;
  const chain = chainDriver();
  // Inside a chain, what a module wrote is what a later one reads back: kept in memory.
  if (ok && chain != null) chain.keepProperty(name, argBCopy());
  return ok;
}

/** Writes filter state from raw bytes (a body for the audit trail: no string round trip). */
export function setPropertyBytes(name: string, value: ArrayBuffer): bool {
  scratchArg(name);
  const ok = raw.proxy_set_property(argA(), argALength(), changetype<usize>(value), <usize>value.byteLength) == WasmResult.Ok;
  const chain = chainDriver();
  // A copy: the caller keeps its buffer and may reuse it.
  if (ok && chain != null) chain.keepProperty(name, value.slice(0));
  return ok;
}

// Bit pattern of -1: "not a gRPC reply" (the host reads the word as a signed status).
const NO_GRPC_STATUS: u32 = 0xFFFFFFFF;

// ---- stream control --------------------------------------------------------------------------

/** Resumes the request held by the running module (inside a chain: hands it to the next module). */
export function continueRequest(): bool {
  const chain = chainDriver();
  if (chain != null && chain.continueStream(false)) return true;
  return continueHostStream(StreamType.Request);
}

export function continueResponse(): bool {
  const chain = chainDriver();
  if (chain != null && chain.continueStream(true)) return true;
  return continueHostStream(StreamType.Response);
}

/** Resumes the filter's stream on the host itself (the chain's own resume). */
export function continueHostStream(type: StreamType): bool {
  return raw.proxy_continue_stream(<i32>type) == WasmResult.Ok;
}

/**
 * Answers the current stream locally. `headers` is flat [name, value, ...]. `details` shows up in
 * Envoy's response-code details (access logs), so keep it a short token without spaces.
 */
export function sendLocalResponse(status: u32, details: string, body: string, headers: Array<string>): bool {
  const d = utf8(details);
  const b = utf8(body);
  const h = serializePairs(headers);
  const chain = chainDriver();
  if (chain != null) chain.localReply();
  return raw.proxy_send_local_response(status, changetype<usize>(d), <usize>d.byteLength,
    changetype<usize>(b), <usize>b.byteLength, changetype<usize>(h), <usize>h.byteLength, NO_GRPC_STATUS) == WasmResult.Ok;
}

export function setEffectiveContext(contextId: u32): bool {
  const chain = chainDriver();
  if (chain != null) chain.effective(contextId);
  return raw.proxy_set_effective_context(contextId) == WasmResult.Ok;
}

// ---- status of the last call (gRPC close messages) -------------------------------------------

export class CallStatus {
  constructor(public code: u32, public message: string) {}
}

export function lastStatus(): CallStatus {
  resetOut();
  if (raw.proxy_get_status(outU64(), outPtr(), outSize()) != WasmResult.Ok) return new CallStatus(0, "");
  const code = load<u32>(outU64());
  return new CallStatus(code, fromUtf8(takeHostBuffer()));
}
