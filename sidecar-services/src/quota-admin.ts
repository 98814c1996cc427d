// The admin side of quotas: reading and changing the limits of a tenant (module_settings.quota)
// and of a key (api_keys.limits), and the live readout of their counters. Routes are in
// admin-api.ts (`/tenants/:id/limits`, `/keys/:key_id/limits`), documented in docs/quotas.md.
import type { Queryable } from "./db.ts";
import { AdminError, DependencyError } from "./errors.ts";
import {
  LIMIT_FIELDS,
  parseLimits,
  parseStoreFailurePolicy,
  parseTenantQuota,
  QuotaLimitsError,
  scopeLimits,
  type QuotaLimits,
  type TenantQuotaSettings,
} from "./quota-limits.ts";
import type { QuotaStore } from "./quota-store.ts";
import { limitStates } from "./quota-usage.ts";

/** Runs a limits parser, turning its error into the admin API's invalid-request error. */
export function asAdminInput<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof QuotaLimitsError) throw new AdminError("admin.invalid_request", err.message);
    throw err;
  }
}

/** Fields a tenant limits patch may hold. */
export const TENANT_LIMIT_FIELDS: readonly string[] = [...LIMIT_FIELDS, "on_store_failure"];

/**
 * A validated patch: every given limit field (null = clear) and, for tenants, on_store_failure.
 * Only the checks: the stored document is built by the database merge.
 */
export function readLimitsPatch(body: Record<string, unknown>, tenant: boolean): Record<string, unknown> {
  return asAdminInput(() => {
    parseLimits(body, "", tenant ? ["on_store_failure"] : []);
    if (tenant && "on_store_failure" in body) parseStoreFailurePolicy(body.on_store_failure);
    return body;
  });
}

const asObject = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);

/** A tenant's quota settings; null when the tenant does not exist. */
export async function getTenantQuota(db: Queryable, tenantId: string): Promise<TenantQuotaSettings | null> {
  const { rows } = await db.query<{ quota: unknown }>("SELECT module_settings -> 'quota' AS quota FROM tenants WHERE id = $1", [tenantId]);
  if (!rows[0]) return null;
  return asAdminInput(() => parseTenantQuota(asObject(rows[0]!.quota) ?? undefined));
}

/**
 * Merges `patch` into the tenant's settings in one statement (null values remove a field); `null`
 * patch clears every limit and the policy. Null when the tenant does not exist.
 */
export async function patchTenantQuota(db: Queryable, tenantId: string, patch: Record<string, unknown> | null): Promise<TenantQuotaSettings | null> {
  const { rows } = await db.query<{ quota: unknown }>(
    `UPDATE tenants SET
       module_settings = CASE WHEN $2::jsonb IS NULL THEN module_settings - 'quota'
         ELSE jsonb_set(module_settings, '{quota}', jsonb_strip_nulls(COALESCE(module_settings -> 'quota', '{}'::jsonb) || $2::jsonb)) END,
       updated_at = now()
     WHERE id = $1 RETURNING module_settings -> 'quota' AS quota`,
    [tenantId, patch === null ? null : JSON.stringify(patch)],
  );
  if (!rows[0]) return null;
  return asAdminInput(() => parseTenantQuota(asObject(rows[0]!.quota) ?? undefined));
}

/** A key's limits and tenant; null when the key does not exist. */
export async function getKeyLimits(db: Queryable, keyId: string): Promise<{ tenantId: string; limits: QuotaLimits } | null> {
  const { rows } = await db.query<{ tenant_id: string; limits: unknown }>("SELECT tenant_id, limits FROM api_keys WHERE key_id = $1", [keyId]);
  if (!rows[0]) return null;
  return { tenantId: rows[0].tenant_id, limits: asAdminInput(() => parseLimits(asObject(rows[0]!.limits))) };
}

/** Merges `patch` into the key's limits (null values remove one; null patch clears all). */
export async function patchKeyLimits(db: Queryable, keyId: string, patch: Record<string, unknown> | null): Promise<{ tenantId: string; limits: QuotaLimits } | null> {
  const { rows } = await db.query<{ tenant_id: string; limits: unknown }>(
    `UPDATE api_keys SET limits = CASE WHEN $2::jsonb IS NULL THEN '{}'::jsonb ELSE jsonb_strip_nulls(limits || $2::jsonb) END
      WHERE key_id = $1 RETURNING tenant_id, limits`,
    [keyId, patch === null ? null : JSON.stringify(patch)],
  );
  if (!rows[0]) return null;
  return { tenantId: rows[0].tenant_id, limits: asAdminInput(() => parseLimits(asObject(rows[0]!.limits))) };
}

/** One limit in the readout; USD budgets in USD. */
export interface LimitReadout {
  limit: string;
  value: number;
  used: number;
  remaining: number;
  /** When the limit is back at its full value: RFC 3339, or null when nothing is counted. */
  resets_at: string | null;
}

/**
 * Used and remaining of every limit `limits` sets, from the store's counters of the scope (keyId
 * "" = the tenant). Throws DependencyError("store") when the store cannot be read.
 */
export async function limitsReadout(store: QuotaStore, tenantId: string, keyId: string, limits: QuotaLimits, nowMs: number): Promise<LimitReadout[]> {
  let usage;
  try {
    usage = await store.read(tenantId, keyId, nowMs);
  } catch (err) {
    throw new DependencyError("store", err);
  }
  return limitStates(scopeLimits(limits), usage, nowMs).map((s) => {
    const usd = s.limit === "usd_per_day" || s.limit === "usd_per_month";
    const unit = (n: number) => (usd ? n / 1e6 : n);
    return {
      limit: s.limit,
      value: unit(s.value),
      used: unit(s.used),
      remaining: unit(s.remaining),
      resets_at: s.resetMs > 0 ? new Date(nowMs + s.resetMs).toISOString() : null,
    };
  });
}
