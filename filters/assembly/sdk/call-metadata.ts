// gRPC initial metadata every per-request sidecar call carries: the correlation id and the client's
// W3C trace context. The sidecar logs the first and parents its span on the second, so a module's
// call lands in the request's log lines and trace (docs/tracing.md). Envoy's own span context is
// not visible to wasm; the traceparent the request arrived with is the one there is.
import { getRequestHeader } from "./host";

/** Longest traceparent passed on (version 00 is 55 characters; later versions may add fields). */
const MAX_TRACEPARENT: i32 = 128;

/** Flat [name, value, ...] metadata with x-request-id and traceparent, when the request has them. */
export function requestCallMetadata(): Array<string> {
  const md = new Array<string>(0);
  const rid = getRequestHeader("x-request-id");
  if (rid != null && rid.length > 0) { md.push("x-request-id"); md.push(rid); }
  const tp = getRequestHeader("traceparent");
  if (tp != null && tp.length > 0 && tp.length <= MAX_TRACEPARENT) { md.push("traceparent"); md.push(tp); }
  return md;
}
