// Resolves a key id to its stored record, through a short-lived cache in the KvStore so a busy key
// costs one cache round trip per request instead of a database query. Every admin mutation of a
// key (revoke, rotate) deletes the entry, so with a shared Redis all sidecars see it at once; the
// TTL only bounds changes made behind the sidecar's back (direct SQL).
import { readThrough } from "./cache-aside.ts";
import type { Queryable } from "./db.ts";
import type { KvStore } from "./kv-store.ts";

/** Stored status of a key; expiry is by time (`expiresAt`), not a status. */
export type KeyStatus = "active" | "revoked";

/** What Authorize needs to know about a key. */
export interface KeyRecord {
  tenantId: string;
  status: KeyStatus;
  /** HMAC-SHA256(pepper, secret) of the current secret. */
  secretHash: Buffer;
  /** Hash of the secret before the last rotation, valid until `previousSecretExpiresAt`; null if none. */
  previousSecretHash: Buffer | null;
  /** Epoch ms when the previous secret stops working; null if none. */
  previousSecretExpiresAt: number | null;
  /** Epoch ms from which the key is refused as expired; null = never expires. */
  expiresAt: number | null;
}

/** Cache lifetime (seconds). Short because the filter adds its own TTL on top (≤ 2 s in total). */
export const KEY_CACHE_TTL_SECONDS = 1;

/** Cache key of a key id's record. */
export function keyCacheKey(keyId: string): string {
  return `key:${keyId}`;
}

/** Drops the cached record of `keyId`; call after every change to the key. */
export async function invalidateKey(store: KvStore, keyId: string): Promise<void> {
  await store.del(keyCacheKey(keyId));
}

/**
 * Cached form (v2). `missing` caches "no such key" too, so guessing ids cannot hammer the
 * database. Entries without the version (written by an older sidecar sharing the Redis) are misses.
 */
type CachedKey =
  | {
      v: 2;
      tenant_id: string;
      status: KeyStatus;
      secret_hash: string;
      previous_secret_hash: string | null;
      previous_secret_expires_at: number | null;
      expires_at: number | null;
    }
  | { v: 2; missing: true };

const isTime = (v: unknown): v is number | null => v === null || (typeof v === "number" && Number.isFinite(v));
const isHexOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

/** Record, null for a cached "no such key", undefined for a corrupt or outdated entry. */
function decodeCached(raw: string): KeyRecord | null | undefined {
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (v.v !== 2) return undefined;
    if (v.missing === true) return null;
    if (
      typeof v.tenant_id === "string" &&
      (v.status === "active" || v.status === "revoked") &&
      typeof v.secret_hash === "string" &&
      isHexOrNull(v.previous_secret_hash) &&
      isTime(v.previous_secret_expires_at) &&
      isTime(v.expires_at)
    ) {
      return {
        tenantId: v.tenant_id,
        status: v.status,
        secretHash: Buffer.from(v.secret_hash, "hex"),
        previousSecretHash: v.previous_secret_hash === null ? null : Buffer.from(v.previous_secret_hash, "hex"),
        previousSecretExpiresAt: v.previous_secret_expires_at,
        expiresAt: v.expires_at,
      };
    }
  } catch {
    // Fall through: a corrupt entry is treated as a miss and overwritten.
  }
  return undefined;
}

function encodeCached(record: KeyRecord | null): string {
  const value: CachedKey = record
    ? {
        v: 2,
        tenant_id: record.tenantId,
        status: record.status,
        secret_hash: record.secretHash.toString("hex"),
        previous_secret_hash: record.previousSecretHash?.toString("hex") ?? null,
        previous_secret_expires_at: record.previousSecretExpiresAt,
        expires_at: record.expiresAt,
      }
    : { v: 2, missing: true };
  return JSON.stringify(value);
}

interface KeyRow {
  tenant_id: string;
  status: KeyStatus;
  secret_hash: Uint8Array;
  previous_secret_hash: Uint8Array | null;
  previous_secret_expires_at: Date | string | null;
  expires_at: Date | string | null;
}

const epochMs = (value: Date | string | null): number | null => (value === null ? null : new Date(value).getTime());

/**
 * Returns the record of `keyId`, or null if no such key exists. `keyId` must already be validated
 * by parseApiKey. Throws DependencyError when the store or the database fails.
 */
export async function lookupKey(db: Queryable, store: KvStore, keyId: string): Promise<KeyRecord | null> {
  return readThrough(store, keyCacheKey(keyId), KEY_CACHE_TTL_SECONDS, { encode: encodeCached, decode: decodeCached }, async () => {
    const { rows } = await db.query<KeyRow>(
      `SELECT tenant_id, status, secret_hash, previous_secret_hash, previous_secret_expires_at, expires_at
       FROM api_keys WHERE key_id = $1`,
      [keyId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      tenantId: row.tenant_id,
      status: row.status,
      secretHash: Buffer.from(row.secret_hash),
      previousSecretHash: row.previous_secret_hash === null ? null : Buffer.from(row.previous_secret_hash),
      previousSecretExpiresAt: epochMs(row.previous_secret_expires_at),
      expiresAt: epochMs(row.expires_at),
    };
  });
}
