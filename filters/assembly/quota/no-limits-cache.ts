// Per-worker memory of "this tenant and key have no limit at all", for as long as the sidecar
// allowed (ReserveResponse.no_limits_ttl_ms, kept short so a new limit reaches every replica
// fast): unlimited tenants then cost no Reserve round trip. Per worker, not proxy-wasm shared
// data, for the reason the auth cache gives (docs/decisions/0003-auth-decision-cache.md): shared
// data has no delete or TTL, so it could only grow.
export class NoLimitsCache {
  private expiresAt: Map<string, u64> = new Map<string, u64>();

  constructor(public maxEntries: i32) {}

  static keyOf(tenantId: string, keyId: string): string { return tenantId + "\n" + keyId; }

  has(key: string, nowMs: u64): bool {
    if (!this.expiresAt.has(key)) return false;
    if (this.expiresAt.get(key) > nowMs) return true;
    this.expiresAt.delete(key);
    return false;
  }

  put(key: string, ttlMs: u32, nowMs: u64): void {
    if (ttlMs == 0 || this.maxEntries <= 0) return;
    // Tenants and keys are few and the entries short-lived: when full, starting over is enough.
    if (this.expiresAt.size >= this.maxEntries && !this.expiresAt.has(key)) this.expiresAt.clear();
    this.expiresAt.set(key, nowMs + <u64>ttlMs);
  }

  /** A limited answer for this tenant and key: forget it at once. */
  forget(key: string): void { this.expiresAt.delete(key); }

  get size(): i32 { return this.expiresAt.size; }
}
