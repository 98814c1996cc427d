// The per-VM (per Envoy worker) cache of sidecar answers, so a warm key costs no round trip.
// Keyed by provider and the exact key presented: answers differ per provider (policy, credential),
// and an exact match can never hand one tenant's answer to another key. Each entry lives as long
// as the sidecar allowed (cache_ttl_ms, ≤ 2 s so revocations reach every replica in time).
//
// Refreshed ahead: once an entry has lived half its TTL, the next request that uses it also asks
// the sidecar again in the background (CacheEntry.claimRefresh, once per entry), so a key in steady use never
// expires under load and no request waits for the answer that replaces it. The refresh does not
// lengthen the old entry: revocations still reach the VM within the same bound.
//
// Not shared across workers through proxy-wasm shared data on purpose: the ABI has no delete and
// no TTL there, so entries for a stream of random (hostile) keys would grow without bound in every
// Envoy process; see docs/decisions/0003-auth-decision-cache.md.
import { AuthorizeResponse } from "./authorize-pb";

export class CacheEntry {
  /** Set once a background refresh was started for this entry (at most one per entry). */
  refreshing: bool = false;
  constructor(public answer: AuthorizeResponse, public refreshAtMs: u64, public expiresAtMs: u64) {}

  /**
   * True once for a live entry past half its TTL: the caller then asks the sidecar again in the
   * background and puts the answer. A refresh that fails leaves the entry to expire as usual.
   */
  claimRefresh(nowMs: u64): bool {
    if (this.refreshing || nowMs < this.refreshAtMs || this.expiresAtMs <= nowMs) return false;
    this.refreshing = true;
    return true;
  }
}

export class DecisionCache {
  private entries: Map<string, CacheEntry> = new Map<string, CacheEntry>();

  constructor(public maxEntries: i32) {}

  static keyOf(provider: string, apiKey: string): string {
    return provider + "\n" + apiKey;
  }

  /** The live entry, or null when absent or expired (an expired entry is dropped). One lookup per request. */
  find(key: string, nowMs: u64): CacheEntry | null {
    if (!this.entries.has(key)) return null;
    const e = this.entries.get(key);
    if (e.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return null;
    }
    return e;
  }

  /** The cached answer, or null when absent or expired (an expired entry is dropped). */
  get(key: string, nowMs: u64): AuthorizeResponse | null {
    const e = this.find(key, nowMs);
    return e == null ? null : e.answer;
  }

  put(key: string, answer: AuthorizeResponse, ttlMs: u32, nowMs: u64): void {
    if (ttlMs == 0 || this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.evict(nowMs);
    this.entries.set(key, new CacheEntry(answer, nowMs + <u64>(ttlMs / 2), nowMs + <u64>ttlMs));
  }

  get size(): i32 { return this.entries.size; }

  /** Drops expired entries; if the cache is still full (a flood of distinct keys), starts over. */
  private evict(nowMs: u64): void {
    const keys = this.entries.keys();
    for (let i = 0; i < keys.length; i++) {
      if (this.entries.get(keys[i]).expiresAtMs <= nowMs) this.entries.delete(keys[i]);
    }
    if (this.entries.size >= this.maxEntries) this.entries.clear();
  }
}
