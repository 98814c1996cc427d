// gRPC and HTTP call-outs from a stream. The call is registered on the stream's root context
// (where the host delivers the reply); see context.ts for the dispatch.
import * as raw from "./imports";
import { WasmResult } from "./abi";
import { HttpContext, RootContext } from "./context";
import { outU64, utf8, serializePairs } from "./memory";
import { ProtoWriter } from "./pb";

/**
 * Serialized envoy.config.core.v3.GrpcService{ envoy_grpc: { cluster_name } }. Envoy tries to parse
 * the upstream argument as a GrpcService first and only falls back to treating it as a bare
 * cluster name, so the serialized form is the unambiguous one.
 */
export function grpcServiceForCluster(cluster: string): ArrayBuffer {
  const inner = new ProtoWriter();
  inner.string(1, cluster);
  const outer = new ProtoWriter();
  outer.bytes(1, inner.finish());
  return outer.finish();
}

/**
 * Starts a unary gRPC call on behalf of `stream`. Returns the token, or 0 when the host refused
 * the call (unknown cluster, bad arguments): the caller must then decide (fail closed or open).
 * `metadata` is flat [name, value, ...]; `upstream` is from grpcServiceForCluster().
 */
export function grpcCall(stream: HttpContext, upstream: ArrayBuffer, service: string, method: string,
  metadata: Array<string>, message: ArrayBuffer, timeoutMs: u32): u32 {
  const token = issueGrpcCall(upstream, service, method, metadata, message, timeoutMs);
  if (token != 0) stream.root.track(token, stream);
  return token;
}

function issueGrpcCall(upstream: ArrayBuffer, service: string, method: string,
  metadata: Array<string>, message: ArrayBuffer, timeoutMs: u32): u32 {
  const s = utf8(service);
  const m = utf8(method);
  const md = serializePairs(metadata);
  const r = raw.proxy_grpc_call(
    changetype<usize>(upstream), <usize>upstream.byteLength,
    changetype<usize>(s), <usize>s.byteLength,
    changetype<usize>(m), <usize>m.byteLength,
    changetype<usize>(md), <usize>md.byteLength,
    changetype<usize>(message), <usize>message.byteLength,
    timeoutMs, outU64());
  if (r != WasmResult.Ok) return 0;
  return load<u32>(outU64());
}

/**
 * Starts a unary gRPC call that belongs to the root context itself, not to a stream: it outlives
 * the request that prompted it (e.g. reporting usage when a response ends). The reply goes to
 * `root.onCallReply`. Returns the token, or 0 when the host refused the call.
 */
export function grpcCallDetached(root: RootContext, upstream: ArrayBuffer, service: string, method: string,
  metadata: Array<string>, message: ArrayBuffer, timeoutMs: u32): u32 {
  const token = issueGrpcCall(upstream, service, method, metadata, message, timeoutMs);
  if (token != 0) root.detached.add(token);
  return token;
}

/**
 * Starts an HTTP call to `cluster` on behalf of `stream`. `headers` is flat [name, value, ...] and
 * must include :method, :path and :authority. Returns the token, or 0 when the host refused.
 */
export function httpCall(stream: HttpContext, cluster: string, headers: Array<string>, body: ArrayBuffer,
  timeoutMs: u32): u32 {
  const c = utf8(cluster);
  const h = serializePairs(headers);
  const t = serializePairs(new Array<string>(0));
  const r = raw.proxy_http_call(changetype<usize>(c), <usize>c.byteLength,
    changetype<usize>(h), <usize>h.byteLength,
    changetype<usize>(body), <usize>body.byteLength,
    changetype<usize>(t), <usize>t.byteLength,
    timeoutMs, outU64());
  if (r != WasmResult.Ok) return 0;
  const token = load<u32>(outU64());
  stream.root.track(token, stream);
  return token;
}

/**
 * The stream is over: nothing may act on it any more, its calls are cancelled (a late reply finds
 * nobody) and it releases what it holds (HttpContext.onRelease).
 */
export function releaseStream(stream: HttpContext): void {
  stream.ended = true;
  cancelCalls(stream);
  stream.onRelease();
}

/** Cancels every call the stream still waits for (the stream is going away). */
export function cancelCalls(stream: HttpContext): void {
  for (let i = 0; i < stream.calls.length; i++) {
    const token = stream.calls[i];
    stream.root.pending.delete(token);
    // Both kinds share the token space per root; grpc_cancel on an HTTP token returns NotFound,
    // which is harmless (the HTTP reply will find no waiting stream).
    raw.proxy_grpc_cancel(token);
  }
  stream.calls.length = 0;
}
