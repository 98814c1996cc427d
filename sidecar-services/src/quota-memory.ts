// QuotaStore in process memory, for the embedded mode (no redis_url: one sidecar, nothing to share).
// The same algorithm as the Lua scripts of quota-lua.ts, on a map of hashes with expiry, and the
// same key names; JavaScript runs each call to completion, so each operation is atomic here too.
// Expired hashes are dropped when touched and by a sweep every few thousand writes.
import {
  CHECKS,
  counterKeys,
  limitArgs,
  reservationKey,
  type QuotaStore,
  type ReservePlan,
  type ReserveResult,
  type SettleInput,
  type SettleResult,
} from "./quota-store.ts";
import { bucketTotal, liveBuckets, minuteUsage, retryRolling, scopeUsage } from "./quota-usage.ts";
import { calendarWindows, MINUTE_BUCKETS, secondsUntil, type ScopeUsage } from "./quota-windows.ts";

interface Hash {
  fields: Map<string, string>;
  /** Epoch ms. */
  expiresAt: number;
}

/** The same prefix as the Redis store's default, so both stores name keys alike. */
const PREFIX = "leash:";

export function createMemoryQuotaStore(): QuotaStore {
  const hashes = new Map<string, Hash>();
  let writes = 0;

  const get = (key: string, nowMs: number): Hash | undefined => {
    const h = hashes.get(key);
    if (h && h.expiresAt <= nowMs) {
      hashes.delete(key);
      return undefined;
    }
    return h;
  };
  const touch = (key: string, nowMs: number): Hash => {
    let h = get(key, nowMs);
    if (!h) hashes.set(key, (h = { fields: new Map(), expiresAt: Infinity }));
    if (++writes % 4096 === 0) for (const [k, v] of hashes) if (v.expiresAt <= nowMs) hashes.delete(k);
    return h;
  };
  const incr = (h: Hash, field: string, by: number) => h.fields.set(field, String(Number(h.fields.get(field) ?? 0) + by));
  const field = (h: Hash | undefined, f: string) => Number(h?.fields.get(f) ?? 0);
  const triple = (h: Hash | undefined) => [field(h, "req"), field(h, "tok"), field(h, "usd")];

  const read = (tenantId: string, keyId: string, nowMs: number): ScopeUsage => {
    const w = calendarWindows(nowMs);
    const [mk, dk, mok] = counterKeys(PREFIX, tenantId, keyId, w.day, w.month);
    const minute = Object.fromEntries(get(mk, nowMs)?.fields ?? []);
    return scopeUsage(minuteUsage(minute, nowMs), triple(get(dk, nowMs)), triple(get(mok, nowMs)));
  };

  return {
    kind: "memory",
    async reserve(plan: ReservePlan): Promise<ReserveResult> {
      const now = plan.nowMs;
      const nowS = Math.floor(now / 1000);
      const w = calendarWindows(now);
      const dayRetry = secondsUntil(w.dayEndMs, now);
      const monthRetry = secondsUntil(w.monthEndMs, now);
      const scopes = plan.keyId === "" ? [""] : ["", plan.keyId];
      let deny = 0;
      let retry = 0;
      scopes.forEach((keyId, s) => {
        const [mk, dk, mok] = counterKeys(PREFIX, plan.tenantId, keyId, w.day, w.month);
        const minute = get(mk, now);
        const stale: string[] = [];
        const b = liveBuckets(Object.fromEntries(minute?.fields ?? []), now, stale);
        for (const f of stale) minute!.fields.delete(f);
        const rn = bucketTotal(b.requests, now).total;
        const tn = bucketTotal(b.tokens, now).total;
        const [, dtok, dusd] = triple(get(dk, now));
        const [, mtok, musd] = triple(get(mok, now));
        const [rpm, tpm, tpd, tpmo, uday, umonth] = limitArgs(s === 0 ? plan.tenant : plan.key);
        const fail = (check: number, after: number) => {
          if (deny === 0) deny = s * 6 + check;
          retry = Math.max(retry, after);
        };
        if (rpm! > 0 && rn + 1 > rpm!) fail(1, retryRolling(b.requests, rn + 1 - rpm!, now));
        if (tpm! > 0 && tn + plan.tokens > tpm!) fail(2, retryRolling(b.tokens, tn + plan.tokens - tpm!, now));
        if (tpd! > 0 && dtok! + plan.tokens > tpd!) fail(3, dayRetry);
        if (tpmo! > 0 && mtok! + plan.tokens > tpmo!) fail(4, monthRetry);
        if (uday! > 0 && dusd! >= uday!) fail(5, dayRetry);
        if (umonth! > 0 && musd! >= umonth!) fail(6, monthRetry);
      });

      // A lease renewal counts nothing (and none is granted here, see below).
      if (deny === 0 && !plan.lease?.renewal) {
        const keep = plan.recordTtlS * 1000;
        for (const keyId of scopes) {
          const [mk, dk, mok] = counterKeys(PREFIX, plan.tenantId, keyId, w.day, w.month);
          const minute = touch(mk, now);
          incr(minute, `r${nowS}`, 1);
          if (plan.tokens > 0) incr(minute, `t${nowS}`, plan.tokens);
          minute.expiresAt = now + (MINUTE_BUCKETS + 1) * 1000;
          for (const [key, end] of [[dk, w.dayEndMs], [mok, w.monthEndMs]] as const) {
            const h = touch(key, now);
            incr(h, "req", 1);
            incr(h, "tok", plan.tokens);
            incr(h, "usd", plan.costMicro);
            h.expiresAt = end + keep;
          }
        }
        const recordKey = reservationKey(PREFIX, plan.tenantId, plan.reservationId);
        // Same rule as the Lua script: a repeated Reserve keeps the first record.
        if (!get(recordKey, now)) {
          const h = touch(recordKey, now);
          for (const [f, v] of Object.entries({ s: nowS, d: w.day, m: w.month, k: plan.keyId, tok: plan.tokens, usd: plan.costMicro })) {
            h.fields.set(f, String(v));
          }
          h.expiresAt = now + keep;
        }
      }
      return {
        allowed: deny === 0,
        deniedBy: deny === 0 ? null : CHECKS[deny - 1]!,
        retryAfterS: deny === 0 ? 0 : Math.max(1, retry),
        tenant: read(plan.tenantId, "", now),
        key: plan.keyId === "" ? null : read(plan.tenantId, plan.keyId, now),
        // One process, no replicas: leases would save no round trip here (the embedded mode has
        // no Redis), so none are granted and every request is decided exactly.
        lease: null,
      };
    },
    async settle(input: SettleInput): Promise<SettleResult> {
      const now = input.nowMs;
      const recordKey = reservationKey(PREFIX, input.tenantId, input.reservationId);
      const rec = get(recordKey, now);
      if (!rec) return "none";
      hashes.delete(recordKey);
      const f = (name: string) => rec.fields.get(name) ?? "";
      const sec = Number(f("s"));
      let dr = 0;
      let dt = input.tokens - Number(f("tok"));
      let du = input.costMicro - Number(f("usd"));
      let result: SettleResult = "settled";
      if (input.release) {
        [dr, dt, du, result] = [-1, -Number(f("tok")), -Number(f("usd")), "released"];
      }
      const scopes = f("k") === "" ? [""] : ["", f("k")];
      for (const keyId of scopes) {
        const [mk, dk, mok] = counterKeys(PREFIX, input.tenantId, keyId, f("d"), f("m"));
        const minute = get(mk, now);
        if (minute && sec >= Math.floor(now / 1000) - (MINUTE_BUCKETS - 1)) {
          if (dr !== 0 && minute.fields.has(`r${sec}`)) incr(minute, `r${sec}`, dr);
          if (dt !== 0 && minute.fields.has(`t${sec}`)) incr(minute, `t${sec}`, dt);
        }
        for (const key of [dk, mok]) {
          const h = get(key, now);
          if (!h) continue;
          incr(h, "req", dr);
          incr(h, "tok", dt);
          incr(h, "usd", du);
        }
      }
      return result;
    },
    // No lease is ever granted (see reserve), so there is none to give back; a leased usage report
    // finds no reservation record above and settles nothing.
    async returnLease() {
      return "none";
    },
    async read(tenantId, keyId, nowMs) {
      return read(tenantId, keyId, nowMs);
    },
    async close() {
      hashes.clear();
    },
  };
}
