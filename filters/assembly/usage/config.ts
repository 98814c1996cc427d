// The usage module's plugin configuration (written by envoy/wasm-filters.ts): the same route
// table and sidecar cluster as the auth module, plus bounds on what it keeps per response and
// on the queue of reports waiting for a retry.
import { ConfigReader } from "../sdk/plugin-config";
import { Route, parseRoutes } from "../sdk/routes";

export const EXPECTED_SHAPE = "{\"module\":\"usage\",\"timeout_ms\":1000,\"sidecar_cluster\":\"leash_sidecar\"," +
  "\"max_response_bytes\":4194304,\"retry_queue_max\":10000,\"retry_queue_max_bytes\":67108864,\"retry_tick_ms\":1000,\"batch_max\":100,\"batch_max_bytes\":1048576,\"flush_ms\":50,\"audit_max_body_bytes\":262144," +
  "\"routes\":[{\"prefix\":\"/openai\",\"provider\":\"openai\",\"api\":\"openai|anthropic\"}]}";

export class UsageConfig {
  timeoutMs: u32 = 1000;
  sidecarCluster: string = "leash_sidecar";
  /** Non-streamed bodies larger than this are not parsed (the report says estimated). */
  maxResponseBytes: i32 = 4 * 1024 * 1024;
  retryQueueMax: i32 = 10000;
  /** Bytes the retry queue may hold in all; the oldest reports beyond it are dropped and counted. */
  retryQueueMaxBytes: i64 = 64 * 1024 * 1024;
  retryTickMs: u32 = 1000;
  /** Reports per RecordUsageBatch call, and the longest a report waits for its batch. */
  batchMax: i32 = 100;
  flushMs: u32 = 50;
  /**
   * Bytes per RecordUsageBatch call: a report that would take a batch past it goes in the next
   * one (a single larger report, with audited bodies, goes alone). Below the sidecar's 4 MiB
   * message limit, which the largest single report (two bodies of audit_max_body_bytes) fits.
   */
  batchMaxBytes: i32 = 1024 * 1024;
  /**
   * Bound of each body kept for the audit trail (tenants with audit on): beyond it the body is cut
   * and the report says audit_truncated. Default 256 KiB; at most 1 MiB (the sidecar's own cap).
   */
  auditMaxBodyBytes: i32 = 256 * 1024;
  routes: Array<Route> = new Array<Route>(0);
}

export class UsageConfigResult {
  constructor(public config: UsageConfig | null, public error: string) {}
}

export function parseUsageConfig(text: string): UsageConfigResult {
  const r = ConfigReader.open(text);
  if (!r.ok) return new UsageConfigResult(null, r.error);
  const cfg = new UsageConfig();
  cfg.timeoutMs = <u32>r.number("timeout_ms", 1, 60000, cfg.timeoutMs);
  cfg.sidecarCluster = r.nonEmptyString("sidecar_cluster", cfg.sidecarCluster);
  cfg.maxResponseBytes = <i32>r.number("max_response_bytes", 1024, 67108864, cfg.maxResponseBytes);
  cfg.retryQueueMax = <i32>r.number("retry_queue_max", 0, 1000000, cfg.retryQueueMax);
  cfg.retryQueueMaxBytes = <i64>r.number("retry_queue_max_bytes", 1024, 1073741824, <f64>cfg.retryQueueMaxBytes);
  cfg.retryTickMs = <u32>r.number("retry_tick_ms", 100, 60000, cfg.retryTickMs);
  cfg.batchMax = <i32>r.number("batch_max", 1, 1000, cfg.batchMax);
  cfg.batchMaxBytes = <i32>r.number("batch_max_bytes", 1024, 3 * 1024 * 1024, cfg.batchMaxBytes);
  cfg.flushMs = <u32>r.number("flush_ms", 10, 10000, cfg.flushMs);
  cfg.auditMaxBodyBytes = <i32>r.number("audit_max_body_bytes", 1024, 1048576, cfg.auditMaxBodyBytes);
  if (r.ok) {
    const routes = parseRoutes(r.root.get("routes"));
    r.fail(routes.error);
    cfg.routes = routes.routes;
  }
  return r.ok ? new UsageConfigResult(cfg, "") : new UsageConfigResult(null, r.error);
}
