// A throwaway Redis key prefix per test run: stores opened here write only under it, so test files
// sharing one Redis never see each other's keys, and cleanup() deletes every key under it.
//
//   LEASH_TEST_REDIS_URL  default redis://127.0.0.1:6379/0
import { Redis } from "ioredis";
import { createRedisStore } from "../../sidecar-services/src/kv-redis.ts";
import type { KvStore } from "../../sidecar-services/src/kv-store.ts";

/** The Redis tests use: LEASH_TEST_REDIS_URL, else the one scripts/services.sh starts. */
export const TEST_REDIS_URL: string = process.env.LEASH_TEST_REDIS_URL || "redis://127.0.0.1:6379/0";

export interface TestKeyPrefix {
  /** `leash-test-<label>-<run>:`. */
  readonly prefix: string;
  /** A plain client (no prefix) for reading what the sidecar wrote: use full keys, `${prefix}…`. */
  readonly redis: Redis;
  /**
   * Opens a store (createRedisStore) under the prefix; cleanup() closes it. Two stores opened here
   * share their keys the way two sidecar replicas do.
   */
  openStore(): Promise<KvStore>;
  /** Deletes every key under the prefix, disconnects the plain client, closes the stores. */
  cleanup(): Promise<void>;
}

/**
 * A prefix `leash-test-<label>-<run>:` in {@link TEST_REDIS_URL}.
 * @param label names the test file.
 * @param run random per-run id, unique across parallel and repeated runs.
 */
export function createTestKeyPrefix(label: string, run: string): TestKeyPrefix {
  const prefix = `leash-test-${label}-${run}:`;
  const redis = new Redis(TEST_REDIS_URL);
  const stores: KvStore[] = [];
  return {
    prefix,
    redis,
    async openStore() {
      const store = await createRedisStore({ url: TEST_REDIS_URL, keyPrefix: prefix });
      stores.push(store);
      return store;
    },
    async cleanup() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      for (const store of stores.splice(0)) await store.close();
    },
  };
}
