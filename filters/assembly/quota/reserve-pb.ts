// Wire encoding of leash.v1.Sidecar/Reserve (sidecar-services/proto/leash/v1/sidecar.proto).
// Field numbers must match the .proto file.
import { ProtoWriter, ProtoReader } from "../sdk/pb";

export const SERVICE = "leash.v1.Sidecar";
export const METHOD = "Reserve";

export enum Decision { Unspecified = 0, Allow = 1, Deny = 2 }

export class ReserveRequest {
  requestId: string = "";
  tenantId: string = "";
  keyId: string = "";
  provider: string = "";
  model: string = "";
  estimatedPromptTokens: u64 = 0;
  maxOutputTokens: u64 = 0;
  /** Names the reservation: 128 random bits per request, never the client's x-request-id. */
  reservationId: string = "";
  /** Asks for a lease under this id (128 random bits, hex); "" = none. */
  leaseId: string = "";
  /** A renewal: only the lease is asked for, no request of its own (reservationId ""). */
  leaseOnly: bool = false;
  /** With leaseId: what the VM expects to admit on the lease (0 = no estimate); caps its size. */
  leaseRequestsWanted: u64 = 0;
  leaseTokensWanted: u64 = 0;
}

export function encodeReserveRequest(r: ReserveRequest): ArrayBuffer {
  const w = new ProtoWriter();
  w.string(1, r.requestId);
  w.string(2, r.tenantId);
  w.string(3, r.keyId);
  w.string(4, r.provider);
  w.string(5, r.model);
  w.uint(6, r.estimatedPromptTokens);
  w.uint(7, r.maxOutputTokens);
  w.string(8, r.reservationId);
  if (r.leaseId.length > 0) w.string(9, r.leaseId);
  if (r.leaseOnly) w.bool(10, true);
  if (r.leaseRequestsWanted > 0) w.uint(11, r.leaseRequestsWanted);
  if (r.leaseTokensWanted > 0) w.uint(12, r.leaseTokensWanted);
  return w.finish();
}

/** The request and token limits an answer reports, for the x-ratelimit-* headers. */
export class RateLimits {
  hasRequestLimit: bool = false;
  limitRequests: u64 = 0;
  remainingRequests: u64 = 0;
  resetRequestsMs: u64 = 0;
  hasTokenLimit: bool = false;
  limitTokens: u64 = 0;
  remainingTokens: u64 = 0;
  resetTokensMs: u64 = 0;

  get any(): bool { return this.hasRequestLimit || this.hasTokenLimit; }
}

export class ReserveResponse {
  decision: Decision = Decision.Unspecified;
  code: string = "";
  message: string = "";
  httpStatus: u32 = 0;
  retryAfterS: u32 = 0;
  limits: RateLimits = new RateLimits();
  unmetered: bool = false;
  noLimitsTtlMs: u32 = 0;
  /** A lease granted under ReserveRequest.leaseId: 0 requests = none. */
  leaseRequests: u64 = 0;
  leaseTokens: u64 = 0;
  leaseTtlMs: u32 = 0;
}

function clampU32(v: u64): u32 { return v > 0xffffffff ? <u32>0xffffffff : <u32>v; }

/** Decodes a ReserveResponse; null when the bytes are not a valid message. */
export function decodeReserveResponse(data: ArrayBuffer): ReserveResponse | null {
  const r = new ProtoReader(data);
  const out = new ReserveResponse();
  const l = out.limits;
  while (r.next()) {
    const f = r.field;
    if (r.wireType == 0) {
      const v = r.value;
      if (f == 1) out.decision = v > 2 ? Decision.Unspecified : <Decision>(<i32>v);
      else if (f == 4) out.httpStatus = clampU32(v);
      else if (f == 5) out.retryAfterS = clampU32(v);
      else if (f == 6) l.hasRequestLimit = v != 0;
      else if (f == 7) l.limitRequests = v;
      else if (f == 8) l.remainingRequests = v;
      else if (f == 9) l.resetRequestsMs = v;
      else if (f == 10) l.hasTokenLimit = v != 0;
      else if (f == 11) l.limitTokens = v;
      else if (f == 12) l.remainingTokens = v;
      else if (f == 13) l.resetTokensMs = v;
      else if (f == 14) out.unmetered = v != 0;
      else if (f == 15) out.noLimitsTtlMs = clampU32(v);
      else if (f == 16) out.leaseRequests = v;
      else if (f == 17) out.leaseTokens = v;
      else if (f == 18) out.leaseTtlMs = clampU32(v);
    } else if (r.wireType == 2) {
      if (f == 2) out.code = r.string();
      else if (f == 3) out.message = r.string();
    }
  }
  if (!r.ok) return null;
  return out;
}

export const RETURN_METHOD = "ReturnLease";

/** LeaseReturn: a lease's unused part, given back once. */
export function encodeLeaseReturn(tenantId: string, leaseId: string, requests: u64, tokens: u64): ArrayBuffer {
  const w = new ProtoWriter();
  w.string(1, tenantId);
  w.string(2, leaseId);
  w.uint(3, requests);
  w.uint(4, tokens);
  return w.finish();
}
