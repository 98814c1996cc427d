// The bootstrap: node identity, admin, and file-based LDS/CDS. Everything that may change while
// Envoy runs lives in lds.yaml / cds.yaml; the bootstrap itself is read once at start.

import { join } from "node:path";

import type { AdminConfig, LeashConfig } from "../config/types.ts";
import { socketAddress, type ProtoObject } from "./proto.ts";
import { tracingRuntime } from "./tracing.ts";

export const LDS_FILE: string = "lds.yaml";
export const CDS_FILE: string = "cds.yaml";
export const BOOTSTRAP_FILE: string = "bootstrap.yaml";

/**
 * No static_resources: the sidecar cluster is in CDS too. A wasm gRPC call looks its cluster up
 * when the call is made (proxy-wasm calls skip Envoy's static-cluster check), and Envoy finishes
 * CDS before it starts LDS, so the cluster exists before any listener takes a request.
 * `outDir` must be absolute: Envoy resolves these paths against its own working directory.
 */
export function buildBootstrap(cfg: LeashConfig, outDir: string): ProtoObject {
  return {
    node: { id: "leash", cluster: "leash" },
    admin: { address: socketAddress(adminIp(cfg.admin), cfg.admin.port) },
    dynamic_resources: {
      lds_config: fileSource(join(outDir, LDS_FILE), outDir),
      cds_config: fileSource(join(outDir, CDS_FILE), outDir),
    },
    layered_runtime: { layers: [{ name: "static", static_layer: cfg.tracing.enabled ? tracingRuntime() : {} }] },
  };
}

/**
 * watched_directory: Envoy reloads `path` whenever a file is renamed into the directory, which is
 * how writeEnvoyConfig replaces files (write a temp file, then rename over the old one).
 */
function fileSource(path: string, dir: string): ProtoObject {
  return {
    resource_api_version: "V3",
    path_config_source: { path, watched_directory: { path: dir } },
  };
}

/** Envoy binds IP literals only; "localhost" is allowed in the config for convenience. */
function adminIp(admin: AdminConfig): string {
  return admin.address === "localhost" ? "127.0.0.1" : admin.address;
}
