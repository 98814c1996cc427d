// Names shared between generated resources and their readers: the wasm filters call the sidecar
// cluster by name, routes point at provider clusters, per-route overrides point at filter names.

import type { ModulesConfig } from "../config/types.ts";

/** A module of the filter chain, e.g. "auth". */
export type ModuleName = keyof ModulesConfig;

/** Filter-chain order of the modules; a module absent here is never generated. */
// redact and injection sit after auth (they read the tenant policy auth sets as filter state) and
// before quota, so a request a guard refuses never takes quota; redact before injection so the
// scorer never sees raw secrets in its logs. usage is last: it reads what the others left.
export const MODULE_ORDER: readonly ModuleName[] = ["auth", "redact", "injection", "quota", "usage"];

/** The gRPC cluster every wasm module calls (`sidecar_cluster` in the plugin JSON). */
export const SIDECAR_CLUSTER: string = "leash_sidecar";

/** The OTLP/HTTP collector's cluster (tracing). */
export const OTLP_CLUSTER: string = "leash_otlp";

/** The public listener. */
export const PUBLIC_LISTENER: string = "leash_public";

/** The inline route table of the public listener. */
export const PUBLIC_ROUTES: string = "leash_public_routes";

/** Cluster (and route) of one provider. */
export function providerClusterName(provider: string): string {
  return `provider_${provider}`;
}

/** Name of a module's entry in http_filters, the key of its per-route overrides. */
export function wasmFilterName(module: ModuleName): string {
  return `leash.${module}`;
}

/** Name of the entry that runs several modules in one filter (wasm.chain), e.g. "leash.auth+redact". */
export function chainFilterName(modules: readonly ModuleName[]): string {
  return `leash.${modules.join("+")}`;
}

/** Wasm VM id: one VM per module, so modules never share memory or shared-data keys. */
export function wasmVmId(module: ModuleName): string {
  return `leash-${module}`;
}
