// A Prometheus histogram for the per-request path. prom-client's Histogram validates the label
// object, sorts and joins its keys into a hash, and looks buckets up by number-as-string on every
// observe(): about 2 µs each, and the usage recorder makes seven per request (the request's
// duration, the provider's latency, each module's time). This one keys a series by its label values
// in a fixed order and counts into an array; the scrape output is what prom-client writes for the
// same histogram (its Registry formats both), so /metrics does not change.
import type { Registry } from "prom-client";

interface Series {
  /** The series' labels as prom-client keeps them (shared by its bucket, sum and count lines). */
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative; past the last bound only in `count`. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** One value line of the scrape, in prom-client's shape (sharedLabels: the series' labels). */
interface ValueLine {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  /** Bucket lines carry prom-client's (absent) exemplar. */
  exemplar?: null;
}

export interface KeyedHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending (+Inf is added). */
  buckets: readonly number[];
  registers: Registry[];
}

export class KeyedHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(opts: KeyedHistogramOptions<L>) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames;
    this.bounds = opts.buckets;
    for (const r of opts.registers) r.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** Counts `value` for the series `labels` (every label name given, as a string). */
  observe(labels: Readonly<Record<L, string>>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite value: ${value}`);
    // Each value prefixed by its length: no two label sets share a key, whatever they contain.
    let key = "";
    for (const n of this.labelNames) key += `${labels[n].length}:${labels[n]}`;
    let s = this.series.get(key);
    if (s === undefined) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) own[n] = labels[n];
      s = { labels: own, counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    if (i < b.length) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** What the Registry formats for a scrape (prom-client's Histogram#getForPromString shape). */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ValueLine[] }> {
    const values: ValueLine[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({ labels: { le: this.bounds[i] }, sharedLabels: s.labels, value: acc, metricName: bucketName, exemplar: null });
      }
      values.push({ labels: { le: "+Inf" }, sharedLabels: s.labels, value: s.count, metricName: bucketName, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The same with each line's labels whole (prom-client's Histogram#get shape). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<Omit<ValueLine, "sharedLabels">> }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...line }) => ({ ...line, labels: { ...labels, ...sharedLabels } })) };
  }

  reset(): void {
    this.series.clear();
  }
}
