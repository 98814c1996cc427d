// Prometheus metrics of finished requests (the seed's names and labels), fed by accepted
// RecordUsage reports, plus the ledger writer's own health. Unlike the sidecar's other metrics,
// tenant, provider and model values come from outside a closed set, so each label keeps at most a
// fixed number of distinct values per process; later newcomers are folded into "other".
import { Counter, Gauge, type Registry } from "prom-client";
import { KeyedCounter, type CounterSeries } from "./keyed-counter.ts";
import { KeyedHistogram, type HistogramSeries } from "./keyed-histogram.ts";

/** Per-label bounds on distinct values. */
export interface LabelLimits {
  /** Default 200. */
  tenant: number;
  /** Default 50. */
  provider: number;
  /** Default 50. */
  model: number;
}

export const DEFAULT_LABEL_LIMITS: LabelLimits = { tenant: 200, provider: 50, model: 50 };

/** Distinct module label values kept (the chain has a handful of modules). */
const MAX_MODULES = 16;

/** The value every label value past its bound becomes. */
export const OTHER = "other";
/** Longest label value kept; longer ones are cut (they still count against the bound). */
const MAX_LABEL_LENGTH = 100;

/** Keeps the first `limit` distinct values of one label; later ones map to "other". */
export class LabelFolder {
  private readonly seen = new Set<string>();
  constructor(
    readonly limit: number,
    /** Label value of an empty input (e.g. no tenant on a refused request). */
    private readonly empty: string,
  ) {}
  fold(value: string): string {
    const v = value === "" ? this.empty : value.slice(0, MAX_LABEL_LENGTH);
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.limit) return OTHER;
    this.seen.add(v);
    return v;
  }
}

const STATUS_CLASSES: readonly string[] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/** HTTP status as a label: its class ("2xx"), except 429 which alerts need exactly; 0 = no response. */
export function statusLabel(status: number): string {
  if (status === 429) return "429";
  if (status >= 100 && status <= 599) return STATUS_CLASSES[Math.floor(status / 100) - 1]!;
  return "none";
}

/** What one accepted report contributes. */
export interface UsageObservation {
  tenant: string;
  provider: string;
  model: string;
  status: number;
  durationMs: number;
  upstreamFirstByteMs: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number | null;
  estimated: boolean;
  /** Each module's processing time of the request (UsageReport.module_timings). */
  moduleTimings: ReadonlyArray<{ module: string; micros: number }>;
  /** The report's guard_decisions ("" = none). */
  guardDecisions?: string;
}

/**
 * The (module, decision) pairs of a guard_decisions summary: entries separated by ";", each
 * `<module>:<decision>` with optional details in parentheses, e.g.
 * "redact:masked(email=2,card=1);injection:flagged(0.82)". Malformed entries are skipped.
 */
export function guardDecisionPairs(summary: string): Array<{ module: string; decision: string }> {
  const pairs: Array<{ module: string; decision: string }> = [];
  for (const entry of summary.split(";")) {
    const m = /^([a-z][a-z0-9_-]{0,31}):([a-z][a-z0-9_-]{0,31})(\(.*\))?$/.exec(entry.trim());
    if (m) pairs.push({ module: m[1]!, decision: m[2]! });
  }
  return pairs;
}

/** The series of one (tenant, provider, model), by folded label values; null until first used. */
class RequestSeries {
  /** leash_gateway_requests_total, by status label. */
  readonly requests = new Map<string, CounterSeries>();
  /** leash_module_processing_duration_seconds, by folded module name (so at most MAX_MODULES + 1). */
  readonly modules = new Map<string, HistogramSeries>();
  duration: HistogramSeries | null = null;
  cost: CounterSeries | null = null;
  prompt: CounterSeries | null = null;
  completion: CounterSeries | null = null;
  cached: CounterSeries | null = null;
}

/** The series labelled by provider alone. */
class ProviderSeries {
  latency: HistogramSeries | null = null;
  unpriced: CounterSeries | null = null;
  estimated: CounterSeries | null = null;
}

export interface UsageMetrics {
  /** Records one accepted report on every request metric. */
  observe(o: UsageObservation): void;
  /** leash_usage_reports_rejected_total{reason}. */
  rejected: Counter<"reason">;
  /** leash_usage_ledger_rows_total{result}: inserted | duplicate | spooled | dropped. */
  ledgerRows: Counter<"result">;
  /** leash_usage_ledger_write_errors_total. */
  ledgerWriteErrors: Counter;
  /** leash_audit_entries_total{result}: sealed | unsealable (no master key: dropped). */
  auditEntries: Counter<"result">;
}

export function createUsageMetrics(
  registry: Registry,
  state: () => { queued: number; degraded: boolean },
  limits: LabelLimits = DEFAULT_LABEL_LIMITS,
): UsageMetrics {
  const registers = [registry];
  const tenants = new LabelFolder(limits.tenant, "none");
  // Guard decision names come from our own filters, but through a report: bound them too.
  const guardOutcomes = new LabelFolder(32, "none");
  const providers = new LabelFolder(limits.provider, "none");
  const models = new LabelFolder(limits.model, "unknown");
  // Module names (timings and guard decisions: one vocabulary) come from our own filters, but over
  // gRPC: bounded like any outside value.
  const modules = new LabelFolder(MAX_MODULES, "unknown");

  const requests = new KeyedCounter({
    name: "leash_gateway_requests_total",
    help: "Requests that went through the gateway, by tenant, provider and HTTP status class (429 exact).",
    labelNames: ["tenant", "provider", "status"] as const,
    registers,
  });
  // Observed per request: KeyedHistogram, prom-client's output at a fraction of its cost.
  const duration = new KeyedHistogram({
    name: "leash_gateway_request_duration_seconds",
    help: "Time from request headers to the end of the response, seconds.",
    labelNames: ["tenant", "provider"] as const,
    // LLM calls: sub-second for tiny completions, minutes for long streams.
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  const moduleDuration = new KeyedHistogram({
    name: "leash_module_processing_duration_seconds",
    help: "Time a module spent in its own callbacks for one request (not waiting for the sidecar or the provider), seconds.",
    labelNames: ["module", "tenant"] as const,
    // A module's work per request is tens of microseconds; a large body or a long stream, milliseconds.
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
    registers,
  });
  const providerLatency = new KeyedHistogram({
    name: "leash_provider_latency_seconds",
    help: "Time until the provider's first response byte, seconds.",
    labelNames: ["provider"] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers,
  });
  const cost = new KeyedCounter({
    name: "leash_cost_usd_total",
    help: "Cost of requests in USD from the price table (unpriced models are not counted here).",
    labelNames: ["tenant", "provider", "model"] as const,
    registers,
  });
  const tokens = new KeyedCounter({
    name: "leash_tokens_total",
    help: "Tokens by type: prompt (all prompt tokens, cached included), completion, cached (the cached part of prompt).",
    labelNames: ["tenant", "provider", "model", "type"] as const,
    registers,
  });
  const unpriced = new KeyedCounter({
    name: "leash_usage_unpriced_total",
    help: "Requests whose model is not in the price table (cost_usd NULL in the ledger).",
    labelNames: ["provider"] as const,
    registers,
  });
  const estimated = new KeyedCounter({
    name: "leash_usage_estimated_total",
    help: "Requests whose completion tokens were counted by the gateway because the provider reported no usage.",
    labelNames: ["provider"] as const,
    registers,
  });
  const rejected = new Counter({
    name: "leash_usage_reports_rejected_total",
    help: "RecordUsage reports refused as malformed, by the first invalid field.",
    labelNames: ["reason"],
    registers,
  });
  const ledgerRows = new Counter({
    name: "leash_usage_ledger_rows_total",
    help: "Ledger rows by outcome: inserted, duplicate (already present), spooled (to disk), dropped (refused by the database).",
    labelNames: ["result"],
    registers,
  });
  const ledgerWriteErrors = new Counter({
    name: "leash_usage_ledger_write_errors_total",
    help: "Failed ledger writes (each is retried from the spool).",
    registers,
  });
  const guardDecisions = new KeyedCounter({
    name: "leash_guard_decisions_total",
    help: "What the guard modules did to requests, by module, decision (e.g. masked, blocked, flagged) and tenant.",
    labelNames: ["module", "decision", "tenant"] as const,
    registers,
  });
  const auditEntries = new Counter({
    name: "leash_audit_entries_total",
    help: "Audit-trail entries: sealed (queued with the ledger row), unsealable (dropped: no master key configured).",
    labelNames: ["result"],
    registers,
  });
  new Gauge({
    name: "leash_usage_ledger_queue_rows",
    help: "Ledger rows held in memory, waiting for the next batch.",
    registers,
    collect() {
      this.set(state().queued);
    },
  });
  new Gauge({
    name: "leash_usage_ledger_degraded",
    help: "1 while ledger writes go to the disk spool (PostgreSQL failing), else 0.",
    registers,
    collect() {
      this.set(state().degraded ? 1 : 0);
    },
  });

  // The series a report counts into, by its (folded) tenant, provider and model, each taken from
  // its metric the first time a report needs it (when prom-client would have made it) and kept:
  // a request's observations then allocate nothing. Bounded by the label folders' limits, like
  // the series themselves; dropped if a metric is reset.
  const byTenant = new Map<string, Map<string, Map<string, RequestSeries>>>();
  const byProvider = new Map<string, ProviderSeries>();
  const forget = (): void => {
    byTenant.clear();
    byProvider.clear();
  };
  for (const m of [requests, duration, moduleDuration, providerLatency, cost, tokens, unpriced, estimated, guardDecisions]) m.onReset(forget);
  const seriesOf = (tenant: string, provider: string, model: string): RequestSeries => {
    let providers = byTenant.get(tenant);
    if (providers === undefined) byTenant.set(tenant, (providers = new Map()));
    let models = providers.get(provider);
    if (models === undefined) providers.set(provider, (models = new Map()));
    let r = models.get(model);
    if (r === undefined) models.set(model, (r = new RequestSeries()));
    return r;
  };
  const providerSeriesOf = (provider: string): ProviderSeries => {
    let p = byProvider.get(provider);
    if (p === undefined) byProvider.set(provider, (p = new ProviderSeries()));
    return p;
  };

  return {
    observe(o) {
      const tenant = tenants.fold(o.tenant);
      const provider = providers.fold(o.provider);
      const model = models.fold(o.model);
      const r = seriesOf(tenant, provider, model);
      const p = providerSeriesOf(provider);
      const status = statusLabel(o.status);
      let req = r.requests.get(status);
      if (req === undefined) r.requests.set(status, (req = requests.series({ tenant, provider, status })));
      req.inc();
      (r.duration ??= duration.series({ tenant, provider })).observe(o.durationMs / 1000);
      // 0 = no upstream byte (refused locally, or the provider never answered): not a latency.
      if (o.upstreamFirstByteMs > 0) (p.latency ??= providerLatency.series({ provider })).observe(o.upstreamFirstByteMs / 1000);
      if (o.costUsd === null) (p.unpriced ??= unpriced.series({ provider })).inc();
      else (r.cost ??= cost.series({ tenant, provider, model })).inc(o.costUsd);
      if (o.promptTokens > 0) (r.prompt ??= tokens.series({ tenant, provider, model, type: "prompt" })).inc(o.promptTokens);
      if (o.completionTokens > 0) (r.completion ??= tokens.series({ tenant, provider, model, type: "completion" })).inc(o.completionTokens);
      if (o.cachedTokens > 0) (r.cached ??= tokens.series({ tenant, provider, model, type: "cached" })).inc(o.cachedTokens);
      if (o.estimated) (p.estimated ??= estimated.series({ provider })).inc();
      for (const t of o.moduleTimings) {
        const module = modules.fold(t.module);
        let m = r.modules.get(module);
        if (m === undefined) r.modules.set(module, (m = moduleDuration.series({ module, tenant })));
        m.observe(t.micros / 1e6);
      }
      if (o.guardDecisions) {
        for (const g of guardDecisionPairs(o.guardDecisions)) {
          guardDecisions.inc({ module: modules.fold(g.module), decision: guardOutcomes.fold(g.decision), tenant });
        }
      }
    },
    rejected,
    ledgerRows,
    ledgerWriteErrors,
    auditEntries,
  };
}
