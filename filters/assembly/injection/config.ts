// The injection module's plugin configuration (written by envoy/wasm-filters.ts, see
// docs/configuration.md): the keys common to every module, and `settings` — the operator's
// default action and threshold. A tenant's policy (filter state leash.policy, section "injection",
// same shape as `settings`) overrides them per request: see policyFor().
import { parseJson, JsonValue } from "../sdk/json";
import { Route, parseRoutes } from "../sdk/routes";

export const EXPECTED_SHAPE = "{\"module\":\"injection\",\"failure_mode\":\"closed|open\",\"timeout_ms\":0," +
  "\"sidecar_cluster\":\"leash_sidecar\",\"max_body_bytes\":4194304," +
  "\"routes\":[{\"prefix\":\"/openai\",\"provider\":\"openai\",\"api\":\"openai|anthropic\"}]," +
  "\"settings\":{\"action\":\"flag|block\",\"threshold\":0.7}}";

export enum Action { Flag = 0, Block = 1 }

/** Default threshold: picked from the sweep of test/eval/injection-eval.ts (README: "Evaluation"). */
export const DEFAULT_THRESHOLD: f64 = 0.7;

/** What to do with one request: the plugin's settings, or the tenant's policy over them. */
export class Policy {
  constructor(public action: Action, public threshold: f64) {}
}

export class InjectionConfig {
  maxBodyBytes: u32 = 4 * 1024 * 1024;
  routes: Array<Route> = new Array<Route>(0);
  defaults: Policy = new Policy(Action.Block, DEFAULT_THRESHOLD);
}

export class InjectionConfigResult {
  constructor(public config: InjectionConfig | null, public error: string) {}
}

function fail(msg: string): InjectionConfigResult { return new InjectionConfigResult(null, msg); }

/** Reads `action` and `threshold` of a settings-shaped object over `base`; "" or an error. */
export class PolicyResult {
  constructor(public policy: Policy, public error: string) {}
}

export function readPolicy(v: JsonValue, base: Policy, where: string): PolicyResult {
  if (!v.isObject()) return new PolicyResult(base, where + " must be an object");
  let action = base.action;
  let threshold = base.threshold;
  const a = v.get("action");
  if (a != null) {
    if (!a.isString() || (a.s != "flag" && a.s != "block")) return new PolicyResult(base, where + ".action must be \"flag\" or \"block\"");
    action = a.s == "flag" ? Action.Flag : Action.Block;
  }
  const t = v.get("threshold");
  if (t != null) {
    if (!t.isNumber() || !(t.n >= 0 && t.n <= 1)) return new PolicyResult(base, where + ".threshold must be a number from 0 to 1");
    threshold = t.n;
  }
  return new PolicyResult(new Policy(action, threshold), "");
}

export function parseInjectionConfig(text: string): InjectionConfigResult {
  if (text.trim().length == 0) return fail("configuration is empty");
  const parsed = parseJson(text);
  if (parsed.value == null || !parsed.value!.isObject()) return fail("configuration must be a JSON object: " + parsed.error);
  const root = parsed.value!;
  const cfg = new InjectionConfig();
  const module = root.get("module");
  if (module != null && (!module.isString() || module.s != "injection")) return fail("module must be \"injection\"");
  const mode = root.get("failure_mode");
  if (mode != null && (!mode.isString() || (mode.s != "closed" && mode.s != "open"))) return fail("failure_mode must be \"closed\" or \"open\"");
  const m = root.get("max_body_bytes");
  if (m != null) {
    if (!m.isNumber() || m.n < 1 || m.n > 1073741824) return fail("max_body_bytes must be a number from 1 to 1073741824");
    cfg.maxBodyBytes = <u32>m.n;
  }
  const routes = parseRoutes(root.get("routes"));
  if (routes.error.length > 0) return fail(routes.error);
  cfg.routes = routes.routes;
  const settings = root.get("settings");
  if (settings != null) {
    const r = readPolicy(settings, cfg.defaults, "settings");
    if (r.error.length > 0) return fail(r.error);
    cfg.defaults = r.policy;
  }
  return new InjectionConfigResult(cfg, "");
}

/**
 * The policy for one request: the tenant's "injection" section of leash.policy over the plugin
 * defaults. When the tenant policy cannot be read, `error` says why; the filter then refuses the
 * request (503 guard.policy_invalid, docs/guards.md) rather than guess what the tenant wanted.
 */
export function policyFor(policyJson: string | null, defaults: Policy): PolicyResult {
  if (policyJson == null || policyJson.length == 0) return new PolicyResult(defaults, "");
  const parsed = parseJson(policyJson);
  if (parsed.value == null || !parsed.value!.isObject()) return new PolicyResult(defaults, "leash.policy is not a JSON object");
  const section = parsed.value!.get("injection");
  if (section == null) return new PolicyResult(defaults, "");
  return readPolicy(section, defaults, "leash.policy.injection");
}
