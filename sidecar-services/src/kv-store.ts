// The cache/counter seam: Redis when a URL is configured, an in-process map otherwise. The
// interface is the handful of Redis commands the sidecar needs, with Redis semantics, so the two
// implementations are interchangeable in tests.

/** Small key-value store with expiry. Keys are given without the store's prefix. */
export interface KvStore {
  /** "redis" or "memory"; shown in logs. */
  readonly kind: "redis" | "memory";
  /** Value of `key`, or null when absent or expired. */
  get(key: string): Promise<string | null>;
  /** Sets `key`; with `ttlSeconds` > 0 it expires after that many seconds. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /**
   * Increments the integer at `key` (absent = 0) and returns the new value. `ttlSeconds` starts
   * the expiry only when the key has none yet, so a counter window is not extended by each hit.
   */
  incr(key: string, ttlSeconds?: number): Promise<number>;
  /** Removes `key` (no error if absent). */
  del(key: string): Promise<void>;
  /** Throws if the store cannot serve requests. */
  ping(): Promise<void>;
  /** Releases connections/timers. */
  close(): Promise<void>;
}

/** Default key prefix; every key the sidecar writes starts with it. */
export const DEFAULT_KEY_PREFIX = "leash:";

interface Entry {
  value: string;
  /** Epoch ms; Infinity = no expiry. */
  expiresAt: number;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock in epoch ms. Default Date.now (tests inject a fake one). */
  now?: () => number;
}

/**
 * In-process store for single-node setups without Redis. Expired entries are dropped lazily on read
 * and by a sweep every few thousand writes, which bounds memory without a timer to clean up.
 */
export function createMemoryStore(opts: MemoryStoreOptions = {}): KvStore {
  const now = opts.now ?? Date.now;
  const map = new Map<string, Entry>();
  let writes = 0;

  const live = (key: string): Entry | undefined => {
    const e = map.get(key);
    if (e && e.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return e;
  };
  const wrote = () => {
    if (++writes % 4096 !== 0) return;
    const t = now();
    for (const [k, e] of map) if (e.expiresAt <= t) map.delete(k);
  };
  const expiry = (ttlSeconds?: number) => (ttlSeconds && ttlSeconds > 0 ? now() + ttlSeconds * 1000 : Infinity);

  return {
    kind: "memory",
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlSeconds) {
      map.set(key, { value, expiresAt: expiry(ttlSeconds) });
      wrote();
    },
    async incr(key, ttlSeconds) {
      const e = live(key);
      const n = (e ? Number.parseInt(e.value, 10) : 0) + 1;
      if (!Number.isSafeInteger(n)) throw new Error(`value at ${key} is not an integer`);
      map.set(key, { value: String(n), expiresAt: e && e.expiresAt !== Infinity ? e.expiresAt : expiry(ttlSeconds) });
      wrote();
      return n;
    },
    async del(key) {
      map.delete(key);
    },
    async ping() {},
    async close() {
      map.clear();
    },
  };
}
