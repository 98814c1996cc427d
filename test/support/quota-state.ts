// What the quota counters of a tenant or key hold in Redis right now, read the way the sidecar
// reads them (quota-redis.ts layout, quota-usage.ts arithmetic). For tests that compare response
// headers or Reserve answers with the shared state, e.g. the e2e gateways: pass the Redis key
// prefix their sidecars use (`storeKeyPrefix`, "leash:" by default).
import type { Redis } from "ioredis";
import { calendarWindows, type ScopeUsage } from "../../sidecar-services/src/quota-windows.ts";
import { counterKeys, leaseKey, reservationKey } from "../../sidecar-services/src/quota-store.ts";
import { minuteUsage, scopeUsage } from "../../sidecar-services/src/quota-usage.ts";

export type { ScopeUsage };

/**
 * Counters of one scope at `nowMs` (keyId "" = the tenant's): requests and tokens in the rolling
 * minute (with ms until each is back to zero), requests, tokens and micro-dollars of the UTC day and month.
 */
export async function quotaState(redis: Redis, prefix: string, tenantId: string, keyId = "", nowMs = Date.now()): Promise<ScopeUsage> {
  const w = calendarWindows(nowMs);
  const [mk, dk, mok] = counterKeys(prefix, tenantId, keyId, w.day, w.month);
  const [minute, day, month] = await Promise.all([redis.hgetall(mk), redis.hmget(dk, "req", "tok", "usd"), redis.hmget(mok, "req", "tok", "usd")]);
  return scopeUsage(minuteUsage(minute, nowMs), day, month);
}

/** A reservation record by its reservation id (fields s, d, m, k, tok, usd), or null once settled / never made. */
export async function reservationRecord(redis: Redis, prefix: string, tenantId: string, reservationId: string): Promise<Record<string, string> | null> {
  const rec = await redis.hgetall(reservationKey(prefix, tenantId, reservationId));
  return Object.keys(rec).length === 0 ? null : rec;
}

/**
 * Reservation ids of a tenant's open reservations. End-to-end tests cannot know a request's
 * reservation id (the quota module makes it and only the sidecar sees it), so they wait for a
 * fresh tenant to have none open: every report settled.
 */
export async function openReservations(redis: Redis, prefix: string, tenantId: string): Promise<string[]> {
  return idsUnder(redis, reservationKey(prefix, tenantId, ""));
}

/** The ids after `base` of every key that starts with it (SCAN, not KEYS). */
async function idsUnder(redis: Redis, base: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${base}*`, "COUNT", 1000);
    cursor = next;
    for (const k of keys) ids.push(k.slice(base.length));
  } while (cursor !== "0");
  return ids;
}

/**
 * Lease ids of a tenant's leases not given back yet (records without `ret`). A lease's units are
 * counted at its grant; once every lease is returned (and every report settled) the counters hold
 * exactly what was used. A lease spent to its last request and token has nothing to give back and
 * stays "open" here: wait on this only where leased requests' estimates leave tokens over.
 */
export async function openLeases(redis: Redis, prefix: string, tenantId: string): Promise<string[]> {
  const ids = await idsUnder(redis, leaseKey(prefix, tenantId, ""));
  const returned = await Promise.all(ids.map((id) => redis.hexists(leaseKey(prefix, tenantId, id), "ret")));
  return ids.filter((_, i) => returned[i] === 0);
}
