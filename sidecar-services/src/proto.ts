// Loads the gRPC contract (proto/leash/v1/sidecar.proto) at runtime with @grpc/proto-loader.
// Server and tests use this one loader so both sides decode messages the same way.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import { assetPath } from "./assets.ts";
import { decodeUsageBatch, decodeUsageReport } from "./usage-decode.ts";

/**
 * Loader options, part of the sidecar's in-process contract:
 * - keepCase: fields keep their proto names (`api_key`, not `apiKey`), matching the .proto and logs;
 * - enums: String: `decision` is "ALLOW" / "DENY" on both sides (a client loading with enums: Number
 *   sees 1 / 2 — the wire is identical);
 * - defaults: absent fields decode as ""/0, so handlers never see undefined;
 * - longs: String: a uint64 decodes to its decimal digits, so no value loses precision silently
 *   (the server decodes usage reports otherwise: see {@link sidecarServiceDefinition}).
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

/**
 * Usage reports' uint64 fields (tokens, durations, timestamps) decode to numbers: every one is
 * checked against a bound below 2^53 (usage-report.ts `integer`), and a value at or above 2^53, which
 * a number cannot hold exactly, fails that check as its digit string did. With longs: String,
 * protobufjs turned each of the seven per report into a Long and then a decimal string by long
 * division, about 15 % of what the sidecar allocated at 1000 requests/s (bench/README.md), and the
 * validation parsed them back. The server no longer decodes reports with protobufjs (see
 * {@link sidecarServiceDefinition}); these options describe what it decodes them to, and tests
 * hold its own decoder to protobufjs's output with them.
 */
export const USAGE_LOADER_OPTIONS: protoLoader.Options = { ...PROTO_LOADER_OPTIONS, longs: Number };

/**
 * The Sidecar service definition the server registers: the usage RPCs' requests read by the
 * sidecar's own decoder (usage-decode.ts: the same objects protobufjs gave with
 * {@link USAGE_LOADER_OPTIONS}, without its two passes and their garbage), the others by
 * proto-loader with the shared options.
 */
export function sidecarServiceDefinition(): grpc.ServiceDefinition {
  const service = loadSidecarService().service;
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...service };
  definition.RecordUsage = { ...service.RecordUsage!, requestDeserialize: decodeUsageReport };
  definition.RecordUsageBatch = { ...service.RecordUsageBatch!, requestDeserialize: decodeUsageBatch };
  return definition as grpc.ServiceDefinition;
}
