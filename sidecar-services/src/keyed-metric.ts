// What KeyedCounter and KeyedHistogram share: series kept by their label values in the metric's
// label order, handed out for callers to keep, registered with prom-client's Registry (which formats
// them as it formats its own), and forgotten on reset with a word to whoever kept them.
import type { Registry } from "prom-client";

export interface KeyedMetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

export abstract class KeyedMetric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = "sum";
  protected readonly labelNames: readonly L[];
  protected readonly byKey = new Map<string, S>();
  private readonly resetHooks: Array<() => void> = [];

  constructor(opts: KeyedMetricOptions<L>) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames;
  }

  /** Registers with `registers`: a subclass calls it once its own fields are set. */
  protected register(registers: readonly Registry[]): void {
    for (const r of registers) r.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** A new series for `labels` (the metric's label names in its order). */
  protected abstract newSeries(labels: Record<string, string>): S;

  /** The series of `labels` (every label name given), created the first time. */
  series(labels: Readonly<Record<L, string>>): S {
    // Each value prefixed by its length: no two label sets share a key, whatever they contain.
    let key = "";
    for (const n of this.labelNames) key += `${labels[n].length}:${labels[n]}`;
    let s = this.byKey.get(key);
    if (s === undefined) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) own[n] = labels[n];
      s = this.newSeries(own);
      this.byKey.set(key, s);
    }
    return s;
  }

  /** Calls `hook` after every reset(): a caller keeping series drops them there. */
  onReset(hook: () => void): void {
    this.resetHooks.push(hook);
  }

  /** Forgets every series (series taken before no longer count: see onReset). */
  reset(): void {
    this.byKey.clear();
    for (const hook of this.resetHooks) hook();
  }
}
