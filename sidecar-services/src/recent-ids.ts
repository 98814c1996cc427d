// The request ids the usage recorder has seen lately (usage.ts): a retried report (same request id)
// is written again (the ledger ignores it) but not counted twice in metrics and logs, as long as
// the first one is among the last `limit` seen by this process.

/**
 * Remembers the last `limit` keys in insertion order, in O(1) per key: a Set for the lookups and a
 * ring of the same keys for the order, so the oldest is deleted by name. (Deleting a Set's first
 * entry through `values().next()` is not O(1) in V8: deleted entries stay as holes at the front of
 * its table until the next rehash, and every such call steps over all of them. Once full, that cost
 * 5 to 40 µs per key at a limit of 50 000, growing with each key until the table was rebuilt.)
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly ring: string[] = [];
  /** Where the next key goes in `ring`; once the ring is full, the oldest key's slot. */
  private next = 0;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`RecentIds: limit must be a positive integer, got ${limit}`);
  }

  /** True if `id` was seen (it keeps its place); otherwise remembers it, forgetting the oldest when full. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    if (this.ring.length === this.limit) this.ids.delete(this.ring[this.next]!);
    this.ring[this.next] = id;
    this.next = this.next + 1 === this.limit ? 0 : this.next + 1;
    this.ids.add(id);
    return false;
  }

  /** Keys remembered now (at most `limit`). */
  get size(): number {
    return this.ids.size;
  }
}
