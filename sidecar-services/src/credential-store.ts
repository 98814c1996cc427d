// Provider credentials stored in PostgreSQL, encrypted (credential-cipher.ts): upsert, list
// (metadata only), delete, the cached lookup Authorize uses, and re-encryption under a new master
// key. Plaintext exists only inside putCredential (before sealing) and in the caller of
// openCredential; it is never cached, logged or returned by a listing.
import {
  credentialHint,
  openCredential,
  sealCredential,
  type CredentialOwner,
  type SealedCredential,
} from "./credential-cipher.ts";
import type { Db, Queryable } from "./db.ts";
import { readThrough } from "./cache-aside.ts";
import type { KvStore } from "./kv-store.ts";
import type { KeyRing } from "./master-key.ts";

/** A credential as listed by the admin API: metadata only, never the value. */
export interface CredentialInfo {
  /** Owning tenant, or null for the shared default of every tenant without its own. */
  tenant_id: string | null;
  provider: string;
  /** Ring key that sealed it. */
  master_key_id: string;
  /** e.g. "sk-…abcd": at most the last 4 characters; "…" for short values. */
  hint: string;
  /** ISO 8601. */
  created_at: string;
  /** ISO 8601. */
  updated_at: string;
}

/** Cache lifetime of a sealed credential (or of "none"); mutations delete the entry at once. */
export const CREDENTIAL_CACHE_TTL_SECONDS = 1;

/** Store key of the sealed credential of `owner` ("*" = shared). Holds ciphertext only. */
export function credentialCacheKey(owner: CredentialOwner): string {
  return `cred:${owner.tenantId ?? "*"}:${owner.provider}`;
}

interface CredentialRow {
  tenant_id: string | null;
  provider: string;
  master_key_id: string;
  hint: string;
  created_at: Date | string;
  updated_at: Date | string;
}

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}

function toInfo(row: CredentialRow): CredentialInfo {
  return {
    tenant_id: row.tenant_id,
    provider: row.provider,
    master_key_id: row.master_key_id,
    hint: row.hint,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

const INFO_COLUMNS = "tenant_id, provider, master_key_id, hint, created_at, updated_at";

/** Drops the cached copy of `owner`'s credential so every sidecar sharing the store sees a change at once. */
export async function invalidateCredential(store: KvStore, owner: CredentialOwner): Promise<void> {
  await store.del(credentialCacheKey(owner));
}

/**
 * Creates or replaces the credential of `owner`, sealed under the ring's current key. The tenant
 * (when not null) must exist — the foreign key rejects others. Pass the store to invalidate caches.
 */
export async function putCredential(
  db: Queryable,
  ring: KeyRing,
  owner: CredentialOwner,
  plaintext: string,
  store?: KvStore,
): Promise<CredentialInfo> {
  const s = sealCredential(ring, owner, plaintext);
  const params = [owner.tenantId, owner.provider, s.ciphertext, s.nonce, s.authTag, s.masterKeyId, credentialHint(plaintext)];
  // The two partial unique indexes need two conflict targets: one for tenant rows, one for the shared row.
  const target = owner.tenantId === null ? "(provider) WHERE tenant_id IS NULL" : "(tenant_id, provider) WHERE tenant_id IS NOT NULL";
  const res = await db.query<CredentialRow>(
    `INSERT INTO provider_credentials (tenant_id, provider, ciphertext, nonce, auth_tag, master_key_id, hint)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT ${target} DO UPDATE SET
       ciphertext = EXCLUDED.ciphertext, nonce = EXCLUDED.nonce, auth_tag = EXCLUDED.auth_tag,
       master_key_id = EXCLUDED.master_key_id, hint = EXCLUDED.hint, updated_at = now()
     RETURNING ${INFO_COLUMNS}`,
    params,
  );
  if (store) await invalidateCredential(store, owner);
  return toInfo(res.rows[0]!);
}

/** Filter of {@link listCredentials}: undefined = all, null = shared only, a string = that tenant's. */
export type CredentialFilter = string | null | undefined;

/** Metadata of stored credentials, shared first, then by tenant and provider. */
export async function listCredentials(db: Queryable, tenantId: CredentialFilter): Promise<CredentialInfo[]> {
  const order = "ORDER BY tenant_id NULLS FIRST, provider";
  const res =
    tenantId === undefined
      ? await db.query<CredentialRow>(`SELECT ${INFO_COLUMNS} FROM provider_credentials ${order}`)
      : tenantId === null
        ? await db.query<CredentialRow>(`SELECT ${INFO_COLUMNS} FROM provider_credentials WHERE tenant_id IS NULL ${order}`)
        : await db.query<CredentialRow>(`SELECT ${INFO_COLUMNS} FROM provider_credentials WHERE tenant_id = $1 ${order}`, [tenantId]);
  return res.rows.map(toInfo);
}

/** Deletes `owner`'s credential; false if there was none. */
export async function deleteCredential(db: Queryable, owner: CredentialOwner, store?: KvStore): Promise<boolean> {
  const res =
    owner.tenantId === null
      ? await db.query("DELETE FROM provider_credentials WHERE tenant_id IS NULL AND provider = $1", [owner.provider])
      : await db.query("DELETE FROM provider_credentials WHERE tenant_id = $1 AND provider = $2", [owner.tenantId, owner.provider]);
  if (store) await invalidateCredential(store, owner);
  return res.rowCount > 0;
}

/** Cached form: hex of the sealed parts, or "none". Never plaintext. */
type CachedCredential = { v: 1; c: string; n: string; t: string; k: string } | { v: 1; missing: true };

function decodeCached(raw: string): SealedCredential | null | undefined {
  try {
    const v = JSON.parse(raw) as Partial<{ v: number; c: string; n: string; t: string; k: string; missing: boolean }>;
    if (v.v !== 1) return undefined;
    if (v.missing === true) return null;
    if (typeof v.c === "string" && typeof v.n === "string" && typeof v.t === "string" && typeof v.k === "string") {
      return { ciphertext: Buffer.from(v.c, "hex"), nonce: Buffer.from(v.n, "hex"), authTag: Buffer.from(v.t, "hex"), masterKeyId: v.k };
    }
  } catch {
    // Corrupt entry: treated as a miss and overwritten.
  }
  return undefined;
}

/**
 * The sealed credential of `owner`, or null when none is stored; cached in the store. Throws
 * DependencyError when the store or the database fails.
 */
export async function lookupSealedCredential(db: Queryable, store: KvStore, owner: CredentialOwner): Promise<SealedCredential | null> {
  const codec = {
    decode: decodeCached,
    encode: (sealed: SealedCredential | null): string => JSON.stringify((sealed
      ? { v: 1, c: sealed.ciphertext.toString("hex"), n: sealed.nonce.toString("hex"), t: sealed.authTag.toString("hex"), k: sealed.masterKeyId }
      : { v: 1, missing: true }) satisfies CachedCredential),
  };
  return readThrough(store, credentialCacheKey(owner), CREDENTIAL_CACHE_TTL_SECONDS, codec, async () => {
    type Row = { ciphertext: Uint8Array; nonce: Uint8Array; auth_tag: Uint8Array; master_key_id: string };
    const { rows } = owner.tenantId === null
      ? await db.query<Row>(
          "SELECT ciphertext, nonce, auth_tag, master_key_id FROM provider_credentials WHERE tenant_id IS NULL AND provider = $1",
          [owner.provider],
        )
      : await db.query<Row>(
          "SELECT ciphertext, nonce, auth_tag, master_key_id FROM provider_credentials WHERE tenant_id = $1 AND provider = $2",
          [owner.tenantId, owner.provider],
        );
    const row = rows[0];
    if (!row) return null;
    return {
      ciphertext: Buffer.from(row.ciphertext),
      nonce: Buffer.from(row.nonce),
      authTag: Buffer.from(row.auth_tag),
      masterKeyId: row.master_key_id,
    };
  });
}

/** Outcome of {@link reencryptCredentials}. */
export interface ReencryptResult {
  /** Rows in the table. */
  total: number;
  /** Rows that were sealed under another key and now are under the current one. */
  rewrapped: number;
}

/**
 * Re-seals every credential not yet under the ring's current key (master key rotation: put the new
 * key first in the ring, run this, then drop the old key). One transaction with the rows locked,
 * so a concurrent upsert cannot be lost; rows whose key is missing from the ring make it fail
 * (CredentialDecryptError) without changing anything. Pass the store to drop cached copies.
 */
export async function reencryptCredentials(db: Db, ring: KeyRing, store?: KvStore): Promise<ReencryptResult> {
  type Row = { id: string; tenant_id: string | null; provider: string; ciphertext: Uint8Array; nonce: Uint8Array; auth_tag: Uint8Array; master_key_id: string };
  const result = await db.transaction(async (tx) => {
    const { rows } = await tx.query<Row>(
      "SELECT id, tenant_id, provider, ciphertext, nonce, auth_tag, master_key_id FROM provider_credentials ORDER BY id FOR UPDATE",
    );
    const owners: CredentialOwner[] = [];
    for (const row of rows) {
      if (row.master_key_id === ring.current.id) continue;
      const owner: CredentialOwner = { tenantId: row.tenant_id, provider: row.provider };
      const plaintext = openCredential(ring, owner, {
        ciphertext: Buffer.from(row.ciphertext),
        nonce: Buffer.from(row.nonce),
        authTag: Buffer.from(row.auth_tag),
        masterKeyId: row.master_key_id,
      });
      const s = sealCredential(ring, owner, plaintext);
      // updated_at is left alone: the credential did not change, only its wrapping.
      await tx.query("UPDATE provider_credentials SET ciphertext = $2, nonce = $3, auth_tag = $4, master_key_id = $5 WHERE id = $1", [
        row.id,
        s.ciphertext,
        s.nonce,
        s.authTag,
        s.masterKeyId,
      ]);
      owners.push(owner);
    }
    return { total: rows.length, owners };
  });
  if (store) for (const owner of result.owners) await invalidateCredential(store, owner);
  return { total: result.total, rewrapped: result.owners.length };
}
