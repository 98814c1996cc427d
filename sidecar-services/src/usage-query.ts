// Usage and cost over a time range, grouped by tenant, key, model, provider or UTC day: the read side
// of usage_ledger (migration 0003) behind `GET /admin/v1/usage` and `bin/leash usage`.
//
// One parameterized statement. The time range is always the partition key range
// (`started_at >= $1 AND started_at < $2`), so PostgreSQL (and PGlite) only scan the months it
// covers; filters are added as further parameters, never concatenated. The grouping expression is
// picked from a fixed table, never built from input. Totals come from the same scan
// (GROUPING SETS), so they always agree with the rows.
//
// Numbers: token and request counts are sums of bigints. They are answered as JSON numbers while
// they are exact in a double (≤ 2^53 − 1) and as decimal strings beyond. cost_usd is the sum of the
// priced rows only (numeric, exact in SQL, answered as a JSON number rounded to 9 decimals); rows
// whose model is not priced (cost_usd NULL) are counted in `unpriced_requests`, never as 0. A group
// with no priced row at all has `cost_usd: null`.
import type { Queryable } from "./db.ts";

export const USAGE_GROUP_BY = ["tenant", "key", "model", "provider", "day"] as const;
export type UsageGroupBy = (typeof USAGE_GROUP_BY)[number];

/** Longest time range of one query, in days. */
export const MAX_USAGE_RANGE_DAYS = 366;

/** What to aggregate. */
export interface UsageQuery {
  /** Inclusive lower bound. */
  from: Date;
  /** Exclusive upper bound. */
  to: Date;
  groupBy: UsageGroupBy;
  /** Exact-match filters; "" matches rows where the column is empty (e.g. unauthenticated requests). */
  tenantId?: string;
  keyId?: string;
  provider?: string;
  model?: string;
}

/** A count: a number while exact, a decimal string beyond 2^53 − 1. */
export type Count = number | string;

export interface UsageTotals {
  requests: Count;
  prompt_tokens: Count;
  completion_tokens: Count;
  cached_tokens: Count;
  /** Sum over the priced rows; null when no row of the group is priced. */
  cost_usd: number | null;
  /** Rows whose model is not in the price table (not included in cost_usd). */
  unpriced_requests: Count;
  /** Rows whose completion tokens were estimated by the gateway. */
  estimated_requests: Count;
  /** Rows with HTTP status >= 400. */
  errors: Count;
}

export interface UsageRow extends UsageTotals {
  /** The tenant id, key id, model, provider, or UTC day (YYYY-MM-DD). */
  group: string;
}

export interface UsageResult {
  from: string;
  to: string;
  group_by: UsageGroupBy;
  /** One per group with at least one row, ordered by group. */
  rows: UsageRow[];
  totals: UsageTotals;
}

/** Fixed SQL of each grouping; never derived from input. */
const GROUP_EXPR: Record<UsageGroupBy, string> = {
  tenant: "tenant_id",
  key: "key_id",
  model: "model",
  provider: "provider",
  day: "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
};

const FILTER_COLUMNS = [
  ["tenantId", "tenant_id"],
  ["keyId", "key_id"],
  ["provider", "provider"],
  ["model", "model"],
] as const;

/** The statement and its parameters (exported so tests can EXPLAIN it). */
export function usageSql(q: UsageQuery): { sql: string; params: string[] } {
  const g = GROUP_EXPR[q.groupBy];
  const params: string[] = [q.from.toISOString(), q.to.toISOString()];
  const where = ["started_at >= $1::timestamptz", "started_at < $2::timestamptz"];
  for (const [field, column] of FILTER_COLUMNS) {
    const v = q[field];
    if (v === undefined) continue;
    params.push(v);
    where.push(`${column} = $${params.length}::text`);
  }
  const sql = `SELECT ${g} AS grp,
    (grouping(${g}) = 1) AS is_total,
    count(*)::text AS requests,
    coalesce(sum(prompt_tokens), 0)::text AS prompt_tokens,
    coalesce(sum(completion_tokens), 0)::text AS completion_tokens,
    coalesce(sum(cached_tokens), 0)::text AS cached_tokens,
    sum(cost_usd)::text AS cost_usd,
    count(*) FILTER (WHERE cost_usd IS NULL)::text AS unpriced_requests,
    count(*) FILTER (WHERE estimated)::text AS estimated_requests,
    count(*) FILTER (WHERE status >= 400)::text AS errors
  FROM usage_ledger
  WHERE ${where.join(" AND ")}
  GROUP BY GROUPING SETS ((${g}), ())
  ORDER BY is_total, grp`;
  return { sql, params };
}

interface SqlRow {
  grp: string | null;
  is_total: boolean;
  requests: string;
  prompt_tokens: string;
  completion_tokens: string;
  cached_tokens: string;
  cost_usd: string | null;
  unpriced_requests: string;
  estimated_requests: string;
  errors: string;
}

/** A non-negative integer from SQL text: a number when exact, else the decimal string. */
export function count(text: string): Count {
  const n = BigInt(text);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function totalsOf(r: SqlRow): UsageTotals {
  return {
    requests: count(r.requests),
    prompt_tokens: count(r.prompt_tokens),
    completion_tokens: count(r.completion_tokens),
    cached_tokens: count(r.cached_tokens),
    cost_usd: r.cost_usd === null ? null : Math.round(Number(r.cost_usd) * 1e9) / 1e9,
    unpriced_requests: count(r.unpriced_requests),
    estimated_requests: count(r.estimated_requests),
    errors: count(r.errors),
  };
}

/** Runs the query. The caller validates the range (to > from, at most MAX_USAGE_RANGE_DAYS). */
export async function queryUsage(db: Queryable, q: UsageQuery): Promise<UsageResult> {
  const { sql, params } = usageSql(q);
  const res = await db.query<SqlRow>(sql, params);
  const rows: UsageRow[] = [];
  let totals: UsageTotals | undefined;
  for (const r of res.rows) {
    if (r.is_total) totals = totalsOf(r);
    else rows.push({ group: r.grp ?? "", ...totalsOf(r) });
  }
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    group_by: q.groupBy,
    rows,
    // The empty grouping set always yields a row; this fallback only guards a driver surprise.
    totals: totals ?? totalsOf({ grp: null, is_total: true, requests: "0", prompt_tokens: "0", completion_tokens: "0", cached_tokens: "0", cost_usd: null, unpriced_requests: "0", estimated_requests: "0", errors: "0" }),
  };
}
