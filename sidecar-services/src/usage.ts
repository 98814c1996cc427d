// The RecordUsage decision: validate a report, price it, hand it to the ledger writer, count it in
// the request metrics and write its log line. The answer waits for the ledger only as long as the
// delivery guarantee needs (memory when PostgreSQL is healthy, fsync to the spool when it is not).
import { DependencyError } from "./errors.ts";
import { sealAudit, type SealedAudit } from "./audit-record.ts";
import type { Logger } from "./logger.ts";
import type { KeyRing } from "./master-key.ts";
import { costOf, type PriceTable } from "./prices.ts";
import { RecentIds } from "./recent-ids.ts";
import type { LedgerRow, UsageLedger } from "./usage-ledger.ts";
import type { UsageMetrics } from "./usage-metrics.ts";
import { validateUsageReport, type UsageAck, type UsageRecord, type UsageReport } from "./usage-report.ts";

/** Dependencies of {@link createUsageRecorder}. */
export interface UsageRecorderDeps {
  ledger: UsageLedger;
  prices: PriceTable;
  metrics: UsageMetrics;
  log: Logger;
  /** Epoch ms clock (bounds started_at_ms). Default Date.now. */
  now?: () => number;
  /** Request ids remembered to keep retried reports out of metrics and logs. Default 50000. */
  recentIds?: number;
  /**
   * Master keys that seal audit entries. null: audit entries cannot be stored (they are dropped,
   * counted and logged: never stored in clear); the usage row is still recorded.
   */
  ring?: KeyRing | null;
  /**
   * Settles the request's quota reservation (quota-service.ts), after the report is durable and
   * for every copy of it: settling is idempotent. Never rejects. Optional.
   */
  settleQuota?: (record: Omit<UsageRecord, "audit">, costUsd: number | null) => Promise<void>;
}

// The two copies below are written out field by field on purpose: an object rest (`{ audit, ...r }`)
// and a spread into a literal with more fields (`{ ...r, cost_usd }`) take V8's slow copying paths,
// about 5 µs per report on Node 20, more than validating the report. A field added to UsageRecord
// fails to compile here until it is copied (every field is required).

/** The record without its audit bodies (what settles quota and feeds metrics and the log). */
function withoutAudit(rec: UsageRecord): Omit<UsageRecord, "audit"> {
  return {
    request_id: rec.request_id,
    tenant_id: rec.tenant_id,
    key_id: rec.key_id,
    provider: rec.provider,
    api: rec.api,
    model: rec.model,
    status: rec.status,
    prompt_tokens: rec.prompt_tokens,
    completion_tokens: rec.completion_tokens,
    cached_tokens: rec.cached_tokens,
    streamed: rec.streamed,
    estimated: rec.estimated,
    duration_ms: rec.duration_ms,
    upstream_first_byte_ms: rec.upstream_first_byte_ms,
    started_at_ms: rec.started_at_ms,
    guard_decisions: rec.guard_decisions,
    upstream_responded: rec.upstream_responded,
    reservation_id: rec.reservation_id,
  };
}

/**
 * The ledger row: the record's fields in the record's order, then the price and the sealed entry
 * (upstream_responded and reservation_id ride along, as they always have, into spooled lines).
 */
function ledgerRow(r: Omit<UsageRecord, "audit">, cost_usd: number | null, price_version: string, audit: SealedAudit | null): LedgerRow & Pick<UsageRecord, "upstream_responded" | "reservation_id"> {
  return {
    request_id: r.request_id,
    tenant_id: r.tenant_id,
    key_id: r.key_id,
    provider: r.provider,
    api: r.api,
    model: r.model,
    status: r.status,
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    cached_tokens: r.cached_tokens,
    streamed: r.streamed,
    estimated: r.estimated,
    duration_ms: r.duration_ms,
    upstream_first_byte_ms: r.upstream_first_byte_ms,
    started_at_ms: r.started_at_ms,
    guard_decisions: r.guard_decisions,
    upstream_responded: r.upstream_responded,
    reservation_id: r.reservation_id,
    cost_usd,
    price_version,
    audit,
  };
}

export function createUsageRecorder(deps: UsageRecorderDeps): (report: UsageReport) => Promise<UsageAck> {
  const now = deps.now ?? Date.now;
  const recent = new RecentIds(deps.recentIds ?? 50_000);
  return async (report) => {
    const result = validateUsageReport(report, now());
    if (!result.ok) {
      deps.metrics.rejected.inc({ reason: result.reason });
      deps.log.warn("usage report refused", {
        reason: result.reason,
        detail: result.message,
        request_id: typeof report.request_id === "string" ? report.request_id.slice(0, 128) : "",
      });
      return { accepted: false };
    }
    const bodies = result.record.audit;
    const r = withoutAudit(result.record);
    const { costUsd, priceVersion } = costOf(deps.prices, r);
    let audit: SealedAudit | null = null;
    if (bodies !== null) {
      if (deps.ring) {
        audit = sealAudit(deps.ring, r.tenant_id, r.request_id, bodies);
        deps.metrics.auditEntries.inc({ result: "sealed" });
      } else {
        deps.metrics.auditEntries.inc({ result: "unsealable" });
        deps.log.error("audit entry dropped: no master key configured to seal it (LEASH_MASTER_KEY)", { request_id: r.request_id, tenant_id: r.tenant_id });
      }
    }
    // Throws only if the spool cannot be written: the caller answers UNAVAILABLE and the report
    // was not acknowledged.
    try {
      await deps.ledger.record(ledgerRow(r, costUsd, priceVersion, audit));
    } catch (err) {
      throw new DependencyError("db", err);
    }
    if (deps.settleQuota) await deps.settleQuota(r, costUsd);
    const key = `${r.request_id}\u0000${r.started_at_ms}`;
    if (recent.seen(key)) return { accepted: true };
    deps.metrics.observe({
      tenant: r.tenant_id,
      provider: r.provider,
      model: r.model,
      status: r.status,
      durationMs: r.duration_ms,
      upstreamFirstByteMs: r.upstream_first_byte_ms,
      promptTokens: r.prompt_tokens,
      completionTokens: r.completion_tokens,
      cachedTokens: r.cached_tokens,
      costUsd,
      estimated: r.estimated,
      moduleTimings: result.telemetry.module_timings,
      guardDecisions: r.guard_decisions,
    });
    // The seed's request log shape, exactly; ids and counts only, never a key or a body.
    const line = {
      request_id: r.request_id,
      tenant_id: r.tenant_id,
      provider: r.provider,
      model: r.model,
      latency_ms: r.duration_ms,
      tokens_used: r.prompt_tokens + r.completion_tokens,
      cost_usd: costUsd,
      message: "request completed",
    };
    if (deps.log.entry) deps.log.entry("info", line);
    else deps.log.info("request completed", line);
    return { accepted: true };
  };
}
