// Tenants and their policy: create, list, read, update. Used by the admin API, the first start
// (demo tenant) and tests. Inputs are validated by the caller (admin-input.ts) except what the
// database itself must guarantee (id shape, uniqueness); every statement is parameterized.
import type { Db, Queryable } from "./db.ts";
import { AdminError } from "./errors.ts";
import type { KvStore } from "./kv-store.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { invalidateTenant, type TenantStatus } from "./tenant-lookup.ts";

/** A tenant row (the short form used by createTenant's callers). */
export interface Tenant {
  /** Stable id, [a-z0-9][a-z0-9-]{0,62}; what `--tenant` and the logs refer to. */
  id: string;
  /** Display name. */
  name: string;
}

/** A tenant as the admin API returns it. */
export interface TenantInfo {
  id: string;
  name: string;
  /** "active" or "disabled" (a disabled tenant's keys are refused with auth.tenant_disabled). */
  status: TenantStatus;
  /** Provider names the tenant may call; [] = all configured providers. */
  allowed_providers: string[];
  /** Models the tenant may call; [] = any; "gpt-4o*" matches by prefix. */
  allowed_models: string[];
  /** Per-module settings, opaque JSON object (read by later modules). */
  module_settings: Record<string, unknown>;
  /** Days the usage ledger keeps this tenant's rows; 0 = forever; null = the gateway default. */
  retention_days: number | null;
  /** ISO 8601. */
  created_at: string;
  /** ISO 8601. */
  updated_at: string;
}

/** Policy fields settable at creation. */
export interface TenantPolicyInput {
  allowedProviders?: string[];
  allowedModels?: string[];
}

/** Fields of {@link updateTenant}; absent fields are left unchanged. */
export interface TenantPatch {
  status?: TenantStatus;
  allowedProviders?: string[];
  allowedModels?: string[];
  /**
   * A JSON Merge Patch (RFC 7396, merge-patch.ts) for module_settings: objects merge member by member,
   * null removes a member, other values replace. Applied to the stored settings under a row lock,
   * so concurrent patches of one tenant (from any replica) each see the other's result.
   */
  moduleSettings?: Record<string, unknown>;
  /**
   * Called with the merged module_settings before they are written, inside the lock; throwing
   * refuses the whole patch and changes nothing. Optional; default: no check.
   */
  checkModuleSettings?: (merged: Record<string, unknown>, patch: Record<string, unknown>) => void;
  /** Ledger retention in days (0 = forever); null resets it to the gateway default. */
  retentionDays?: number | null;
}

/** Tenant ids: lowercase, digits and dashes, starting with a letter or digit, ≤ 63 characters. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** True for a syntactically valid tenant id. */
export function isTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}

/** Derives a tenant id from a display name ("Acme Corp" → "acme-corp"). */
export function tenantIdFromName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

const COLUMNS = "id, name, status, allowed_providers, allowed_models, module_settings, retention_days, created_at, updated_at";

interface TenantRow {
  id: string;
  name: string;
  status: TenantStatus;
  allowed_providers: string[];
  allowed_models: string[];
  module_settings: Record<string, unknown> | string;
  retention_days: number | null;
  created_at: Date | string;
  updated_at: Date | string;
}

function toInfo(row: TenantRow): TenantInfo {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    allowed_providers: row.allowed_providers,
    allowed_models: row.allowed_models,
    // pg and PGlite both parse jsonb; a string would only come from a driver configured otherwise.
    module_settings: typeof row.module_settings === "string" ? (JSON.parse(row.module_settings) as Record<string, unknown>) : row.module_settings,
    retention_days: row.retention_days === null ? null : Number(row.retention_days),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/**
 * Creates a tenant. `id` defaults to {@link tenantIdFromName}. Throws AdminError
 * `admin.invalid_request` for a bad name or id and `admin.conflict` if the id is taken, so a typo
 * never silently reuses another tenant.
 */
export async function createTenant(
  db: Queryable,
  name: string,
  id: string = tenantIdFromName(name),
  policy: TenantPolicyInput = {},
): Promise<Tenant> {
  return toTenant(await createTenantInfo(db, name, id, policy));
}

function toTenant(info: TenantInfo): Tenant {
  return { id: info.id, name: info.name };
}

/** {@link createTenant}, returning the full record. */
export async function createTenantInfo(
  db: Queryable,
  name: string,
  id: string = tenantIdFromName(name),
  policy: TenantPolicyInput = {},
): Promise<TenantInfo> {
  const trimmed = name.trim();
  if (trimmed === "" || trimmed.length > 200 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new AdminError("admin.invalid_request", "name: must be 1-200 characters without control characters");
  }
  if (!isTenantId(id)) throw new AdminError("admin.invalid_request", "id: must match [a-z0-9][a-z0-9-]{0,62}");
  const res = await db.query<TenantRow>(
    `INSERT INTO tenants (id, name, allowed_providers, allowed_models) VALUES ($1, $2, $3::text[], $4::text[])
     ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
    [id, trimmed, policy.allowedProviders ?? [], policy.allowedModels ?? []],
  );
  if (res.rows.length === 0) throw new AdminError("admin.conflict", `tenant ${id} already exists`);
  return toInfo(res.rows[0]!);
}

/** Every tenant, by id. */
export async function listTenants(db: Queryable): Promise<TenantInfo[]> {
  const res = await db.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants ORDER BY id`);
  return res.rows.map(toInfo);
}

/** The tenant `id`, or null. */
export async function getTenant(db: Queryable, id: string): Promise<TenantInfo | null> {
  if (!isTenantId(id)) return null;
  const res = await db.query<TenantRow>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [id]);
  return res.rows[0] ? toInfo(res.rows[0]) : null;
}

/** True if the tenant exists. */
export async function tenantExists(db: Queryable, id: string): Promise<boolean> {
  if (!isTenantId(id)) return false;
  const res = await db.query("SELECT 1 FROM tenants WHERE id = $1", [id]);
  return res.rows.length > 0;
}

/**
 * Applies `patch` to tenant `id` and returns the result, or null if no such tenant. Pass the store
 * so every sidecar sharing it applies the change (disable, policy) at once. A module_settings patch
 * runs in a transaction (its own, or the caller's when `db` is already one).
 */
export async function updateTenant(db: Db | Queryable, id: string, patch: TenantPatch, store?: KvStore): Promise<TenantInfo | null> {
  if (!isTenantId(id)) return null;
  const moduleSettingsPatch = patch.moduleSettings;
  let row: TenantRow | null;
  if (moduleSettingsPatch === undefined) {
    row = await writeTenant(db, id, patch, null);
  } else {
    const merge = async (tx: Queryable): Promise<TenantRow | null> => {
      // FOR UPDATE: a concurrent patch of this tenant (this sidecar or another replica, or the
      // /limits routes) waits here until this transaction ends, then merges into its result, so
      // two admins changing different sections both keep their change.
      const cur = await tx.query<{ module_settings: Record<string, unknown> | string }>(
        "SELECT module_settings FROM tenants WHERE id = $1 FOR UPDATE", [id]);
      if (!cur.rows[0]) return null;
      const stored = cur.rows[0].module_settings;
      const merged = applyMergePatch(typeof stored === "string" ? JSON.parse(stored) : stored, moduleSettingsPatch);
      patch.checkModuleSettings?.(merged, moduleSettingsPatch);
      return writeTenant(tx, id, patch, merged);
    };
    row = "transaction" in db ? await db.transaction(merge) : await merge(db);
  }
  if (store) await invalidateTenant(store, id);
  return row ? toInfo(row) : null;
}

/** The UPDATE of {@link updateTenant}; `moduleSettings` null keeps the stored ones. */
async function writeTenant(db: Queryable, id: string, patch: TenantPatch, moduleSettings: Record<string, unknown> | null): Promise<TenantRow | null> {
  // COALESCE keeps a column whose parameter is NULL (field absent from the patch).
  const res = await db.query<TenantRow>(
    `UPDATE tenants SET
       status = COALESCE($2, status),
       allowed_providers = COALESCE($3::text[], allowed_providers),
       allowed_models = COALESCE($4::text[], allowed_models),
       module_settings = COALESCE($5::jsonb, module_settings),
       -- Not COALESCE: null is a value here (back to the default), so a flag says whether to set it.
       retention_days = CASE WHEN $6::boolean THEN $7::integer ELSE retention_days END,
       updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      patch.status ?? null,
      patch.allowedProviders ?? null,
      patch.allowedModels ?? null,
      moduleSettings === null ? null : JSON.stringify(moduleSettings),
      patch.retentionDays !== undefined,
      patch.retentionDays ?? null,
    ],
  );
  return res.rows[0] ?? null;
}
