// The wasm modules' entries in the HTTP filter chain and the plugin JSON each one receives.
// The plugin JSON is the contract with the AssemblyScript filters: its keys must not change
// without changing their config parsers (filters/assembly/<module>/config.ts).

import { resolve } from "node:path";

import type { RedactAction, InjectionAction } from "../config/guard-policy.ts";
import type { FailureMode, LeashConfig, ProviderApi, ProviderConfig } from "../config/types.ts";
import { chainFilterName, MODULE_ORDER, SIDECAR_CLUSTER, wasmFilterName, wasmVmId, type ModuleName } from "./names.ts";
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
  /** Module-specific settings; present only for the guard modules (shapes below). */
  settings?: RedactPluginSettings | InjectionPluginSettings | QuotaPluginSettings;
  /**
   * The module reads the body while it holds the headers (HOLDS_HEADERS_FOR_BODY): the module
   * chain shows it the body meanwhile, as Envoy does for a filter with allow_on_headers_stop_iteration.
   * Absent for the others.
   */
  body_while_headers_held?: true;
}

/**
 * `settings` of the quota module's plugin JSON, present only with leases on
 * (modules.quota.lease_ttl_ms > 0), e.g. {"lease":true,"default_output_tokens":1024}: the module
 * then asks for leases and needs the sidecar's output default to spend them.
 */
export interface QuotaPluginSettings {
  lease: boolean;
  default_output_tokens: number;
}

/**
 * `settings` of the redact module's plugin JSON, e.g.
 *   {"entities":{"email":"mask",…,"generic_secret":"block"},"responses":true,"stream_holdback_chars":4096}
 * `entities` lists all 18 entity names (config/guard-policy.ts ENTITY_NAMES) with mask|hash|block|allow.
 */
export interface RedactPluginSettings {
  entities: Record<string, RedactAction>;
  responses: boolean;
  stream_holdback_chars: number;
}

/**
 * `settings` of the injection module's plugin JSON, e.g. {"action":"block","threshold":0.7}:
 * action flag|block, threshold a JSON number in 0..1. The whole injection plugin JSON is
 *   {"module":"injection","failure_mode":"closed","timeout_ms":0,"sidecar_cluster":"leash_sidecar",
 *    "max_body_bytes":4194304,"routes":[{"prefix":"/openai","provider":"openai","api":"openai"},…],
 *    "settings":{"action":"block","threshold":0.7},"body_while_headers_held":true}
 * A tenant's policy overrides action/threshold per request through filter state `leash.policy`
 * ({"injection":{"action":"flag","threshold":0.5},"redact":{…}}, docs/guards.md).
 */
export interface InjectionPluginSettings {
  action: InjectionAction;
  threshold: number;
}

/**
 * Modules that hold a request's headers while they read its body (the quota module decides on the
 * body, and nothing may reach the upstream before it has; the usage module may grow an OpenAI
 * streaming body and must fix Content-Length before the headers leave; the injection module scores
 * the body and may add x-leash-injection-score to the headers): Envoy must still run their
 * body callbacks while the headers are stopped, which it does only with allow_on_headers_stop_iteration.
 * Without it, StopIteration from the headers becomes StopAllIterationAndWatermark and the request
 * would wait for a body the module never sees. The one place this is decided: the same list puts
 * `body_while_headers_held: true` in these modules' plugin JSON, which the chain root
 * (filters/assembly/sdk/chain.ts) applies between the modules it runs.
 */
const HOLDS_HEADERS_FOR_BODY: readonly ModuleName[] = ["injection", "quota", "usage"];

/** The plugin JSON of `module`, keys in contract order. */
export function pluginConfig(cfg: LeashConfig, module: ModuleName): PluginConfig {
  const out: PluginConfig = {
    module,
    failure_mode: cfg.modules[module].failure_mode,
    // The guard modules make no sidecar call: 0 says so.
    timeout_ms: module === "redact" || module === "injection" ? 0 : cfg.modules[module].timeout_ms,
    sidecar_cluster: SIDECAR_CLUSTER,
    max_body_bytes: cfg.listener.max_request_body_bytes,
    routes: cfg.providers.map(
      (p: ProviderConfig): PluginRoute => ({ prefix: p.prefix, provider: p.name, api: p.api }),
    ),
  };
  if (module === "redact") {
    const r = cfg.modules.redact;
    out.settings = { entities: { ...r.entities }, responses: r.responses, stream_holdback_chars: r.stream_holdback_chars };
  } else if (module === "injection") {
    const i = cfg.modules.injection;
    out.settings = { action: i.action, threshold: i.threshold };
  } else if (module === "quota" && cfg.modules.quota.lease_ttl_ms > 0) {
    // Absent otherwise, so configurations without leases generate what they always did.
    out.settings = { lease: true, default_output_tokens: cfg.modules.quota.default_output_tokens };
  }
  if (HOLDS_HEADERS_FOR_BODY.includes(module)) out.body_while_headers_held = true;
  return out;
}

/** Enabled modules in filter-chain order. */
export function enabledModules(cfg: LeashConfig): ModuleName[] {
  return MODULE_ORDER.filter((m: ModuleName): boolean => cfg.modules[m].enabled);
}

/** Path of a module's compiled filter: `<wasmDir>/<module>.wasm`, absolute. */
export function wasmFile(wasmDir: string, module: ModuleName): string {
  return resolve(wasmDir, `${module}.wasm`);
}

/** The binary with every built-in module (filters/assembly/leash), for wasm.shared_vm. */
export const SHARED_WASM: string = "leash.wasm";

/**
 * Which VM a module's filter runs in, and from which binary. With wasm.shared_vm (the default)
 * every module with the same failure policy shares one VM running leash.wasm: Envoy keys VMs by
 * vm_id and code, so the filters of one group share a VM per worker, each with its own root
 * context and configuration. Grouping by policy keeps a fault in one module from turning another
 * module off: a trapped VM is reloaded (FAIL_RELOAD) or skipped from then on (FAIL_OPEN), for every
 * filter in it. Otherwise each module has its own VM and binary.
 */
export function moduleVm(cfg: LeashConfig, module: ModuleName, wasmDir: string): { vmId: string; file: string } {
  if (!cfg.wasm.shared_vm) return { vmId: wasmVmId(module), file: wasmFile(wasmDir, module) };
  return { vmId: `leash-${cfg.modules[module].failure_mode === "closed" ? "closed" : "open"}`, file: resolve(wasmDir, SHARED_WASM) };
}

/** The binaries Envoy will load for `cfg`'s enabled modules (each once), absolute. */
export function wasmFilesFor(cfg: LeashConfig, wasmDir: string): string[] {
  const files: string[] = enabledModules(cfg).map((m: ModuleName) => moduleVm(cfg, m, wasmDir).file);
  return [...new Set(files)];
}

/** One entry of the HTTP filter chain: a module in its own filter, or several in one (wasm.chain). */
export interface WasmFilterGroup {
  /** The entry's name in http_filters (per-route overrides use it). */
  name: string;
  /** Its modules in chain order; more than one = the chain root (filters/assembly/sdk/chain.ts). */
  modules: ModuleName[];
}

/**
 * The wasm entries of the filter chain, in order. With wasm.chain (the default with shared_vm),
 * enabled modules next to each other with the same failure policy run in one filter: a filter
 * costs Envoy CPU per request however little it does (bench/README.md), and the policy is
 * Envoy's, per filter, so modules of different policies stay apart. Otherwise one filter each.
 */
export function wasmFilterGroups(cfg: LeashConfig): WasmFilterGroup[] {
  const groups: ModuleName[][] = [];
  for (const m of enabledModules(cfg)) {
    const last: ModuleName[] | undefined = groups[groups.length - 1];
    const joins: boolean = cfg.wasm.chain && last !== undefined &&
      cfg.modules[last[0]!].failure_mode === cfg.modules[m].failure_mode;
    if (joins) last!.push(m);
    else groups.push([m]);
  }
  return groups.map((modules: ModuleName[]): WasmFilterGroup => ({
    name: modules.length === 1 ? wasmFilterName(modules[0]!) : chainFilterName(modules),
    modules,
  }));
}

/**
 * A chain filter's plugin configuration: each module's plugin JSON on its own line, in chain order
 * (JSON.stringify never writes a raw newline, so a line is one module).
 */
export function chainConfiguration(cfg: LeashConfig, modules: readonly ModuleName[]): string {
  return modules.map((m: ModuleName): string => JSON.stringify(pluginConfig(cfg, m))).join("\n");
}

/**
 * One `envoy.filters.http.wasm` entry: one module (root_id = the module), or several run by the
 * chain root (root_id "chain", configuration = chainConfiguration). The JSON goes in a StringValue because Envoy hands a
 * StringValue to the plugin unwrapped, which is what the filter's config parser reads.
 * Closed modules get FAIL_RELOAD, not FAIL_CLOSED: both answer 503 to the request whose callback
 * trapped, but FAIL_CLOSED then refuses every later request on that VM until Envoy restarts,
 * while FAIL_RELOAD starts a fresh VM (test/integration/envoy-failure-policy.test.ts shows both).
 * FAIL_OPEN skips the filter instead.
 */
export function wasmHttpFilter(cfg: LeashConfig, group: WasmFilterGroup, wasmDir: string): ProtoObject {
  const first: ModuleName = group.modules[0]!;
  const single: boolean = group.modules.length === 1;
  const failureMode: FailureMode = cfg.modules[first].failure_mode;
  const vm = moduleVm(cfg, first, wasmDir);
  return {
    name: group.name,
    typed_config: {
      "@type": typeUrl("envoy.extensions.filters.http.wasm.v3.Wasm"),
      config: {
        name: single ? first : group.modules.join("+"),
        root_id: single ? first : "chain",
        vm_config: {
          vm_id: vm.vmId,
          runtime: "envoy.wasm.runtime.v8",
          code: { local: { filename: vm.file } },
        },
        configuration: {
          "@type": typeUrl("google.protobuf.StringValue"),
          value: single ? JSON.stringify(pluginConfig(cfg, first)) : chainConfiguration(cfg, group.modules),
        },
        failure_policy: failureMode === "closed" ? "FAIL_RELOAD" : "FAIL_OPEN",
        ...(group.modules.some((m: ModuleName) => HOLDS_HEADERS_FOR_BODY.includes(m)) ? { allow_on_headers_stop_iteration: true } : {}),
      },
    },
  };
}
