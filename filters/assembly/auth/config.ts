// The auth filter's plugin configuration: parsed and validated once per configure. The JSON is
// written by the Envoy config generator (envoy/), see README.md in this folder for the shape.
import { parseJson, JsonValue } from "../sdk/json";
import { Route, parseRoutes } from "../sdk/routes";

export const EXPECTED_SHAPE = "{\"module\":\"auth\",\"failure_mode\":\"closed|open\",\"timeout_ms\":250," +
  "\"sidecar_cluster\":\"leash_sidecar\",\"max_body_bytes\":4194304,\"cache_max_ttl_ms\":2000,\"cache_max_entries\":10000,\"validate_json\":true,\"max_json_depth\":64," +
  "\"routes\":[{\"prefix\":\"/openai\",\"provider\":\"openai\",\"api\":\"openai|anthropic\"}]}";

export class AuthConfig {
  failOpen: bool = false;
  timeoutMs: u32 = 250;
  sidecarCluster: string = "leash_sidecar";
  validateJson: bool = true;
  maxJsonDepth: i32 = 64;
  maxBodyBytes: u32 = 4 * 1024 * 1024;
  /** Upper bound on how long an answer is reused, whatever the sidecar says (0 = no cache). */
  cacheMaxTtlMs: u32 = 2000;
  cacheMaxEntries: i32 = 10000;
  routes: Array<Route> = new Array<Route>(0);
}

export class ConfigResult {
  constructor(public config: AuthConfig | null, public error: string) {}
}

function fail(msg: string): ConfigResult { return new ConfigResult(null, msg); }

function str(v: JsonValue | null): string | null {
  return v != null && v.isString() ? v.s : null;
}

export function parseAuthConfig(text: string): ConfigResult {
  const cfg = new AuthConfig();
  if (text.trim().length == 0) return fail("configuration is empty");
  const parsed = parseJson(text);
  if (parsed.value == null) return fail("configuration is not valid JSON: " + parsed.error);
  const root = parsed.value!;
  if (!root.isObject()) return fail("configuration must be a JSON object");

  const mode = root.get("failure_mode");
  if (mode != null) {
    const m = str(mode);
    if (m == null || (m != "closed" && m != "open")) return fail("failure_mode must be \"closed\" or \"open\"");
    cfg.failOpen = m == "open";
  }
  const timeout = root.get("timeout_ms");
  if (timeout != null) {
    if (!timeout.isNumber() || timeout.n < 1 || timeout.n > 60000) return fail("timeout_ms must be a number from 1 to 60000");
    cfg.timeoutMs = <u32>timeout.n;
  }
  const cluster = root.get("sidecar_cluster");
  if (cluster != null) {
    const c = str(cluster);
    if (c == null || c.length == 0) return fail("sidecar_cluster must be a non-empty string");
    cfg.sidecarCluster = c;
  }
  const validate = root.get("validate_json");
  if (validate != null) cfg.validateJson = validate.b;
  const depth = root.get("max_json_depth");
  if (depth != null) {
    if (!depth.isNumber() || depth.n < 1 || depth.n > 512) return fail("max_json_depth must be a number from 1 to 512");
    cfg.maxJsonDepth = <i32>depth.n;
  }
  const maxBody = root.get("max_body_bytes");
  if (maxBody != null) {
    if (!maxBody.isNumber() || maxBody.n < 1 || maxBody.n > 1073741824) return fail("max_body_bytes must be a number from 1 to 1073741824");
    cfg.maxBodyBytes = <u32>maxBody.n;
  }
  const cacheTtl = root.get("cache_max_ttl_ms");
  if (cacheTtl != null) {
    if (!cacheTtl.isNumber() || cacheTtl.n < 0 || cacheTtl.n > 2000) return fail("cache_max_ttl_ms must be a number from 0 to 2000");
    cfg.cacheMaxTtlMs = <u32>cacheTtl.n;
  }
  const cacheEntries = root.get("cache_max_entries");
  if (cacheEntries != null) {
    if (!cacheEntries.isNumber() || cacheEntries.n < 0 || cacheEntries.n > 1000000) return fail("cache_max_entries must be a number from 0 to 1000000");
    cfg.cacheMaxEntries = <i32>cacheEntries.n;
  }
  const routes = parseRoutes(root.get("routes"));
  if (routes.error.length > 0) return fail(routes.error);
  cfg.routes = routes.routes;
  return new ConfigResult(cfg, "");
}
