// The quota limits model: which limits a tenant or key may have, how they are stored, and how
// operator input becomes them. Tenant limits live in tenants.module_settings.quota (with the
// tenant's Redis fault policy, `on_store_failure`); key limits in api_keys.limits (migration 0002
// made that column for exactly this). One parser validates both, for the admin API and for what is
// read back from the database, so a hand-edited row cannot smuggle in a limit the API would refuse.

/** Limit fields in their stored/API spelling. Absent = no such limit. */
export interface QuotaLimits {
  /** Requests per rolling minute (60 one-second buckets). */
  rpm?: number;
  /** Tokens (prompt + completion) per rolling minute. */
  tpm?: number;
  /** Tokens per calendar day (UTC). */
  tpd?: number;
  /** Tokens per calendar month (UTC). */
  tpmo?: number;
  /** USD per calendar day (UTC), a decimal with at most 6 fraction digits. */
  usd_per_day?: number;
  /** USD per calendar month (UTC). */
  usd_per_month?: number;
}

/** What a tenant's Reserve does when Redis cannot be reached. */
export type StoreFailurePolicy = "closed" | "open";

/** A tenant's quota settings (module_settings.quota). */
export interface TenantQuotaSettings {
  limits: QuotaLimits;
  /** Default "closed": 503 quota.unavailable, nothing goes upstream. */
  on_store_failure: StoreFailurePolicy;
}

/** Every limit field, in check order (the first failing one names the denial). */
export const LIMIT_FIELDS = ["rpm", "tpm", "tpd", "tpmo", "usd_per_day", "usd_per_month"] as const;
export type LimitField = (typeof LIMIT_FIELDS)[number];

/** Integer limits: requests or tokens. */
const INTEGER_FIELDS: ReadonlySet<string> = new Set(["rpm", "tpm", "tpd", "tpmo"]);
/** Far above any real use, and small enough that every counter stays an exact double in Lua. */
export const MAX_COUNT_LIMIT = 1e12;
/** USD budgets: at most a million dollars, i.e. 10^12 micro-dollars. */
export const MAX_USD_LIMIT = 1_000_000;

/** Limits in the units the counters use; 0 = no limit. Budgets in micro-dollars. */
export interface ScopeLimits {
  rpm: number;
  tpm: number;
  tpd: number;
  tpmo: number;
  usdDayMicro: number;
  usdMonthMicro: number;
}

export const NO_LIMITS: ScopeLimits = { rpm: 0, tpm: 0, tpd: 0, tpmo: 0, usdDayMicro: 0, usdMonthMicro: 0 };

/** Bad limits: `field` names the offending field ("rpm", "on_store_failure", "quota.tpm"). */
export class QuotaLimitsError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = "QuotaLimitsError";
  }
}

/** USD as micro-dollars; exact for the ≤ 6 fraction digits the parser admits. */
export function usdToMicro(usd: number): number {
  return Math.round(usd * 1e6);
}

/**
 * Reads one limit value. `null` clears (returned as undefined); a number must be a positive
 * integer (requests, tokens) or a positive USD amount with at most 6 fraction digits.
 */
function readLimit(field: string, value: unknown, where: string): number | undefined {
  if (value === null) return undefined;
  const name = where + field;
  if (typeof value !== "number" || !Number.isFinite(value)) throw new QuotaLimitsError(name, "must be a number (or null to clear)");
  if (INTEGER_FIELDS.has(field)) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_COUNT_LIMIT) {
      throw new QuotaLimitsError(name, `must be an integer in 1..${MAX_COUNT_LIMIT}`);
    }
    return value;
  }
  if (value <= 0 || value > MAX_USD_LIMIT) throw new QuotaLimitsError(name, `must be a USD amount in (0, ${MAX_USD_LIMIT}]`);
  // Budgets are counted in micro-dollars: a finer amount would silently round.
  if (Math.abs(usdToMicro(value) - value * 1e6) > 1e-6) throw new QuotaLimitsError(name, "must have at most 6 decimal places");
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates a limits object ({"rpm": 60, "usd_per_day": 2.5}); unknown fields are refused. With
 * `extra`, those fields are allowed too and left to the caller. `null` values are dropped (they
 * mean "clear" in a patch).
 * @throws QuotaLimitsError naming the field.
 */
export function parseLimits(value: unknown, where = "", extra: readonly string[] = []): QuotaLimits {
  if (!isObject(value)) throw new QuotaLimitsError(where.replace(/\.$/, "") || "limits", "must be a JSON object");
  const out: QuotaLimits = {};
  for (const [field, v] of Object.entries(value)) {
    if (extra.includes(field)) continue;
    if (!(LIMIT_FIELDS as readonly string[]).includes(field)) {
      const shown = JSON.stringify(field.length > 64 ? field.slice(0, 64) + "…" : field);
      throw new QuotaLimitsError(where + shown, `unknown field (allowed: ${[...LIMIT_FIELDS, ...extra].join(", ")})`);
    }
    const n = readLimit(field, v, where);
    if (n !== undefined) out[field as LimitField] = n;
  }
  return out;
}

/** Validates `on_store_failure` ("closed" | "open"; absent/null = "closed"). */
export function parseStoreFailurePolicy(value: unknown, where = ""): StoreFailurePolicy {
  if (value === undefined || value === null) return "closed";
  if (value !== "closed" && value !== "open") throw new QuotaLimitsError(`${where}on_store_failure`, 'must be "closed" or "open"');
  return value;
}

/** Validates a tenant's stored quota settings (module_settings.quota); absent = no limits, closed. */
export function parseTenantQuota(value: unknown, where = "quota."): TenantQuotaSettings {
  if (value === undefined || value === null) return { limits: {}, on_store_failure: "closed" };
  const limits = parseLimits(value, where, ["on_store_failure"]);
  return { limits, on_store_failure: parseStoreFailurePolicy((value as Record<string, unknown>).on_store_failure, where) };
}

/** The stored form of tenant settings: limits and the policy side by side. */
export function tenantQuotaDocument(s: TenantQuotaSettings): Record<string, unknown> {
  return { ...s.limits, on_store_failure: s.on_store_failure };
}

/** Limits in counter units. */
export function scopeLimits(l: QuotaLimits): ScopeLimits {
  return {
    rpm: l.rpm ?? 0,
    tpm: l.tpm ?? 0,
    tpd: l.tpd ?? 0,
    tpmo: l.tpmo ?? 0,
    usdDayMicro: l.usd_per_day === undefined ? 0 : usdToMicro(l.usd_per_day),
    usdMonthMicro: l.usd_per_month === undefined ? 0 : usdToMicro(l.usd_per_month),
  };
}

/** True when `l` sets at least one limit. */
export function hasAnyLimit(l: ScopeLimits): boolean {
  return l.rpm > 0 || l.tpm > 0 || l.tpd > 0 || l.tpmo > 0 || l.usdDayMicro > 0 || l.usdMonthMicro > 0;
}
