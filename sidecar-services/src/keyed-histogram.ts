// A Prometheus histogram for the per-request path. prom-client's Histogram validates the label
// object, sorts and joins its keys into a hash, and looks buckets up by number-as-string on every
// observe(): about 2 µs each, and the usage recorder makes seven per request (the request's
// duration, the provider's latency, each module's time). This one keys a series by its label values
// in a fixed order and counts into an array, and hands out the series (`series(labels)`) for a
// caller to keep; the scrape output is what prom-client writes for the same histogram (its Registry
// formats both), so /metrics does not change.
import { KeyedMetric, type KeyedMetricOptions } from "./keyed-metric.ts";

/** One labelled series of a {@link KeyedHistogram}: keep it and observe into it directly. */
export class HistogramSeries {
  /** Observations per bucket, not cumulative; past the last bound only in `count`. */
  readonly counts: number[];
  sum: number = 0;
  count: number = 0;
  constructor(
    private readonly name: string,
    private readonly bounds: readonly number[],
    /** The series' labels as prom-client keeps them (shared by its bucket, sum and count lines). */
    readonly labels: Record<string, string>,
  ) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite value: ${value}`);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    if (i < b.length) this.counts[i]++;
    this.sum += value;
    this.count++;
  }
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

export interface KeyedHistogramOptions<L extends string> extends KeyedMetricOptions<L> {
  /** Upper bounds, ascending (+Inf is added). */
  buckets: readonly number[];
}

export class KeyedHistogram<L extends string> extends KeyedMetric<L, HistogramSeries> {
  readonly type = "histogram";
  private readonly bounds: readonly number[];

  constructor(opts: KeyedHistogramOptions<L>) {
    super(opts);
    this.bounds = opts.buckets;
    this.register(opts.registers);
  }

  protected newSeries(labels: Record<string, string>): HistogramSeries {
    return new HistogramSeries(this.name, this.bounds, labels);
  }

  /** Counts `value` for the series `labels`: a lookup per call; hot paths keep the series. */
  observe(labels: Readonly<Record<L, string>>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite value: ${value}`);
    this.series(labels).observe(value);
  }

  /** What the Registry formats for a scrape (prom-client's Histogram#getForPromString shape). */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ValueLine[] }> {
    const values: ValueLine[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.byKey.values()) {
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
}
