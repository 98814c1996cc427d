// The limits that apply to one (tenant, key), read from PostgreSQL and cached in this process for
// at most sidecar.auth_cache_ttl_ms. The cache is in memory rather than in Redis on purpose: the
// Reserve path then costs a single Redis call (the script), and a tenant's on_store_failure policy
// is still known while Redis is down. A limit changed through the admin API applies at once on
// the sidecar that served the change and within the TTL on every other replica (the same bound
// as a revocation).
import type { Queryable } from "./db.ts";
import { DependencyError } from "./errors.ts";
import {
  hasAnyLimit,
  NO_LIMITS,
  parseLimits,
  parseTenantQuota,
  scopeLimits,
  type ScopeLimits,
  type StoreFailurePolicy,
} from "./quota-limits.ts";

/** What Reserve needs to know about a tenant and key. */
export interface QuotaPolicy {
  /** False when the tenant does not exist. */
  tenantExists: boolean;
  tenant: ScopeLimits;
  /** NO_LIMITS for a key without limits (or an unknown / other tenant's key). */
  key: ScopeLimits;
  onStoreFailure: StoreFailurePolicy;
  /** Neither tenant nor key sets any limit. */
  unlimited: boolean;
  /** Epoch ms when this answer stops being reused. */
  expiresAt: number;
}

/** Thrown when stored limits do not validate (a hand-edited row): Reserve fails instead of guessing. */
export class StoredLimitsError extends Error {
  constructor(where: string, cause: unknown) {
    super(`stored quota limits of ${where} are invalid: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StoredLimitsError";
  }
}

export interface QuotaPolicyCache {
  get(tenantId: string, keyId: string): Promise<QuotaPolicy>;
  /** Forgets cached answers of a tenant (all its keys) after an admin change on this sidecar. */
  invalidate(tenantId: string): void;
}

/** Most (tenant, key) pairs kept; past it the cache starts over (a flood costs queries, not memory). */
const MAX_ENTRIES = 10_000;

const asObject = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);

export function createQuotaPolicyCache(db: Queryable, ttlMs: number, now: () => number = Date.now): QuotaPolicyCache {
  const cache = new Map<string, QuotaPolicy>();

  const load = async (tenantId: string, keyId: string): Promise<QuotaPolicy> => {
    type Row = { quota: unknown; key_limits: unknown };
    let rows: Row[];
    try {
      ({ rows } = await db.query<Row>(
        `SELECT t.module_settings -> 'quota' AS quota, k.limits AS key_limits
           FROM tenants t LEFT JOIN api_keys k ON k.key_id = $2 AND k.tenant_id = t.id
          WHERE t.id = $1`,
        [tenantId, keyId],
      ));
    } catch (err) {
      throw new DependencyError("db", err);
    }
    const row = rows[0];
    const expiresAt = now() + ttlMs;
    if (!row) return { tenantExists: false, tenant: NO_LIMITS, key: NO_LIMITS, onStoreFailure: "closed", unlimited: true, expiresAt };
    let settings;
    let key: ScopeLimits;
    try {
      settings = parseTenantQuota(asObject(row.quota) ?? undefined);
    } catch (err) {
      throw new StoredLimitsError(`tenant ${tenantId}`, err);
    }
    try {
      key = row.key_limits == null ? NO_LIMITS : scopeLimits(parseLimits(asObject(row.key_limits)));
    } catch (err) {
      throw new StoredLimitsError(`key ${keyId}`, err);
    }
    const tenant = scopeLimits(settings.limits);
    return {
      tenantExists: true,
      tenant,
      key,
      onStoreFailure: settings.on_store_failure,
      unlimited: !hasAnyLimit(tenant) && !hasAnyLimit(key),
      expiresAt,
    };
  };

  return {
    async get(tenantId, keyId) {
      const id = `${tenantId}\u0000${keyId}`;
      const hit = cache.get(id);
      if (hit && hit.expiresAt > now()) return hit;
      const policy = await load(tenantId, keyId);
      if (ttlMs > 0) {
        if (cache.size >= MAX_ENTRIES) cache.clear();
        cache.set(id, policy);
      }
      return policy;
    },
    invalidate(tenantId) {
      for (const id of cache.keys()) if (id.startsWith(`${tenantId}\u0000`)) cache.delete(id);
    },
  };
}
