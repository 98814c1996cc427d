// A Prometheus counter for the per-request path, the counterpart of KeyedHistogram. prom-client's
// Counter#inc validates the label object and sorts and joins its keys into a hash on every call,
// and the usage recorder makes four to six per request. Here a caller takes a series' handle once
// (`series(labels)`) and keeps it, so a request's increments allocate nothing; the scrape output is
// what prom-client writes for the same counter (its Registry formats both), so /metrics does not
// change.
import { KeyedMetric, type KeyedMetricOptions } from "./keyed-metric.ts";

/** Refuses what prom-client's Counter refuses: a value that is not finite, a decrease. */
function checkIncrement(value: number): void {
  if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
  if (value < 0) throw new Error("It is not possible to decrease a counter");
}

/** One labelled series of a {@link KeyedCounter}: keep it and increment it directly. */
export class CounterSeries {
  value: number = 0;
  constructor(
    /** The series' labels in the counter's label order (what the scrape prints). */
    readonly labels: Readonly<Record<string, string>>,
  ) {}

  /** Adds `value` (default 1), refusing what prom-client's Counter refuses. */
  inc(value: number = 1): void {
    checkIncrement(value);
    this.value += value;
  }
}

export class KeyedCounter<L extends string> extends KeyedMetric<L, CounterSeries> {
  readonly type = "counter";

  constructor(opts: KeyedMetricOptions<L>) {
    super(opts);
    this.register(opts.registers);
  }

  protected newSeries(labels: Record<string, string>): CounterSeries {
    return new CounterSeries(labels);
  }

  /**
   * Adds `value` (default 1) to the series `labels`: a lookup per call; hot paths keep the series.
   * A refused value creates no series, as with prom-client.
   */
  inc(labels: Readonly<Record<L, string>>, value: number = 1): void {
    checkIncrement(value);
    this.series(labels).value += value;
  }

  /** What the Registry formats for a scrape (prom-client's Counter#get shape), series in creation order. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ value: number; labels: Record<string, string> }> }> {
    const values: Array<{ value: number; labels: Record<string, string> }> = [];
    for (const s of this.byKey.values()) values.push({ value: s.value, labels: { ...s.labels } });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
