// QuotaStore on Redis. Its own ioredis client, separate from the cache's, tuned to answer fast
// when Redis is down or slow: no offline queue (a command while disconnected fails at once), a
// command timeout well below the quota module's deadline, no per-command retries. The Reserve
// path then reaches the tenant's on_store_failure policy in time for the filter to apply it.
// Scripts run with EVALSHA; after a Redis restart or SCRIPT FLUSH (NOSCRIPT) they are loaded again.
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { connectRedis, quitRedis } from "./kv-redis.ts";
import { DEFAULT_KEY_PREFIX } from "./kv-store.ts";
import { RESERVE_LUA, RETURN_LUA, SETTLE_LUA } from "./quota-lua.ts";
import {
  CHECKS,
  counterKeys,
  leaseKey,
  limitArgs,
  reservationKey,
  type LeaseReturn,
  type LeaseReturnResult,
  type QuotaStore,
  type ReservePlan,
  type ReserveResult,
  type SettleInput,
  type SettleResult,
} from "./quota-store.ts";
import { createSettleBatcher, SETTLE_LEASE_LUA } from "./quota-settle-batch.ts";
import { minuteUsage, scopeUsage } from "./quota-usage.ts";
import { calendarWindows, USAGE_FIELDS, usageFromList, type ScopeUsage } from "./quota-windows.ts";

export interface RedisQuotaStoreOptions {
  /** The sidecar's redis_url. */
  url: string;
  /** Prefix of every key; the same as the cache's so one prefix names a deployment. Default "leash:". */
  keyPrefix?: string;
  /** Per-command timeout in ms; keep it well below modules.quota.timeout_ms. Required. */
  commandTimeoutMs: number;
  /** Connection errors (ioredis keeps reconnecting in the background). */
  onError?: (err: Error) => void;
}

/** A Lua script and its SHA-1, the name EVALSHA runs it by. */
class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }
  /** EVALSHA; on NOSCRIPT (Redis restarted or flushed its scripts) SCRIPT LOAD and once more. */
  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      await redis.script("LOAD", this.source);
      return redis.evalsha(this.sha, keys.length, ...keys, ...args);
    }
  }
}

const reserveScript = new Script(RESERVE_LUA);
const settleScript = new Script(SETTLE_LUA);
const returnScript = new Script(RETURN_LUA);
const settleLeaseScript = new Script(SETTLE_LEASE_LUA);

/** Connects (resolves when ready, rejects when Redis cannot be reached) and returns the store. */
export async function createRedisQuotaStore(opts: RedisQuotaStoreOptions): Promise<QuotaStore> {
  const prefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: 2000,
    // Reconnect forever with a capped backoff, so counting resumes when Redis returns.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  await connectRedis(redis, opts.onError);
  const settleBatched = createSettleBatcher(redis, prefix, { settle: settleScript, lease: settleLeaseScript });

  return {
    kind: "redis",
    async reserve(plan: ReservePlan): Promise<ReserveResult> {
      const w = calendarWindows(plan.nowMs);
      const scopes = plan.keyId === "" ? [""] : ["", plan.keyId];
      const keys = [reservationKey(prefix, plan.tenantId, plan.reservationId)];
      for (const k of scopes) keys.push(...counterKeys(prefix, plan.tenantId, k, w.day, w.month));
      const args = [plan.nowMs, plan.tokens, plan.costMicro, w.dayEndMs, w.monthEndMs, plan.recordTtlS, w.day, w.month, plan.keyId, scopes.length];
      args.push(...limitArgs(plan.tenant));
      if (plan.keyId !== "") args.push(...limitArgs(plan.key));
      if (plan.lease) {
        const l = plan.lease;
        keys.push(leaseKey(prefix, plan.tenantId, l.id));
        args.push(l.maxRequests, l.maxTokens, l.divisor, l.minRequests, l.renewal ? 1 : 0);
      }
      const reply = (await reserveScript.run(redis, keys, args)) as number[];
      const deny = Number(reply[0]);
      const n = USAGE_FIELDS.length;
      const leased = 2 + scopes.length * n;
      const lease = { requests: Number(reply[leased] ?? 0), tokens: Number(reply[leased + 1] ?? 0) };
      return {
        allowed: deny === 0,
        deniedBy: deny === 0 ? null : CHECKS[deny - 1]!,
        retryAfterS: deny === 0 ? 0 : Math.max(1, Number(reply[1])),
        tenant: usageFromList(reply.slice(2, 2 + n)),
        key: plan.keyId === "" ? null : usageFromList(reply.slice(2 + n, 2 + 2 * n)),
        lease: lease.requests > 0 ? lease : null,
      };
    },
    // Batched per event-loop turn (quota-settle-batch.ts): the reports of one usage batch share
    // their round trips, and the leased requests of one lease one script call.
    settle: (input: SettleInput): Promise<SettleResult> => settleBatched(input),
    async returnLease(input: LeaseReturn): Promise<LeaseReturnResult> {
      const recordKey = leaseKey(prefix, input.tenantId, input.leaseId);
      // Keys from the record, read first, as in settle.
      for (let attempt = 0; attempt < 2; attempt++) {
        const [s, d, m, k] = await redis.hmget(recordKey, "s", "d", "m", "k");
        if (s === null || d === null || m === null || k === null) return "none";
        const keys = [recordKey, ...counterKeys(prefix, input.tenantId, "", d, m)];
        if (k !== "") keys.push(...counterKeys(prefix, input.tenantId, k, d, m));
        const result = Number(await returnScript.run(redis, keys, [input.nowMs, input.requests, input.tokens, s, d, m, k]));
        if (result === 0) return "none";
        if (result === 1) return "returned";
        if (result === 2) return "repeated";
      }
      return "none";
    },
    async read(tenantId: string, keyId: string, nowMs: number): Promise<ScopeUsage> {
      const w = calendarWindows(nowMs);
      const [mk, dk, mok] = counterKeys(prefix, tenantId, keyId, w.day, w.month);
      const res = await redis.multi().hgetall(mk).hmget(dk, "req", "tok", "usd").hmget(mok, "req", "tok", "usd").exec();
      if (!res) throw new Error("redis transaction aborted");
      for (const [err] of res) if (err) throw err;
      const [minute, day, month] = res.map(([, v]) => v) as [Record<string, string>, (string | null)[], (string | null)[]];
      return scopeUsage(minuteUsage(minute, nowMs), day, month);
    },
    close: () => quitRedis(redis),
  };
}
