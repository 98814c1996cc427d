// The per-VM (per Envoy worker) cache of sidecar answers, so a warm key costs no round trip.
// Keyed by provider and the exact key presented: answers differ per provider (policy, credential),
// and an exact match can never hand one tenant's answer to another key. Each entry lives as long
// as the sidecar allowed (cache_ttl_ms, ≤ 2 s so revocations reach every replica in time).
//
// Not shared across workers through proxy-wasm shared data on purpose: the ABI has no delete and
// no TTL there, so entries for a stream of random (hostile) keys would grow without bound in every
// Envoy process; see docs/decisions/0003-auth-decision-cache.md.
import { AuthorizeResponse } from "./authorize-pb";

class Entry {
  constructor(public answer: AuthorizeResponse, public expiresAtMs: u64) {}
}

export class DecisionCache {
  private entries: Map<string, Entry> = new Map<string, Entry>();

  constructor(public maxEntries: i32) {}

  static keyOf(provider: string, apiKey: string): string {
    return provider + "\n" + apiKey;
  }

  /** The cached answer, or null when absent or expired (an expired entry is dropped). */
  get(key: string, nowMs: u64): AuthorizeResponse | null {
    if (!this.entries.has(key)) return null;
    const e = this.entries.get(key);
    if (e.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return null;
    }
    return e.answer;
  }

  put(key: string, answer: AuthorizeResponse, ttlMs: u32, nowMs: u64): void {
    if (ttlMs == 0 || this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.evict(nowMs);
    this.entries.set(key, new Entry(answer, nowMs + <u64>ttlMs));
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
