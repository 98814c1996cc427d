// A gRPC client of the sidecar's Authorize, from the real contract: the client constructor comes
// from sidecar-services/src/proto.ts, the loader the server uses, so both sides decode alike, and
// responses have the server's type (AuthorizeResponse of sidecar-services/src/authorize.ts).
import * as grpc from "@grpc/grpc-js";
import type { AuthorizeRequest, AuthorizeResponse } from "../../sidecar-services/src/authorize.ts";
import { AUTHORIZE_PATH, loadSidecarService } from "../../sidecar-services/src/proto.ts";

export type { AuthorizeRequest, AuthorizeResponse };

/** Deadline of every call made here. */
export const AUTHORIZE_DEADLINE_MS = 5000;

let serviceCtor: grpc.ServiceClientConstructor | undefined;

/** The Sidecar service's client constructor, loaded from the .proto once per process. */
function sidecarService(): grpc.ServiceClientConstructor {
  serviceCtor ??= loadSidecarService();
  return serviceCtor;
}

/** A plaintext client of a sidecar's gRPC port on loopback; the caller closes it. */
export function authorizeClient(port: number): grpc.Client {
  const Sidecar = sidecarService();
  return new Sidecar(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/**
 * Calls Authorize with exactly the fields given (absent ones decode as "" on the server).
 * Rejects with the grpc.ServiceError when the call fails (e.g. UNAVAILABLE).
 */
export function authorize(client: grpc.Client, req: Partial<AuthorizeRequest>): Promise<AuthorizeResponse> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Function>).Authorize!(
      req,
      { deadline: Date.now() + AUTHORIZE_DEADLINE_MS },
      (err: grpc.ServiceError | null, res: AuthorizeResponse) => (err ? reject(err) : resolve(res)),
    );
  });
}

/** One Authorize call on a client of its own, closed afterwards. */
export async function authorizeOnce(port: number, req: Partial<AuthorizeRequest>): Promise<AuthorizeResponse> {
  const client = authorizeClient(port);
  try {
    return await authorize(client, req);
  } finally {
    client.close();
  }
}

/**
 * Calls Authorize with a request already encoded by hand (so a test can send bytes a JS string
 * cannot hold, such as invalid UTF-8); the response is decoded as usual.
 */
export function authorizeRaw(client: grpc.Client, body: Buffer): Promise<AuthorizeResponse> {
  const decode = sidecarService().service.Authorize!.responseDeserialize as (b: Buffer) => AuthorizeResponse;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      AUTHORIZE_PATH,
      (b: Buffer) => b,
      decode,
      body,
      { deadline: Date.now() + AUTHORIZE_DEADLINE_MS },
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}
