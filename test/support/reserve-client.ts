// Reserve over real gRPC from the real contract (the loader the server uses), and a builder of
// well-formed requests, so quota tests name only the fields they depend on.
import * as grpc from "@grpc/grpc-js";
import { randomBytes } from "node:crypto";
import type { ReserveRequest, ReserveResponse } from "../../sidecar-services/src/quota-service.ts";
import { AUTHORIZE_DEADLINE_MS } from "./authorize-client.ts";

export type { ReserveRequest, ReserveResponse };

/** A complete, valid request: tenant acme, no key, mock provider, gpt-4o-mini, 100 prompt tokens, max_tokens 20, a fresh reservation id. */
export function reserveRequest(overrides: Partial<ReserveRequest> = {}): ReserveRequest {
  return {
    request_id: `req-${randomBytes(8).toString("hex")}`,
    tenant_id: "acme",
    key_id: "",
    provider: "mock",
    model: "gpt-4o-mini",
    estimated_prompt_tokens: "100",
    max_output_tokens: "20",
    reservation_id: randomBytes(16).toString("hex"),
    ...overrides,
  };
}

/** Calls Reserve on a client from authorizeClient(); rejects with the grpc.ServiceError on failure. */
export function reserve(client: grpc.Client, req: Partial<ReserveRequest>): Promise<ReserveResponse> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Function>).Reserve!(
      req,
      { deadline: Date.now() + AUTHORIZE_DEADLINE_MS },
      (err: grpc.ServiceError | null, res: ReserveResponse) => (err ? reject(err) : resolve(res)),
    );
  });
}
