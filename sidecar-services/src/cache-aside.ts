// Read-through caching of database lookups in the KvStore (Redis, or the in-process store): the
// key, tenant and credential lookups on the Authorize path all work this way. A cached absence is
// cached too, so unknown ids do not reach PostgreSQL on every request.
import { DependencyError } from "./errors.ts";
import type { KvStore } from "./kv-store.ts";

/** How one kind of record is written to and read back from the store. */
export interface CacheCodec<T> {
  encode(value: T | null): string;
  /** The cached value, null for a cached absence, undefined for a corrupt or foreign entry (a miss). */
  decode(text: string): T | null | undefined;
}

/**
 * The record under `cacheKey`, or `load()`'s result (cached for `ttlSeconds`). Throws
 * DependencyError("store") when the store fails and DependencyError("db") when `load` does.
 */
export async function readThrough<T>(store: KvStore, cacheKey: string, ttlSeconds: number, codec: CacheCodec<T>,
  load: () => Promise<T | null>): Promise<T | null> {
  let cached: string | null;
  try {
    cached = await store.get(cacheKey);
  } catch (err) {
    throw new DependencyError("store", err);
  }
  if (cached !== null) {
    const hit = codec.decode(cached);
    if (hit !== undefined) return hit;
  }
  let value: T | null;
  try {
    value = await load();
  } catch (err) {
    throw new DependencyError("db", err);
  }
  try {
    await store.set(cacheKey, codec.encode(value), ttlSeconds);
  } catch (err) {
    throw new DependencyError("store", err);
  }
  return value;
}
