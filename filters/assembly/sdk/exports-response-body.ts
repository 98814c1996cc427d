// proxy_on_response_body, exported only by modules that read or rewrite response bodies
// (`export * from "../sdk/exports-response-body"` beside `export * from "../sdk/exports"`). Envoy
// calls a wasm filter for a response chunk only when it exports this function, so a module that
// does not need the chunks (auth, injection, quota) costs nothing per chunk of a streamed answer;
// with it, every chunk is one call into the module's VM. test/filters/exports.test.ts checks that a
// module overriding onResponseBody exports it and one that does not, does not.
import { DataAction } from "./abi";
import { streamOf } from "./registry";
import { enterExport, leaveExport } from "./collect";
import { beginCallback, endCallback } from "./timing";

export function proxy_on_response_body(id: u32, size: u32, endOfStream: u32): u32 {
  enterExport();
  const r = handleResponseBody(id, size, endOfStream);
  leaveExport();
  return r;
}

function handleResponseBody(id: u32, size: u32, endOfStream: u32): u32 {
  const s = streamOf(id);
  if (s == null) return DataAction.Continue;
  beginCallback(s);
  const r = s.onResponseBody(size, endOfStream != 0);
  endCallback(s);
  return r;
}
