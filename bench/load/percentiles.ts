// Exact percentiles of one load point. Every latency is kept (a point is bounded to rate ×
// duration samples, a few hundred thousand at most), so nothing is lost to histogram buckets.

export interface Percentiles {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
function rank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index: number = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Percentiles of the first `count` values of `values` (sorted in place). All NaN when empty. */
export function percentiles(values: Float64Array, count: number = values.length): Percentiles {
  const sorted: Float64Array = values.subarray(0, count).sort();
  let sum: number = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  return {
    count: sorted.length,
    min: sorted.length > 0 ? sorted[0] : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    p50: rank(sorted, 50),
    p90: rank(sorted, 90),
    p95: rank(sorted, 95),
    p99: rank(sorted, 99),
    p999: rank(sorted, 99.9),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/** Median of a small list (the per-round values of one figure); NaN when empty. */
export function median(values: readonly number[]): number {
  const finite: number[] = values.filter((v: number) => Number.isFinite(v)).sort((a: number, b: number) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid: number = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}
