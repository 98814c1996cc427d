// Resolves a key id to its stored record, through a short-lived cache so a busy tenant costs one
// cache round trip per request instead of a database query.
import { DependencyError } from "./errors.ts";
import type { Queryable } from "./db.ts";
import type { KvStore } from "./kv-store.ts";

/** What Authorize needs to know about a key. */
export interface KeyRecord {
  tenantId: string;
  status: "active" | "revoked";
  /** HMAC-SHA256(pepper, secret). */
  secretHash: Buffer;
}

/**
 * Cache lifetime. Bounds how long a revocation takes to apply when revoked without the store at
 * hand (revokeApiKey with a store invalidates immediately).
 */
export const KEY_CACHE_TTL_SECONDS = 5;

/** Cache key of a key id's record. */
export function keyCacheKey(keyId: string): string {
  return `key:${keyId}`;
}

/** Cached form; `missing` caches "no such key" too, so guessing ids cannot hammer the database. */
type CachedKey = { tenant_id: string; status: "active" | "revoked"; secret_hash: string } | { missing: true };

/** Record, null for a cached "no such key", undefined for a corrupt entry. */
function decodeCached(raw: string): KeyRecord | null | undefined {
  try {
    const v = JSON.parse(raw) as { tenant_id?: unknown; status?: unknown; secret_hash?: unknown; missing?: unknown };
    if (v.missing === true) return null;
    if (
      typeof v.tenant_id === "string" &&
      (v.status === "active" || v.status === "revoked") &&
      typeof v.secret_hash === "string"
    ) {
      return { tenantId: v.tenant_id, status: v.status, secretHash: Buffer.from(v.secret_hash, "hex") };
    }
  } catch {
    // Fall through: a corrupt entry is treated as a miss and overwritten.
  }
  return undefined;
}

/**
 * Returns the record of `keyId`, or null if no such key exists. `keyId` must already be validated
 * by parseApiKey. Throws DependencyError when the store or the database fails.
 */
export async function lookupKey(db: Queryable, store: KvStore, keyId: string): Promise<KeyRecord | null> {
  const cacheKey = keyCacheKey(keyId);
  let cached: string | null;
  try {
    cached = await store.get(cacheKey);
  } catch (err) {
    throw new DependencyError("store", err);
  }
  if (cached !== null) {
    const hit = decodeCached(cached);
    if (hit !== undefined) return hit;
  }

  let rows: { tenant_id: string; status: "active" | "revoked"; secret_hash: Uint8Array }[];
  try {
    ({ rows } = await db.query<{ tenant_id: string; status: "active" | "revoked"; secret_hash: Uint8Array }>(
      "SELECT tenant_id, status, secret_hash FROM api_keys WHERE key_id = $1",
      [keyId],
    ));
  } catch (err) {
    throw new DependencyError("db", err);
  }
  const row = rows[0];
  const record: KeyRecord | null = row
    ? { tenantId: row.tenant_id, status: row.status, secretHash: Buffer.from(row.secret_hash) }
    : null;
  const toCache: CachedKey = record
    ? { tenant_id: record.tenantId, status: record.status, secret_hash: record.secretHash.toString("hex") }
    : { missing: true };
  try {
    await store.set(cacheKey, JSON.stringify(toCache), KEY_CACHE_TTL_SECONDS);
  } catch (err) {
    throw new DependencyError("store", err);
  }
  return record;
}
