// The quota module's plugin configuration (written by envoy/wasm-filters.ts), parsed and checked
// once per configure. The shape is in README.md.
import { ConfigReader } from "../sdk/plugin-config";
import { JsonKind } from "../sdk/json";
import { Route, parseRoutes } from "../sdk/routes";

export const EXPECTED_SHAPE = "{\"module\":\"quota\",\"failure_mode\":\"closed|open\",\"timeout_ms\":250," +
  "\"sidecar_cluster\":\"leash_sidecar\",\"max_body_bytes\":4194304,\"no_limits_max_entries\":10000," +
  "\"routes\":[{\"prefix\":\"/openai\",\"provider\":\"openai\",\"api\":\"openai|anthropic\"}]," +
  "\"settings\":{\"lease\":true,\"default_output_tokens\":1024}} (settings optional: no leases)";

export class QuotaConfig {
  failOpen: bool = false;
  timeoutMs: u32 = 250;
  sidecarCluster: string = "leash_sidecar";
  /** Larger bodies are never buffered here: the auth module (or Envoy) refuses them first. */
  maxBodyBytes: u32 = 4 * 1024 * 1024;
  /** Bound on the per-worker "this tenant and key have no limit" cache (0 = no cache). */
  noLimitsMaxEntries: i32 = 10000;
  routes: Array<Route> = new Array<Route>(0);
  /**
   * settings.lease: ask the sidecar for leases (modules.quota.lease_ttl_ms > 0) and admit requests
   * that fit one without a call (docs/decisions/0004-quota-hot-path.md). Default false.
   */
  lease: bool = false;
  /**
   * settings.default_output_tokens (modules.quota.default_output_tokens): what a leased request
   * that names no output cap takes from the lease, as the sidecar would reserve for it.
   */
  defaultOutputTokens: u64 = 1024;
}

export class QuotaConfigResult {
  constructor(public config: QuotaConfig | null, public error: string) {}
}

export function parseQuotaConfig(text: string): QuotaConfigResult {
  const r = ConfigReader.open(text);
  if (!r.ok) return new QuotaConfigResult(null, r.error);
  const cfg = new QuotaConfig();
  cfg.failOpen = r.failOpen();
  cfg.timeoutMs = <u32>r.number("timeout_ms", 1, 60000, cfg.timeoutMs);
  cfg.sidecarCluster = r.nonEmptyString("sidecar_cluster", cfg.sidecarCluster);
  cfg.maxBodyBytes = <u32>r.number("max_body_bytes", 1, 1073741824, cfg.maxBodyBytes);
  cfg.noLimitsMaxEntries = <i32>r.number("no_limits_max_entries", 0, 1000000, cfg.noLimitsMaxEntries);
  if (r.ok) {
    const routes = parseRoutes(r.root.get("routes"));
    r.fail(routes.error);
    cfg.routes = routes.routes;
  }
  const settings = r.root.get("settings");
  if (r.ok && settings != null) {
    if (!settings.isObject()) {
      r.fail("settings must be an object");
    } else {
      const lease = settings.get("lease");
      if (lease != null && lease.kind != JsonKind.Bool) r.fail("settings.lease must be true or false");
      cfg.lease = lease != null && lease.b;
      const s = new ConfigReader(settings);
      cfg.defaultOutputTokens = <u64>s.number("default_output_tokens", 1, 1048576, <f64>cfg.defaultOutputTokens);
      if (!s.ok) r.fail("settings." + s.error);
    }
  }
  return r.ok ? new QuotaConfigResult(cfg, "") : new QuotaConfigResult(null, r.error);
}
