// Prometheus metrics of the quota decisions. Tenant labels are folded like the usage metrics'
// (at most a fixed number of distinct tenants per process, later ones become "other"); codes come
// from the closed set of quota codes.
import { Counter, Histogram, type Registry } from "prom-client";
import { KeyedCounter } from "./keyed-counter.ts";
import { LabelFolder } from "./usage-metrics.ts";

export interface QuotaMetrics {
  /** One Reserve answer: `code` is "ok" on ALLOW, else the quota code. */
  decision(tenant: string, code: string): void;
  /** An ALLOW without counting (Redis down, tenant fails open). */
  unmetered(tenant: string): void;
  /** leash_quota_reserve_duration_seconds: Reserve handling time, from receipt to answer. */
  reserveDuration: Histogram;
  /** leash_quota_settle_total{result}: settled | released | none | kept (client gone before any answer) | error. */
  settle: KeyedCounter<"result">;
  /** leash_quota_lease_returns_total{result}: returned | repeated | none | error. */
  leaseReturn: Counter<"result">;
  /** leash_quota_leases_total: leases granted (each saves the filter VM Reserve calls). */
  leasesGranted: Counter;
  /** leash_quota_lease_renewals_total{result}: background renewals (lease_only) by result: granted | none | refused. */
  leaseRenewal: Counter<"result">;
}

export function createQuotaMetrics(registry: Registry, maxTenants = 200): QuotaMetrics {
  const registers = [registry];
  const tenants = new LabelFolder(maxTenants, "none");
  const decisions = new Counter({
    name: "leash_quota_decisions_total",
    help: "Quota Reserve decisions by tenant and code (ok = allowed).",
    labelNames: ["tenant", "code"],
    registers,
  });
  const unmetered = new Counter({
    name: "leash_quota_unmetered_total",
    help: "Requests allowed without counting because Redis was unreachable and the tenant fails open.",
    labelNames: ["tenant"],
    registers,
  });
  return {
    decision: (tenant, code) => decisions.inc({ tenant: tenants.fold(tenant), code }),
    unmetered: (tenant) => unmetered.inc({ tenant: tenants.fold(tenant) }),
    reserveDuration: new Histogram({
      name: "leash_quota_reserve_duration_seconds",
      help: "Time to decide a Reserve (policy lookup and the Redis script), seconds.",
      // The budget is 100 µs P50 / 500 µs P99 for the whole check: resolve the sub-millisecond range.
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    // Once per usage report: a KeyedCounter (no label hashing per call).
    settle: new KeyedCounter({
      name: "leash_quota_settle_total",
      help: "Usage reports applied to quota reservations, by result (settled, released, none = no reservation, kept = the client left before any answer: left at its estimate, error).",
      labelNames: ["result"] as const,
      registers,
    }),
    leaseReturn: new Counter({
      name: "leash_quota_lease_returns_total",
      help: "Unused parts of leases given back by the quota module, by result (returned, repeated = given back before, none = no such lease, error).",
      labelNames: ["result"],
      registers,
    }),
    leaseRenewal: new Counter({
      name: "leash_quota_lease_renewals_total",
      help: "Background lease renewals asked for by quota module VMs (a lease half spent), by result (granted; none = near a limit, a USD budget or the day ending; refused = a limit reached).",
      labelNames: ["result"],
      registers,
    }),
    leasesGranted: new Counter({
      name: "leash_quota_leases_total",
      help: "Leases of requests and tokens granted to quota module VMs along with a Reserve.",
      registers,
    }),
  };
}
