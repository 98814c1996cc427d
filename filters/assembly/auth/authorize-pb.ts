// Wire encoding of leash.v1.Sidecar/Authorize (sidecar-services/proto/leash/v1/sidecar.proto).
// Field numbers must match the .proto file.
import { ProtoWriter, ProtoReader } from "../sdk/pb";

export const SERVICE = "leash.v1.Sidecar";
export const METHOD = "Authorize";

export enum Decision { Unspecified = 0, Allow = 1, Deny = 2 }

export function encodeAuthorizeRequest(apiKey: string, provider: string, requestId: string, method: string, path: string): ArrayBuffer {
  const w = new ProtoWriter();
  w.string(1, apiKey);
  w.string(2, provider);
  w.string(3, requestId);
  w.string(4, method);
  w.string(5, path);
  return w.finish();
}

export class AuthorizeResponse {
  decision: Decision = Decision.Unspecified;
  code: string = "";
  message: string = "";
  httpStatus: u32 = 0;
  tenantId: string = "";
  keyId: string = "";
  upstreamAuthHeader: string = "";
  upstreamAuthValue: string = "";
  cacheTtlMs: u32 = 0;
  allowedModels: Array<string> = new Array<string>(0);
  /** The tenant's guard policy (compact JSON) for the guard modules; "" = their defaults. */
  modulePolicy: string = "";
}

/** Decodes an AuthorizeResponse; null when the bytes are not a valid message. */
export function decodeAuthorizeResponse(data: ArrayBuffer): AuthorizeResponse | null {
  const r = new ProtoReader(data);
  const out = new AuthorizeResponse();
  while (r.next()) {
    const f = r.field;
    if (r.wireType == 0) {
      if (f == 1) out.decision = <Decision>(<i32>r.value);
      else if (f == 4) out.httpStatus = <u32>r.value;
      else if (f == 9) out.cacheTtlMs = r.value > 0xffffffff ? <u32>0xffffffff : <u32>r.value;
    } else if (r.wireType == 2) {
      if (f == 2) out.code = r.string();
      else if (f == 3) out.message = r.string();
      else if (f == 5) out.tenantId = r.string();
      else if (f == 6) out.keyId = r.string();
      else if (f == 7) out.upstreamAuthHeader = r.string();
      else if (f == 8) out.upstreamAuthValue = r.string();
      else if (f == 10) out.allowedModels.push(r.string());
      else if (f == 11) out.modulePolicy = r.string();
    }
  }
  if (!r.ok) return null;
  return out;
}
