// RecordUsage over real gRPC from the real contract (the loader the server uses), and a builder of
// well-formed reports, so usage tests name only the fields they depend on.
import * as grpc from "@grpc/grpc-js";
import { randomBytes } from "node:crypto";
import type { UsageAck, UsageReport } from "../../sidecar-services/src/usage-report.ts";
import { AUTHORIZE_DEADLINE_MS } from "./authorize-client.ts";

export type { UsageAck, UsageReport };

/** A complete, valid report: mock provider, gpt-4o-mini, 200 from upstream, 100 prompt + 20 completion tokens, started now. */
export function usageReport(overrides: Partial<UsageReport> = {}): UsageReport {
  return {
    request_id: `req-${randomBytes(8).toString("hex")}`,
    tenant_id: "acme",
    key_id: "k3j9x0abcd12",
    provider: "mock",
    api: "openai",
    model: "gpt-4o-mini",
    status: 200,
    prompt_tokens: "100",
    completion_tokens: "20",
    cached_tokens: "0",
    streamed: false,
    estimated: false,
    duration_ms: "250",
    upstream_first_byte_ms: "120",
    started_at_ms: String(Date.now()),
    guard_decisions: "",
    audit: false,
    audit_request_body: Buffer.alloc(0),
    audit_response_body: Buffer.alloc(0),
    audit_truncated: false,
    upstream_responded: true,
    ...overrides,
  };
}

/** Calls RecordUsage on a client from authorizeClient(); rejects with the grpc.ServiceError on failure. */
export function recordUsage(client: grpc.Client, report: Partial<UsageReport>): Promise<UsageAck> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Function>).RecordUsage!(
      report,
      { deadline: Date.now() + AUTHORIZE_DEADLINE_MS },
      (err: grpc.ServiceError | null, res: UsageAck) => (err ? reject(err) : resolve(res)),
    );
  });
}

/** Calls RecordUsageBatch; resolves with {accepted, rejected}, rejects with the grpc.ServiceError on failure. */
export function recordUsageBatch(client: grpc.Client, reports: Array<Partial<UsageReport>>): Promise<{ accepted: number; rejected: number }> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Function>).RecordUsageBatch!(
      { reports },
      { deadline: Date.now() + AUTHORIZE_DEADLINE_MS },
      (err: grpc.ServiceError | null, res: { accepted: number; rejected: number }) => (err ? reject(err) : resolve(res)),
    );
  });
}
