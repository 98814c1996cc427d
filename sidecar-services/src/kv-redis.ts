// KvStore on Redis (ioredis). Configured to fail fast rather than queue: a request waiting on a
// reconnecting Redis would outlive the filter's deadline anyway, so an immediate error (→ gRPC
// UNAVAILABLE → the filter's failure mode) is the honest answer.
import { Redis } from "ioredis";
import { DEFAULT_KEY_PREFIX, type KvStore } from "./kv-store.ts";

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** redis:// or rediss:// URL (the sidecar's `redis_url`), optionally with a DB index path. Required. */
  url: string;
  /** Prefix of every key. Default "leash:"; tests use a unique one per run. */
  keyPrefix?: string;
  /** Per-command timeout in ms. Default 1000. */
  commandTimeoutMs?: number;
  /** Called on connection errors; ioredis keeps reconnecting in the background. */
  onError?: (err: Error) => void;
}

/** Connects to Redis and resolves once the connection is ready (rejects if it cannot connect). */
export async function createRedisStore(opts: RedisStoreOptions): Promise<KvStore> {
  const prefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    connectTimeout: 2000,
    // Keep reconnecting (capped backoff) so the sidecar heals when Redis comes back.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  await connectRedis(redis, opts.onError);
  const k = (key: string) => prefix + key;

  return {
    kind: "redis",
    get: (key) => redis.get(k(key)),
    async set(key, value, ttlSeconds) {
      if (ttlSeconds && ttlSeconds > 0) await redis.set(k(key), value, "EX", ttlSeconds);
      else await redis.set(k(key), value);
    },
    async incr(key, ttlSeconds) {
      const full = k(key);
      if (!ttlSeconds || ttlSeconds <= 0) return redis.incr(full);
      // One round trip; EXPIRE NX (Redis ≥ 7) keeps the expiry set by the window's first hit.
      const res = await redis.multi().incr(full).expire(full, ttlSeconds, "NX").exec();
      if (!res) throw new Error("redis transaction aborted");
      const [incrErr, value] = res[0]!;
      if (incrErr) throw incrErr;
      const [expireErr] = res[1]!;
      if (expireErr) throw expireErr;
      return Number(value);
    },
    async del(key) {
      await redis.del(k(key));
    },
    async ping() {
      await redis.ping();
    },
    close: () => quitRedis(redis),
  };
}

/** Connects a `lazyConnect` client and resolves once it is ready; if it cannot, disconnects it and rethrows. */
export async function connectRedis(redis: Redis, onError?: (err: Error) => void): Promise<void> {
  redis.on("error", (err: Error) => onError?.(err));
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}

/** QUIT; a client whose connection is already gone is just disconnected (nothing left to flush). */
export async function quitRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
