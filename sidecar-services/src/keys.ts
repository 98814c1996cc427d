// Tenant API keys: create (the only moment the full key exists outside the client), list (metadata
// only), rotate (new secret, same key id, old secret valid during a grace), revoke, and the demo
// tenant of the first start. Functions take a Queryable so callers can compose them inside a
// transaction, and the sidecar's store so changes reach every sidecar sharing it at once.
import { formatApiKey, generateApiKey, hashSecret, isKeyId } from "./api-key.ts";
import type { Db, Queryable } from "./db.ts";
import { AdminError } from "./errors.ts";
import { invalidateKey, type KeyStatus } from "./key-lookup.ts";
import type { KvStore } from "./kv-store.ts";
import { isTenantId } from "./tenants.ts";

// Tenant helpers used to live here; re-exported so existing callers (tests, bench) keep working.
export { createTenant, tenantIdFromName, type Tenant } from "./tenants.ts";

/** A key as the admin API lists it: metadata only, never the secret or its hash. */
export interface KeyInfo {
  key_id: string;
  tenant_id: string;
  /** "active" or "revoked"; expiry is by time, see `expires_at` and `expired`. */
  status: KeyStatus;
  /** True when `expires_at` has passed (the key is refused with auth.key_expired). */
  expired: boolean;
  /** ISO 8601 timestamps; null when not set / never happened. */
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_at: string | null;
  /** Updated in batches (≤ 250 ms behind), not per request. */
  last_used_at: string | null;
  /** End of the current rotation grace (the previous secret works until then); null if none. */
  previous_secret_expires_at: string | null;
  /** Optional per-key limits, opaque JSON object (e.g. {"rpm": 60}). */
  limits: Record<string, unknown>;
}

/** A freshly created or rotated key; the only moment the full key exists outside the client. */
export interface CreatedApiKey {
  keyId: string;
  /** Full `lsh_<keyId>_<secret>`; show it once, it cannot be recovered. */
  key: string;
  /** The key's metadata after the change. */
  info: KeyInfo;
}

/** Options of {@link createApiKey}. */
export interface CreateApiKeyOptions {
  /** When the key stops working; null/absent = never. Must be in the future (checked by callers). */
  expiresAt?: Date | null;
  /** Per-key limits, opaque JSON object. Default {}. */
  limits?: Record<string, unknown>;
}

/** Id of the tenant created on first start. */
export const DEMO_TENANT_ID = "demo";

/** Default rotation grace: the previous secret keeps working this long. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 3600;
/** Longest rotation grace accepted: 30 days. */
export const MAX_ROTATION_GRACE_SECONDS = 30 * 24 * 3600;

const COLUMNS =
  "key_id, tenant_id, status, created_at, expires_at, revoked_at, rotated_at, last_used_at, previous_secret_expires_at, limits";

interface KeyRow {
  key_id: string;
  tenant_id: string;
  status: KeyStatus;
  created_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
  rotated_at: Date | string | null;
  last_used_at: Date | string | null;
  previous_secret_expires_at: Date | string | null;
  limits: Record<string, unknown> | string;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function toInfo(row: KeyRow, nowMs: number): KeyInfo {
  const expiresAt = iso(row.expires_at);
  const graceEnd = iso(row.previous_secret_expires_at);
  return {
    key_id: row.key_id,
    tenant_id: row.tenant_id,
    status: row.status,
    expired: expiresAt !== null && Date.parse(expiresAt) <= nowMs,
    created_at: iso(row.created_at)!,
    expires_at: expiresAt,
    revoked_at: iso(row.revoked_at),
    rotated_at: iso(row.rotated_at),
    last_used_at: iso(row.last_used_at),
    // A grace that has ended is history, not state.
    previous_secret_expires_at: graceEnd !== null && Date.parse(graceEnd) > nowMs ? graceEnd : null,
    limits: typeof row.limits === "string" ? (JSON.parse(row.limits) as Record<string, unknown>) : row.limits,
  };
}

/**
 * Creates an active key for `tenantId` and returns it in full (once). Throws AdminError
 * `admin.not_found` if the tenant does not exist.
 */
export async function createApiKey(
  db: Queryable,
  tenantId: string,
  pepper: string,
  opts: CreateApiKeyOptions = {},
  now: () => number = Date.now,
): Promise<CreatedApiKey> {
  const tenant = isTenantId(tenantId) ? await db.query("SELECT 1 FROM tenants WHERE id = $1", [tenantId]) : { rows: [] };
  if (tenant.rows.length === 0) throw new AdminError("admin.not_found", `tenant ${tenantId} does not exist`);
  // A key id collision is astronomically unlikely (36^12), but retrying costs nothing and keeps
  // the primary key the arbiter instead of an assumption.
  for (let attempt = 0; attempt < 3; attempt++) {
    const k = generateApiKey();
    const res = await db.query<KeyRow>(
      `INSERT INTO api_keys (key_id, tenant_id, secret_hash, expires_at, limits)
       VALUES ($1, $2, $3, $4::timestamptz, $5::jsonb)
       ON CONFLICT (key_id) DO NOTHING RETURNING ${COLUMNS}`,
      [k.keyId, tenantId, hashSecret(pepper, k.secret), opts.expiresAt?.toISOString() ?? null, JSON.stringify(opts.limits ?? {})],
    );
    if (res.rows.length === 1) return { keyId: k.keyId, key: k.key, info: toInfo(res.rows[0]!, now()) };
  }
  throw new Error("could not allocate a unique key id");
}

/** Metadata of every key of `tenantId`, oldest first; null if the tenant does not exist. */
export async function listApiKeys(db: Queryable, tenantId: string, now: () => number = Date.now): Promise<KeyInfo[] | null> {
  if (!isTenantId(tenantId)) return null;
  const tenant = await db.query("SELECT 1 FROM tenants WHERE id = $1", [tenantId]);
  if (tenant.rows.length === 0) return null;
  const res = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, key_id`, [tenantId]);
  const t = now();
  return res.rows.map((r) => toInfo(r, t));
}

/** Metadata of key `keyId`, or null. */
export async function getApiKey(db: Queryable, keyId: string, now: () => number = Date.now): Promise<KeyInfo | null> {
  if (!isKeyId(keyId)) return null;
  const res = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_id = $1`, [keyId]);
  return res.rows[0] ? toInfo(res.rows[0], now()) : null;
}

/**
 * Gives key `keyId` a new secret and returns the full new key (once). The key id, tenant, limits
 * and history stay. The previous secret keeps working for `graceSeconds` (0 = stops at once); a
 * second rotation inside a grace ends the first grace (only one previous secret is kept). Throws
 * AdminError `admin.not_found` (no such key) or `admin.conflict` (revoked or expired key).
 */
export async function rotateApiKey(
  db: Queryable,
  keyId: string,
  pepper: string,
  graceSeconds: number = DEFAULT_ROTATION_GRACE_SECONDS,
  store?: KvStore,
  now: () => number = Date.now,
): Promise<CreatedApiKey> {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS) {
    throw new AdminError("admin.invalid_request", `grace_seconds: must be an integer in 0..${MAX_ROTATION_GRACE_SECONDS}`);
  }
  if (!isKeyId(keyId)) throw new AdminError("admin.not_found", "no such key");
  const t = now();
  // Only the secret half of a fresh key is used: the key id stays, so limits and history stay attached.
  const { secret } = generateApiKey();
  const key = formatApiKey(keyId, secret);
  const graceEnd = graceSeconds > 0 ? new Date(t + graceSeconds * 1000).toISOString() : null;
  const res = await db.query<KeyRow>(
    `UPDATE api_keys SET
       previous_secret_hash = CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE secret_hash END,
       previous_secret_expires_at = $3::timestamptz,
       secret_hash = $2,
       rotated_at = $4::timestamptz
     WHERE key_id = $1 AND status = 'active' AND (expires_at IS NULL OR expires_at > $4::timestamptz)
     RETURNING ${COLUMNS}`,
    [keyId, hashSecret(pepper, secret), graceEnd, new Date(t).toISOString()],
  );
  if (store) await invalidateKey(store, keyId);
  if (res.rows[0]) return { keyId, key, info: toInfo(res.rows[0], t) };
  const existing = await getApiKey(db, keyId, now);
  if (!existing) throw new AdminError("admin.not_found", `no key ${keyId}`);
  throw new AdminError("admin.conflict", `key ${keyId} is ${existing.status === "revoked" ? "revoked" : "expired"} and cannot be rotated`);
}

/**
 * Revokes a key; returns false if it did not exist or was already revoked. Pass the sidecar's
 * store to drop the cached record so every sidecar sharing it refuses the key at once (otherwise
 * within KEY_CACHE_TTL_SECONDS). Revocation also ends a rotation grace: both secrets stop working.
 */
export async function revokeApiKey(db: Queryable, keyId: string, store?: KvStore): Promise<boolean> {
  if (!isKeyId(keyId)) return false;
  const res = await db.query(
    "UPDATE api_keys SET status = 'revoked', revoked_at = now() WHERE key_id = $1 AND status = 'active'",
    [keyId],
  );
  if (store) await invalidateKey(store, keyId);
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
