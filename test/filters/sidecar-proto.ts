// Reference protobuf codec for the sidecar API (protobufjs over the same .proto file the sidecar
// serves), so filter tests check the AssemblyScript hand-written codec against an independent one.
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

const PROTO = fileURLToPath(new URL("../../sidecar-services/proto/leash/v1/sidecar.proto", import.meta.url));
const root = protobuf.loadSync(PROTO);
const AuthorizeRequest = root.lookupType("leash.v1.AuthorizeRequest");
const AuthorizeResponse = root.lookupType("leash.v1.AuthorizeResponse");
const UsageReport = root.lookupType("leash.v1.UsageReport");
const UsageAck = root.lookupType("leash.v1.UsageAck");
const UsageBatch = root.lookupType("leash.v1.UsageBatch");
const UsageBatchAck = root.lookupType("leash.v1.UsageBatchAck");

/** The reports of a UsageBatch, each decoded like decodeUsageReport. */
export function decodeUsageBatch(bytes: Uint8Array): Array<Record<string, string | number | boolean>> {
  const batch = UsageBatch.decode(bytes) as unknown as { reports: unknown[] };
  return batch.reports.map((r) => UsageReport.toObject(r as protobuf.Message, { defaults: true, longs: Number }) as Record<string, string | number | boolean>);
}

export function encodeUsageBatchAck(accepted: number, rejected = 0): Uint8Array {
  return UsageBatchAck.encode(UsageBatchAck.fromObject({ accepted, rejected })).finish();
}

/** A decoded UsageReport with protobufjs's camelCase names, integers as numbers. */
export function decodeUsageReport(bytes: Uint8Array): Record<string, string | number | boolean> {
  return UsageReport.toObject(UsageReport.decode(bytes), { defaults: true, longs: Number }) as Record<string, string | number | boolean>;
}

export function encodeUsageAck(accepted: boolean): Uint8Array {
  return UsageAck.encode(UsageAck.fromObject({ accepted })).finish();
}

export interface AuthorizeRequestFields { api_key: string; provider: string; request_id: string; method: string; path: string }

export function decodeAuthorizeRequest(bytes: Uint8Array): AuthorizeRequestFields {
  const o = AuthorizeRequest.toObject(AuthorizeRequest.decode(bytes), { defaults: true }) as Record<string, string>;
  return { api_key: o.apiKey, provider: o.provider, request_id: o.requestId, method: o.method, path: o.path };
}

export function encodeAuthorizeResponse(fields: {
  decision: "ALLOW" | "DENY"; code?: string; message?: string; http_status?: number; tenant_id?: string; key_id?: string;
  upstream_auth_header?: string; upstream_auth_value?: string; cache_ttl_ms?: number; allowed_models?: string[];
  module_policy?: string;
}): Uint8Array {
  const msg = AuthorizeResponse.fromObject({
    decision: fields.decision === "ALLOW" ? 1 : 2,
    code: fields.code ?? "",
    message: fields.message ?? "",
    httpStatus: fields.http_status ?? 0,
    tenantId: fields.tenant_id ?? "",
    keyId: fields.key_id ?? "",
    upstreamAuthHeader: fields.upstream_auth_header ?? "",
    upstreamAuthValue: fields.upstream_auth_value ?? "",
    cacheTtlMs: fields.cache_ttl_ms ?? 0,
    allowedModels: fields.allowed_models ?? [],
    modulePolicy: fields.module_policy ?? "",
  });
  return AuthorizeResponse.encode(msg).finish();
}

const ReserveRequest = root.lookupType("leash.v1.ReserveRequest");
const ReserveResponse = root.lookupType("leash.v1.ReserveResponse");

/** A decoded ReserveRequest with protobufjs's camelCase names, integers as numbers. */
export function decodeReserveRequest(bytes: Uint8Array): Record<string, string | number | boolean> {
  return ReserveRequest.toObject(ReserveRequest.decode(bytes), { defaults: true, longs: Number }) as Record<string, string | number | boolean>;
}

const LeaseReturn = root.lookupType("leash.v1.LeaseReturn");

/** A decoded LeaseReturn (camelCase, integers as numbers). */
export function decodeLeaseReturn(bytes: Uint8Array): Record<string, string | number> {
  return LeaseReturn.toObject(LeaseReturn.decode(bytes), { defaults: true, longs: Number }) as Record<string, string | number>;
}

/** A ReserveResponse from camelCase fields; decision "ALLOW" | "DENY" (or a raw number for bad answers). */
export function encodeReserveResponse(fields: { decision: "ALLOW" | "DENY" | number } & Record<string, unknown>): Uint8Array {
  const decision = fields.decision === "ALLOW" ? 1 : fields.decision === "DENY" ? 2 : fields.decision;
  return ReserveResponse.encode(ReserveResponse.fromObject({ ...fields, decision })).finish();
}
