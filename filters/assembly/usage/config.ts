// The usage module's plugin configuration (written by envoy/wasm-filters.ts): the same route
// table and sidecar cluster as the auth module, plus bounds on what it keeps per response and
// on the queue of reports waiting for a retry.
import { parseJson } from "../sdk/json";
import { Route, parseRoutes } from "../sdk/routes";

export const EXPECTED_SHAPE = "{\"module\":\"usage\",\"timeout_ms\":1000,\"sidecar_cluster\":\"leash_sidecar\"," +
  "\"max_response_bytes\":4194304,\"retry_queue_max\":10000,\"retry_tick_ms\":1000,\"batch_max\":20,\"flush_ms\":50," +
  "\"routes\":[{\"prefix\":\"/openai\",\"provider\":\"openai\",\"api\":\"openai|anthropic\"}]}";

export class UsageConfig {
  timeoutMs: u32 = 1000;
  sidecarCluster: string = "leash_sidecar";
  /** Non-streamed bodies larger than this are not parsed (the report says estimated). */
  maxResponseBytes: i32 = 4 * 1024 * 1024;
  retryQueueMax: i32 = 10000;
  retryTickMs: u32 = 1000;
  /** Reports per RecordUsageBatch call, and the longest a report waits for its batch. */
  batchMax: i32 = 20;
  flushMs: u32 = 50;
  routes: Array<Route> = new Array<Route>(0);
}

export class UsageConfigResult {
  constructor(public config: UsageConfig | null, public error: string) {}
}

function fail(msg: string): UsageConfigResult { return new UsageConfigResult(null, msg); }

export function parseUsageConfig(text: string): UsageConfigResult {
  if (text.trim().length == 0) return fail("configuration is empty");
  const parsed = parseJson(text);
  if (parsed.value == null || !parsed.value!.isObject()) return fail("configuration must be a JSON object: " + parsed.error);
  const root = parsed.value!;
  const cfg = new UsageConfig();
  const t = root.get("timeout_ms");
  if (t != null) {
    if (!t.isNumber() || t.n < 1 || t.n > 60000) return fail("timeout_ms must be a number from 1 to 60000");
    cfg.timeoutMs = <u32>t.n;
  }
  const c = root.get("sidecar_cluster");
  if (c != null) {
    if (!c.isString() || c.s.length == 0) return fail("sidecar_cluster must be a non-empty string");
    cfg.sidecarCluster = c.s;
  }
  const m = root.get("max_response_bytes");
  if (m != null) {
    if (!m.isNumber() || m.n < 1024 || m.n > 67108864) return fail("max_response_bytes must be a number from 1024 to 67108864");
    cfg.maxResponseBytes = <i32>m.n;
  }
  const q = root.get("retry_queue_max");
  if (q != null) {
    if (!q.isNumber() || q.n < 0 || q.n > 1000000) return fail("retry_queue_max must be a number from 0 to 1000000");
    cfg.retryQueueMax = <i32>q.n;
  }
  const k = root.get("retry_tick_ms");
  if (k != null) {
    if (!k.isNumber() || k.n < 100 || k.n > 60000) return fail("retry_tick_ms must be a number from 100 to 60000");
    cfg.retryTickMs = <u32>k.n;
  }
  const bm = root.get("batch_max");
  if (bm != null) {
    if (!bm.isNumber() || bm.n < 1 || bm.n > 1000) return fail("batch_max must be a number from 1 to 1000");
    cfg.batchMax = <i32>bm.n;
  }
  const fm = root.get("flush_ms");
  if (fm != null) {
    if (!fm.isNumber() || fm.n < 10 || fm.n > 10000) return fail("flush_ms must be a number from 10 to 10000");
    cfg.flushMs = <u32>fm.n;
  }
  const routes = parseRoutes(root.get("routes"));
  if (routes.error.length > 0) return fail(routes.error);
  cfg.routes = routes.routes;
  return new UsageConfigResult(cfg, "");
}
