// The wasm modules' entries in the HTTP filter chain and the plugin JSON each one receives.
// The plugin JSON is the contract with the AssemblyScript filters: its keys must not change
// without changing their config parsers (filters/assembly/<module>/config.ts).

import { resolve } from "node:path";

import type { FailureMode, LeashConfig, ModuleConfig, ProviderApi, ProviderConfig } from "../config/types.ts";
import { MODULE_ORDER, SIDECAR_CLUSTER, wasmFilterName, wasmVmId, type ModuleName } from "./names.ts";
import { typeUrl, type ProtoObject } from "./proto.ts";

/** How a module maps a request path to a provider (the filter sees paths before rewriting). */
export interface PluginRoute {
  prefix: string;
  provider: string;
  api: ProviderApi;
}

/** The plugin configuration JSON of one module. */
export interface PluginConfig {
  module: ModuleName;
  failure_mode: FailureMode;
  timeout_ms: number;
  sidecar_cluster: string;
  /** Largest request body the module accepts (listener.max_request_body_bytes). */
  max_body_bytes: number;
  /** Every provider, in config order. */
  routes: PluginRoute[];
}

/** The plugin JSON of `module`, keys in contract order. */
export function pluginConfig(cfg: LeashConfig, module: ModuleName): PluginConfig {
  const settings: ModuleConfig = cfg.modules[module];
  return {
    module,
    failure_mode: settings.failure_mode,
    timeout_ms: settings.timeout_ms,
    sidecar_cluster: SIDECAR_CLUSTER,
    max_body_bytes: cfg.listener.max_request_body_bytes,
    routes: cfg.providers.map(
      (p: ProviderConfig): PluginRoute => ({ prefix: p.prefix, provider: p.name, api: p.api }),
    ),
  };
}

/** Enabled modules in filter-chain order. */
export function enabledModules(cfg: LeashConfig): ModuleName[] {
  return MODULE_ORDER.filter((m: ModuleName): boolean => cfg.modules[m].enabled);
}

/** Path of a module's compiled filter: `<wasmDir>/<module>.wasm`, absolute. */
export function wasmFile(wasmDir: string, module: ModuleName): string {
  return resolve(wasmDir, `${module}.wasm`);
}

/**
 * Modules that hold a request's headers while they read its body (the quota module decides on the
 * body, and nothing may reach the upstream before it has; the usage module may grow an OpenAI
 * streaming body and must fix Content-Length before the headers leave): Envoy must still run their
 * body callbacks while the headers are stopped, which it does only with allow_on_headers_stop_iteration.
 * Without it, StopIteration from the headers becomes StopAllIterationAndWatermark and the request
 * would wait for a body the module never sees.
 */
const HOLDS_HEADERS_FOR_BODY: readonly ModuleName[] = ["quota", "usage"];

/**
 * One `envoy.filters.http.wasm` entry. The JSON goes in a StringValue because Envoy hands a
 * StringValue to the plugin unwrapped, which is what the filter's config parser reads.
 * Closed modules get FAIL_RELOAD, not FAIL_CLOSED: both answer 503 to the request whose callback
 * trapped, but FAIL_CLOSED then refuses every later request on that VM until Envoy restarts,
 * while FAIL_RELOAD starts a fresh VM (test/integration/envoy-failure-policy.test.ts shows both).
 * FAIL_OPEN skips the filter instead.
 */
export function wasmHttpFilter(cfg: LeashConfig, module: ModuleName, wasmDir: string): ProtoObject {
  const settings: ModuleConfig = cfg.modules[module];
  return {
    name: wasmFilterName(module),
    typed_config: {
      "@type": typeUrl("envoy.extensions.filters.http.wasm.v3.Wasm"),
      config: {
        name: module,
        root_id: module,
        vm_config: {
          vm_id: wasmVmId(module),
          runtime: "envoy.wasm.runtime.v8",
          code: { local: { filename: wasmFile(wasmDir, module) } },
        },
        configuration: {
          "@type": typeUrl("google.protobuf.StringValue"),
          value: JSON.stringify(pluginConfig(cfg, module)),
        },
        failure_policy: settings.failure_mode === "closed" ? "FAIL_RELOAD" : "FAIL_OPEN",
        ...(HOLDS_HEADERS_FOR_BODY.includes(module) ? { allow_on_headers_stop_iteration: true } : {}),
      },
    },
  };
}
