// Loads the gRPC contract (proto/leash/v1/sidecar.proto) at runtime with @grpc/proto-loader.
// Server and tests use this one loader so both sides decode messages the same way.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import { assetPath } from "./assets.ts";

/**
 * Loader options, part of the sidecar's in-process contract:
 * - keepCase: fields keep their proto names (`api_key`, not `apiKey`), matching the .proto and logs;
 * - enums: String: `decision` is "ALLOW" / "DENY" on both sides (a client loading with enums: Number
 *   sees 1 / 2 — the wire is identical);
 * - defaults: absent fields decode as ""/0, so handlers never see undefined;
 * - longs: String: no 64-bit fields today; set so adding one cannot lose precision silently.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  enums: String,
  longs: String,
  defaults: true,
  oneofs: true,
};

/** Fully qualified service path of Authorize, as it appears on the wire. */
export const AUTHORIZE_PATH = "/leash.v1.Sidecar/Authorize";

/** Path of the .proto file (source tree or bundle). */
export function sidecarProtoPath(): string {
  return join(assetPath("proto"), "leash", "v1", "sidecar.proto");
}

/** The Sidecar service: its definition (for servers) and client constructor (for tests/tools). */
export function loadSidecarService(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync(sidecarProtoPath(), PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    leash: { v1: { Sidecar: grpc.ServiceClientConstructor } };
  };
  return pkg.leash.v1.Sidecar;
}
