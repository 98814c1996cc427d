// Admin operations on tenants and keys, shared by the CLI (`leash keys …`), the sidecar's first
// start (demo tenant) and the tests. They take a Queryable so callers can compose them inside a
// transaction.
import { generateApiKey, hashSecret, isKeyId } from "./api-key.ts";
import type { Db, Queryable } from "./db.ts";
import { keyCacheKey } from "./key-lookup.ts";
import type { KvStore } from "./kv-store.ts";

/** A tenant row. */
export interface Tenant {
  /** Stable id, [a-z0-9][a-z0-9-]{0,62}; what `--tenant` and the logs refer to. */
  id: string;
  /** Display name. */
  name: string;
}

/** A freshly created key; the only moment the full key exists outside the client. */
export interface CreatedApiKey {
  keyId: string;
  /** Full `lsh_<keyId>_<secret>`; show it once, it cannot be recovered. */
  key: string;
}

/** Id of the tenant created on first start. */
export const DEMO_TENANT_ID = "demo";

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Derives a tenant id from a display name ("Acme Corp" → "acme-corp"). */
export function tenantIdFromName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

/**
 * Creates a tenant. `id` defaults to {@link tenantIdFromName}; throws if the id is invalid or
 * already taken, so a typo in the CLI never silently reuses another tenant.
 */
export async function createTenant(db: Queryable, name: string, id: string = tenantIdFromName(name)): Promise<Tenant> {
  const trimmed = name.trim();
  if (trimmed === "" || trimmed.length > 200 || trimmed.includes("\0")) {
    throw new Error("tenant name must be 1-200 characters without NUL");
  }
  if (!TENANT_ID.test(id)) throw new Error(`invalid tenant id ${JSON.stringify(id)}: expected [a-z0-9][a-z0-9-]{0,62}`);
  const res = await db.query<{ id: string }>(
    "INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id",
    [id, trimmed],
  );
  if (res.rows.length === 0) throw new Error(`tenant ${id} already exists`);
  return { id, name: trimmed };
}

/** Creates an active key for `tenantId` and returns it in full (once). Throws if the tenant does not exist. */
export async function createApiKey(db: Queryable, tenantId: string, pepper: string): Promise<CreatedApiKey> {
  const tenant = await db.query("SELECT 1 FROM tenants WHERE id = $1", [tenantId]);
  if (tenant.rows.length === 0) throw new Error(`tenant ${tenantId} does not exist`);
  // A key id collision is astronomically unlikely (36^12), but retrying costs nothing and keeps
  // the primary key the arbiter instead of an assumption.
  for (let attempt = 0; attempt < 3; attempt++) {
    const k = generateApiKey();
    const res = await db.query(
      "INSERT INTO api_keys (key_id, tenant_id, secret_hash) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING RETURNING key_id",
      [k.keyId, tenantId, hashSecret(pepper, k.secret)],
    );
    if (res.rows.length === 1) return { keyId: k.keyId, key: k.key };
  }
  throw new Error("could not allocate a unique key id");
}

/**
 * Revokes a key; returns false if it did not exist or was already revoked. Pass the sidecar's
 * store to drop the cached record so the revocation applies at once instead of within
 * KEY_CACHE_TTL_SECONDS.
 */
export async function revokeApiKey(db: Queryable, keyId: string, store?: KvStore): Promise<boolean> {
  if (!isKeyId(keyId)) return false;
  const res = await db.query(
    "UPDATE api_keys SET status = 'revoked', revoked_at = now() WHERE key_id = $1 AND status = 'active'",
    [keyId],
  );
  if (store) await store.del(keyCacheKey(keyId));
  return res.rowCount > 0;
}

/** Result of {@link ensureDemoTenant}. */
export interface DemoTenantResult {
  /** True only on the start that created the tenant. */
  created: boolean;
  /** The demo key, present only when `created`. */
  key?: string;
}

/**
 * Creates tenant "demo" with one key if the tenant does not exist yet. Tenant and key are written
 * in one transaction, and the tenant insert decides the race, so two sidecars starting together
 * mint exactly one key.
 */
export async function ensureDemoTenant(db: Db, pepper: string): Promise<DemoTenantResult> {
  return db.transaction(async (tx) => {
    const res = await tx.query(
      "INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id",
      [DEMO_TENANT_ID, "Demo tenant"],
    );
    if (res.rows.length === 0) return { created: false };
    const { key } = await createApiKey(tx, DEMO_TENANT_ID, pepper);
    return { created: true, key };
  });
}
