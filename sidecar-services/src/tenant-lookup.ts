// The part of a tenant Authorize checks — status and policy — through the same short-lived cache
// as key records. Kept apart from the key record so a policy change invalidates one entry per
// tenant instead of one per key.
import { modulePolicyJson } from "../../config/guard-policy.ts";
import { withAuditPolicy } from "./audit-policy.ts";
import type { Queryable } from "./db.ts";
import { readThrough } from "./cache-aside.ts";
import type { KvStore } from "./kv-store.ts";

/** A tenant's state: an active tenant's keys work, a disabled tenant's keys are refused (403). */
export type TenantStatus = "active" | "disabled";

/** What Authorize needs to know about a tenant. */
export interface TenantPolicy {
  status: TenantStatus;
  /** Provider names the tenant may call; empty = every configured provider. */
  allowedProviders: string[];
  /** Models the tenant may call; empty = any; entries ending in "*" are prefixes. Enforced by the filter. */
  allowedModels: string[];
  /**
   * The guard sections of module_settings as compact JSON (AuthorizeResponse.module_policy), plus
   * `"audit":{"enabled":true}` when the tenant's audit trail is on; "" when there are none. Precomputed here so the cache holds the wire form.
   */
  modulePolicy: string;
}

/** Cache lifetime (seconds); tenant mutations through the admin API delete the entry at once. */
export const TENANT_CACHE_TTL_SECONDS = 1;

/** Cache key of a tenant's policy. */
export function tenantCacheKey(tenantId: string): string {
  return `tenant:${tenantId}`;
}

/** Drops the cached policy of `tenantId`; call after every change to the tenant. */
export async function invalidateTenant(store: KvStore, tenantId: string): Promise<void> {
  await store.del(tenantCacheKey(tenantId));
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

function decodeCached(raw: string): TenantPolicy | null | undefined {
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    // v2 added module_policy, v3 the audit section in it; an older replica's entry is a miss
    // (a v2 policy would silently leave a tenant's audit off for the cache's lifetime).
    if (v.v !== 3) return undefined;
    if (v.missing === true) return null;
    if ((v.status === "active" || v.status === "disabled") && isStringList(v.allowed_providers) && isStringList(v.allowed_models)
      && typeof v.module_policy === "string") {
      return { status: v.status, allowedProviders: v.allowed_providers, allowedModels: v.allowed_models, modulePolicy: v.module_policy };
    }
  } catch {
    // Corrupt entry: a miss, overwritten below.
  }
  return undefined;
}

/**
 * Policy of `tenantId`, or null if the tenant does not exist (cannot happen for a key's tenant while
 * the foreign key holds; treated as a denial by the caller). Throws DependencyError on store/db failure.
 */
export async function lookupTenantPolicy(db: Queryable, store: KvStore, tenantId: string): Promise<TenantPolicy | null> {
  const codec = {
    decode: decodeCached,
    encode: (policy: TenantPolicy | null): string => JSON.stringify(policy
      ? { v: 3, status: policy.status, allowed_providers: policy.allowedProviders, allowed_models: policy.allowedModels,
        module_policy: policy.modulePolicy }
      : { v: 3, missing: true }),
  };
  return readThrough(store, tenantCacheKey(tenantId), TENANT_CACHE_TTL_SECONDS, codec, async () => {
    type Row = { status: TenantStatus; allowed_providers: string[]; allowed_models: string[]; module_settings: unknown };
    const { rows } = await db.query<Row>(
      "SELECT status, allowed_providers, allowed_models, module_settings FROM tenants WHERE id = $1", [tenantId]);
    const row = rows[0];
    if (!row) return null;
    // The embedded PGlite driver may hand jsonb back as text.
    const settings: unknown = typeof row.module_settings === "string" ? JSON.parse(row.module_settings) : row.module_settings;
    return {
      status: row.status,
      allowedProviders: row.allowed_providers,
      allowedModels: row.allowed_models,
      modulePolicy: withAuditPolicy(modulePolicyJson(settings as Record<string, unknown> | null), settings as Record<string, unknown> | null),
    };
  });
}
