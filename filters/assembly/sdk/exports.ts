// The proxy-wasm ABI 0.2.1 entry points. A filter's index.ts re-exports everything here
// (`export * from "../sdk/exports"`) and registers its root context factory. One entry point is
// apart: proxy_on_response_body (exports-response-body.ts), which only a module that reads response
// bodies exports — Envoy skips a module without it for every response chunk (no call into its VM).
//
// Each entry point brackets its work with enterExport()/leaveExport() (collect.ts): garbage is
// collected only when the host's outermost call into the module returns.
//
// This replaces @solo-io/proxy-runtime 0.1.8's exports.ts and context bookkeeping (see
// docs/decisions/0001-own-sdk-layer.md): its proxy_on_configure passed the configuration size as
// the size *pointer* (the host writes the size at that address: silent memory corruption, and an
// out-of-bounds trap in Envoy with an empty configuration),
// its gRPC callbacks were empty, and it built debug strings of the whole context map on every
// request.
import { HeadersAction, DataAction, BufferType, GrpcStatus, HeaderMap } from "./abi";
import { RootContext, CallReply } from "./context";
import { newRoot, rootOf, streamOf, addStream, removeStream, removeRoot } from "./registry";
import { releaseStream } from "./callouts";
import { enterExport, leaveExport } from "./collect";
import { beginCallback, endCallback, publishTiming } from "./timing";
import { getBuffer, getHeaders, lastStatus, logError, pluginConfiguration,
  sendLocalResponse, setEffectiveContext } from "./host";

// Registers the global abort handler that asc --use abort=leash_abort refers to.
import "./abort";

// The host allocates result buffers through this export (a fresh pinned ArrayBuffer, or the result
// scratch for a call that asked for it: memory.ts).
export { malloc } from "./memory";

/** A callback for a stream we do not know: refuse rather than let the request through unchecked. */
function refuseUnknown(id: u32): void {
  logError("leash sdk: callback for unknown context " + id.toString());
  sendLocalResponse(500, "leash_sdk_unknown_context", "", new Array<string>(0));
}

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(id: u32, parentId: u32): void {
  enterExport();
  handleContextCreate(id, parentId);
  leaveExport();
}

function handleContextCreate(id: u32, parentId: u32): void {
  if (parentId == 0) {
    newRoot(id);
    return;
  }
  const root = rootOf(parentId);
  if (root == null) return;
  addStream(root.newHttpContext(id));
}

export function proxy_on_vm_start(rootId: u32, vmConfigurationSize: u32): u32 {
  enterExport();
  const r = handleVmStart(rootId, vmConfigurationSize);
  leaveExport();
  return r;
}

function handleVmStart(rootId: u32, vmConfigurationSize: u32): u32 {
  const root = rootOf(rootId);
  if (root == null) return 0;
  const cfg = vmConfigurationSize == 0 ? "" : String.UTF8.decode(getBuffer(BufferType.VmConfiguration, 0, vmConfigurationSize));
  return root.onVmStart(cfg) ? 1 : 0;
}

export function proxy_validate_configuration(rootId: u32, size: u32): u32 { return 1; }

export function proxy_on_configure(rootId: u32, configurationSize: u32): u32 {
  enterExport();
  const r = handleConfigure(rootId, configurationSize);
  leaveExport();
  return r;
}

function handleConfigure(rootId: u32, configurationSize: u32): u32 {
  const root = rootOf(rootId);
  if (root == null) return 0;
  return root.onConfigure(pluginConfiguration(configurationSize)) ? 1 : 0;
}

export function proxy_on_tick(rootId: u32): void {
  enterExport();
  handleTick(rootId);
  leaveExport();
}

function handleTick(rootId: u32): void {
  const root = rootOf(rootId);
  if (root != null) root.onTick();
}

export function proxy_on_queue_ready(rootId: u32, token: u32): void {}
export function proxy_on_foreign_function(rootId: u32, functionId: u32, dataSize: u32): void {}

export function proxy_on_request_headers(id: u32, headers: u32, endOfStream: u32): u32 {
  enterExport();
  const r = handleRequestHeaders(id, headers, endOfStream);
  leaveExport();
  return r;
}

function handleRequestHeaders(id: u32, headers: u32, endOfStream: u32): u32 {
  const s = streamOf(id);
  if (s == null) { refuseUnknown(id); return HeadersAction.StopIteration; }
  beginCallback(s);
  const r = s.onRequestHeaders(headers, endOfStream != 0);
  endCallback(s);
  return r;
}

export function proxy_on_request_body(id: u32, size: u32, endOfStream: u32): u32 {
  enterExport();
  const r = handleRequestBody(id, size, endOfStream);
  leaveExport();
  return r;
}

function handleRequestBody(id: u32, size: u32, endOfStream: u32): u32 {
  const s = streamOf(id);
  if (s == null) { refuseUnknown(id); return DataAction.StopIterationNoBuffer; }
  beginCallback(s);
  const r = s.onRequestBody(size, endOfStream != 0);
  endCallback(s);
  return r;
}

export function proxy_on_request_trailers(id: u32, count: u32): u32 {
  enterExport();
  const r = handleRequestTrailers(id, count);
  leaveExport();
  return r;
}

function handleRequestTrailers(id: u32, count: u32): u32 {
  const s = streamOf(id);
  if (s == null) return HeadersAction.Continue;
  beginCallback(s);
  const r = s.onRequestTrailers(count);
  endCallback(s);
  return r;
}

export function proxy_on_response_headers(id: u32, headers: u32, endOfStream: u32): u32 {
  enterExport();
  const r = handleResponseHeaders(id, headers, endOfStream);
  leaveExport();
  return r;
}

function handleResponseHeaders(id: u32, headers: u32, endOfStream: u32): u32 {
  const s = streamOf(id);
  if (s == null) return HeadersAction.Continue;
  beginCallback(s);
  const r = s.onResponseHeaders(headers, endOfStream != 0);
  endCallback(s);
  return r;
}

export function proxy_on_response_trailers(id: u32, count: u32): u32 {
  enterExport();
  const r = handleResponseTrailers(id, count);
  leaveExport();
  return r;
}

function handleResponseTrailers(id: u32, count: u32): u32 {
  const s = streamOf(id);
  if (s == null) return HeadersAction.Continue;
  beginCallback(s);
  const r = s.onResponseTrailers(count);
  endCallback(s);
  return r;
}

export function proxy_on_request_metadata(id: u32, n: u32): u32 { return 0; }
export function proxy_on_response_metadata(id: u32, n: u32): u32 { return 0; }

/** Hands a finished call to the stream that made it (if still alive), or to the root that did. */
function deliver(root: RootContext, reply: CallReply): void {
  deliverTo(root.callOwner(reply.token), reply);
  root.callDelivered();
}

function deliverTo(root: RootContext, reply: CallReply): void {
  if (root.detached.has(reply.token)) {
    root.detached.delete(reply.token);
    root.onCallReply(reply);
    return;
  }
  const stream = root.claim(reply.token);
  if (stream == null) return; // the stream ended meanwhile: drop the late answer
  // Fails when the host already destroyed the stream; then there is nobody to answer.
  if (!setEffectiveContext(stream.id)) return;
  beginCallback(stream);
  stream.onCallReply(reply);
  endCallback(stream);
}

export function proxy_on_grpc_receive_initial_metadata(rootId: u32, token: u32, headers: u32): void {}
export function proxy_on_grpc_receive_trailing_metadata(rootId: u32, token: u32, trailers: u32): void {}

/** A unary call's response message: the call is complete (Envoy sends no close after it). */
export function proxy_on_grpc_receive(rootId: u32, token: u32, size: u32): void {
  enterExport();
  handleGrpcReceive(rootId, token, size);
  leaveExport();
}

function handleGrpcReceive(rootId: u32, token: u32, size: u32): void {
  const root = rootOf(rootId);
  if (root == null) return;
  const body = getBuffer(BufferType.GrpcReceiveBuffer, 0, size);
  deliver(root, new CallReply(token, 0, "", body, new Array<string>(0)));
}

/** The call ended without a message: an error status (or OK with no message). */
export function proxy_on_grpc_close(rootId: u32, token: u32, statusCode: u32): void {
  enterExport();
  handleGrpcClose(rootId, token, statusCode);
  leaveExport();
}

function handleGrpcClose(rootId: u32, token: u32, statusCode: u32): void {
  const root = rootOf(rootId);
  if (root == null) return;
  const st = lastStatus();
  const status = statusCode == 0 ? <u32>GrpcStatus.Unknown : statusCode; // OK without a message is a protocol error for unary calls
  deliver(root, new CallReply(token, status, st.message, new ArrayBuffer(0), new Array<string>(0)));
}

export function proxy_on_http_call_response(rootId: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  enterExport();
  handleHttpCallResponse(rootId, token, headers, bodySize, trailers);
  leaveExport();
}

function handleHttpCallResponse(rootId: u32, token: u32, headers: u32, bodySize: u32, trailers: u32): void {
  const root = rootOf(rootId);
  if (root == null) return;
  // headers == 0 means the call failed (timeout, reset): report it as a non-zero status.
  const failed = headers == 0;
  const h = failed ? new Array<string>(0) : getHeaders(HeaderMap.HttpCallResponseHeaders);
  const body = bodySize == 0 ? new ArrayBuffer(0) : getBuffer(BufferType.HttpCallResponseBody, 0, bodySize);
  deliver(root, new CallReply(token, failed ? <u32>GrpcStatus.Unavailable : 0, failed ? "http call failed" : "", body, h));
}

export function proxy_on_done(id: u32): u32 {
  enterExport();
  const r = handleDone(id);
  leaveExport();
  return r;
}

function handleDone(id: u32): u32 {
  const s = streamOf(id);
  if (s != null) {
    if (!s.ended) {
      beginCallback(s);
      s.onDone();
      endCallback(s);
    }
    releaseStream(s);
  }
  return 1;
}

export function proxy_on_log(id: u32): void {
  enterExport();
  handleLog(id);
  leaveExport();
}

function handleLog(id: u32): void {
  const s = streamOf(id);
  if (s == null) return;
  beginCallback(s);
  s.onLog();
  endCallback(s);
  publishTiming(s);
}

export function proxy_on_delete(id: u32): void {
  enterExport();
  handleDelete(id);
  leaveExport();
}

function handleDelete(id: u32): void {
  const s = streamOf(id);
  if (s != null) {
    releaseStream(s);
    removeStream(id);
    return;
  }
  removeRoot(id);
}
