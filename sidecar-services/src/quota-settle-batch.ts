// Settlements of the Redis quota store, batched per event-loop turn. The usage module's reports
// arrive in batches (RecordUsageBatch) and the ledger acknowledges a whole INSERT at once, so the
// settlements of many requests are asked for in the same turn. One at a time each cost two round
// trips (read the record, run the script): two socket writes and two replies to parse per request,
// the sidecar's largest per-report cost in a CPU profile of the full chain. Here the settlements
// of one turn share them:
//   - every record is read in one pipeline, then every script runs in one pipeline;
//   - the leased requests of one lease (same tenant, same lease, same second) settle with ONE
//     script call (SETTLE_LEASE_LUA) that applies the sum of their corrections, each clamped on its
//     own exactly as SETTLE_LUA clamps it. Counters move by the same amounts as one call per
//     request would move them (the increments add up; no field appears or disappears between them).
// Reservations (one request each) keep their own SETTLE_LUA call, in the shared pipeline.
import type { ChainableCommander } from "ioredis";
import { APPLY_LUA } from "./quota-lua.ts";
import { counterKeys, LEASED_USE, leaseKey, reservationKey, type SettleInput, type SettleResult } from "./quota-store.ts";

/**
 * SETTLE_LEASE (every leased request of one lease settled in one turn)
 * KEYS: 1 lease record, then per scope: minute hash, day hash, month hash (from the record).
 * ARGV: 1 now ms, 2..5 the record's s, d, m, k as read by the caller, then per leased request 4
 *       values: release (1|0), actual tokens, actual cost µ$, tokens the filter counted against the
 *       lease for it.
 * Reply: 0 no record, -1 the record changed since it was read (read again), 1 applied.
 * Per request the same correction as SETTLE_LUA's leased branch; applied once, as their sum.
 */
export const SETTLE_LEASE_LUA = APPLY_LUA + `
local f = redis.call('HMGET', KEYS[1], 's', 'd', 'm', 'k', 'tok')
if not f[1] then return 0 end
if f[1] ~= ARGV[2] or f[2] ~= ARGV[3] or f[3] ~= ARGV[4] or f[4] ~= ARGV[5] then return -1 end
local held = tonumber(f[5])
local dr, dt, du = 0, 0, 0
for i = 6, #ARGV, 4 do
  -- Never more than the lease held: a report cannot take back more than was counted.
  local counted = math.min(tonumber(ARGV[i + 3]), held)
  if ARGV[i] == '1' then
    dr, dt = dr - 1, dt - counted
  else
    dt, du = dt + tonumber(ARGV[i + 1]) - counted, du + tonumber(ARGV[i + 2])
  end
end
apply(tonumber(f[1]), math.floor(tonumber(ARGV[1]) / 1000), dr, dt, du)
return 1
`;

/** A Lua script by SHA-1 (quota-redis.ts Script). */
export interface NamedScript {
  readonly sha: string;
  readonly source: string;
}

/** What the batcher needs of an ioredis client (an interface, so tests can count the calls). */
export interface SettleRedis {
  pipeline(): ChainableCommander;
  script(subcommand: "LOAD", source: string): Promise<unknown>;
}

interface Waiter {
  input: SettleInput;
  resolve: (result: SettleResult) => void;
  reject: (err: unknown) => void;
}

/** Settlements applied by one script call: one reservation, or the leased requests of one lease. */
interface Group {
  tenantId: string;
  recordKey: string;
  /** The lease's script (true) or SETTLE_LUA for one reservation. */
  leased: boolean;
  nowMs: number;
  waiters: Waiter[];
}

/** A group whose record changed between read and script is read again once (as one at a time did). */
const ATTEMPTS = 2;

/**
 * Returns settle(): resolves like QuotaStore.settle, but the settlements asked for in one turn
 * are applied together (see the top of this file). A failed command rejects the settlements of its
 * group only.
 */
export function createSettleBatcher(
  redis: SettleRedis,
  prefix: string,
  scripts: { settle: NamedScript; lease: NamedScript },
): (input: SettleInput) => Promise<SettleResult> {
  let pending: Waiter[] = [];

  /** The groups of one turn's settlements, in arrival order. */
  const groupsOf = (waiters: Waiter[]): Group[] => {
    const groups: Group[] = [];
    const byLease = new Map<string, Group>();
    for (const w of waiters) {
      const { tenantId, reservationId, nowMs } = w.input;
      const use = LEASED_USE.exec(reservationId);
      if (!use) {
        groups.push({ tenantId, recordKey: reservationKey(prefix, tenantId, reservationId), leased: false, nowMs, waiters: [w] });
        continue;
      }
      // The same second: the script judges the rolling minute from one clock reading.
      const id = `${tenantId}\u0000${use[1]}\u0000${Math.floor(nowMs / 1000)}`;
      const g = byLease.get(id);
      if (g) g.waiters.push(w);
      else {
        const group: Group = { tenantId, recordKey: leaseKey(prefix, tenantId, use[1]!), leased: true, nowMs, waiters: [w] };
        byLease.set(id, group);
        groups.push(group);
      }
    }
    return groups;
  };

  const finish = (g: Group, reply: number) => {
    for (const w of g.waiters) {
      if (reply === 0) w.resolve("none");
      else if (g.leased) w.resolve(w.input.release ? "released" : "settled");
      else w.resolve(reply === 2 ? "released" : "settled");
    }
  };
  const fail = (g: Group, err: unknown) => {
    for (const w of g.waiters) w.reject(err);
  };

  /** attempt: reads so far of these groups' records; loaded: the scripts were loaded after a NOSCRIPT. */
  const attemptGroups = async (groups: Group[], attempt: number, loaded: boolean): Promise<void> => {
    // The script's keys come from the record, read first (Redis Cluster wants every key named up
    // front); the script checks the record is still the one read.
    const reads = redis.pipeline();
    for (const g of groups) reads.hmget(g.recordKey, "s", "d", "m", "k");
    const records = (await reads.exec()) ?? [];
    const evals = redis.pipeline();
    const sent: Group[] = [];
    groups.forEach((g, i) => {
      const [err, fields] = records[i] ?? [new Error("redis pipeline aborted"), null];
      if (err) return fail(g, err);
      const [s, d, m, k] = fields as (string | null)[];
      if (s == null || d == null || m == null || k == null) return finish(g, 0);
      const keys = [g.recordKey, ...counterKeys(prefix, g.tenantId, "", d, m)];
      if (k !== "") keys.push(...counterKeys(prefix, g.tenantId, k, d, m));
      if (g.leased) {
        const args: (string | number)[] = [g.nowMs, s, d, m, k];
        for (const { input } of g.waiters) args.push(input.release ? 1 : 0, input.tokens, input.costMicro, LEASED_USE.exec(input.reservationId)![2]!);
        evals.evalsha(scripts.lease.sha, keys.length, ...keys, ...args);
      } else {
        const { input } = g.waiters[0]!;
        evals.evalsha(scripts.settle.sha, keys.length, ...keys, input.nowMs, input.release ? 1 : 0, input.tokens, input.costMicro, s, d, m, k);
      }
      sent.push(g);
    });
    if (sent.length === 0) return;
    const replies = (await evals.exec()) ?? [];
    const changed: Group[] = [];
    const unloaded: Group[] = [];
    sent.forEach((g, i) => {
      const [err, reply] = replies[i] ?? [new Error("redis pipeline aborted"), null];
      if (err) {
        // Redis restarted or flushed its scripts: load them and run this group once more.
        if (err instanceof Error && err.message.startsWith("NOSCRIPT") && !loaded) unloaded.push(g);
        else fail(g, err);
        return;
      }
      const n = Number(reply);
      // -1: another settlement of the same report won the race; the next read finds none.
      if (n === -1) {
        if (attempt + 1 < ATTEMPTS) changed.push(g);
        else finish(g, 0);
        return;
      }
      finish(g, n);
    });
    if (unloaded.length > 0) {
      await redis.script("LOAD", scripts.settle.source);
      await redis.script("LOAD", scripts.lease.source);
    }
    await Promise.all([
      changed.length > 0 ? run(changed, attempt + 1, loaded) : undefined,
      unloaded.length > 0 ? run(unloaded, attempt, true) : undefined,
    ]);
  };
  /** Never rejects: a whole pipeline or SCRIPT LOAD failing fails the settlements not yet answered. */
  const run = (groups: Group[], attempt: number, loaded: boolean): Promise<void> =>
    attemptGroups(groups, attempt, loaded).catch((err: unknown) => {
      for (const g of groups) fail(g, err);
    });

  const flush = () => {
    const waiters = pending;
    pending = [];
    void run(groupsOf(waiters), 0, false);
  };

  return (input) =>
    new Promise<SettleResult>((resolve, reject) => {
      // setImmediate, not a microtask: the settlements of one acknowledged INSERT reach here over
      // several microtask hops each; the turn ends only after all of them.
      if (pending.length === 0) setImmediate(flush);
      pending.push({ input, resolve, reject });
    });
}
