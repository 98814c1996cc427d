// Leases held by this worker VM (docs/decisions/0004-quota-hot-path.md): per tenant and key, a
// block of requests and tokens the sidecar granted (and already counted in Redis) that this VM may
// admit without a Reserve call until it expires. Per worker, not proxy-wasm shared data: spending a
// lease must be a plain decrement, and shared data has no atomic decrement across workers.
// A lease that expires, or is left behind by a newer one, while units are left goes to `returns`;
// the root context gives those back to the sidecar (ReturnLease) on its next tick, so counters end
// exact. When half of a lease is spent the root asks for the next one in the background (a renewal,
// ReserveRequest.lease_only): requests keep spending the rest meanwhile and never wait for it.
// Leases are sized to the pair's traffic (wanted): a renewal asks for what the pair admits in half a
// lease's lifetime at the rate it spends the current one, so a busy pair renews about twice per
// lifetime, whatever its rate, and a quiet one holds only small leases.
import { RateLimits } from "./reserve-pb";

export class Lease {
  /** What was granted, to see when the lease runs low. */
  grantedRequests: u64 = 0;
  grantedTokens: u64 = 0;
  /** Epoch ms of the first request spent on it (0 = none yet): a queued lease's rate starts there. */
  startedAt: u64 = 0;

  constructor(
    /** 128 random bits, hex: names the lease record; never shown to clients. */
    public id: string,
    public tenantId: string,
    /** What is left to spend. */
    public requests: u64,
    public tokens: u64,
    /** Epoch ms (host clock) after which the lease is not spent any more. */
    public expiresAt: u64,
    /** The answer that granted it: its remaining counts the whole lease as used. */
    public limits: RateLimits,
    /** Lifetime granted, ms: a renewal sizes the next lease on it. */
    public ttlMs: u64 = 0,
  ) {
    this.grantedRequests = requests;
    this.grantedTokens = tokens;
  }

  /**
   * Half or less left (of requests or of tokens): time to ask for the next one. Half, not less: on
   * a loaded host a Reserve can take tens of ms, and what is left must carry the arrivals until the
   * new lease comes (a quarter left ran out often in a 1000 RPS probe). The rest is spent before
   * the next lease, so a renewal gives nothing back.
   */
  get low(): bool {
    return this.requests * 2 <= this.grantedRequests || this.tokens * 2 <= this.grantedTokens;
  }
}

/** What a lease ask wants to hold (ReserveRequest.lease_*_wanted); 0 = no estimate. */
export class LeaseWant {
  constructor(public requests: u64, public tokens: u64) {}
}

/**
 * Requests a pair's first lease asks for (no rate seen yet): small enough that a pair seen once
 * holds little, large enough to measure its rate on.
 */
export const FIRST_LEASE_REQUESTS: u64 = 32;

/** The fewest requests a renewal asks for: the sidecar's smallest lease (LEASE_MIN_REQUESTS). */
export const MIN_LEASE_REQUESTS: u64 = 4;

/** Bound on leases waiting to be given back (a sidecar unreachable for long): older ones are dropped. */
const MAX_RETURNS: i32 = 1000;

export class LeaseTable {
  /**
   * Per pair, the leases held, oldest first: the one being spent and, once a renewal answered, the
   * next. Spending the older one to its end before the next means a renewal returns nothing.
   */
  private leases: Map<string, Array<Lease>> = new Map<string, Array<Lease>>();
  /** Leases with unused units, to give back once. */
  returns: Array<Lease> = new Array<Lease>(0);
  /** Returns dropped because too many were waiting (their units stay counted: conservative). */
  dropped: u64 = 0;
  /**
   * Pairs with a Reserve asking for a lease in flight, until when (epoch ms: the call's deadline,
   * so an ask whose answer never comes does not block asking forever). One ask at a time per pair:
   * when a lease runs out under load, every request arriving before the new one would otherwise
   * ask too, and all but one of those leases would only be granted to be given back.
   */
  private asking: Map<string, u64> = new Map<string, u64>();

  /**
   * Spends one request and `tokens` of the pair's lease and returns it, or null when none is live
   * and fits (expired or spent ones are retired on the way; one that cannot fit this request stays
   * while it is the only one, for smaller requests).
   */
  take(key: string, tokens: u64, nowMs: u64): Lease | null {
    if (!this.leases.has(key)) return null;
    const held = this.leases.get(key);
    while (held.length > 0) {
      const l = held[0];
      const live = l.expiresAt > nowMs;
      if (live && l.requests >= 1 && l.tokens >= tokens) {
        if (l.startedAt == 0) l.startedAt = nowMs;
        l.requests -= 1;
        l.tokens -= tokens;
        return l;
      }
      if (live && held.length == 1) return null;
      this.retire(held.shift());
    }
    this.leases.delete(key);
    return null;
  }

  /**
   * Whether the pair should ask for its next lease now, in the background: it holds exactly one,
   * that one is half spent or less is left, and no ask is in flight. The ask is a renewal, so no
   * request waits for it: they go on spending the rest meanwhile.
   */
  shouldRenew(key: string, nowMs: u64): bool {
    if (!this.leases.has(key)) return false;
    const held = this.leases.get(key);
    return held.length == 1 && held[0].low && this.mayAsk(key, nowMs);
  }

  /**
   * What the pair's renewal should ask for: what it spends in half a lifetime at the rate it spends
   * the lease it holds (since that lease's first request), at least MIN_LEASE_REQUESTS requests
   * and tokens for as many requests like the one asking (`tokens`). A floor any higher would make a
   * lease outlive its lifetime at low rates, so its successor would expire before it is half spent. Half: the next lease waits behind what is left of this one and
   * must be half spent (the next renewal) before it expires. Without a lease to measure on, the
   * first ask's size.
   */
  wanted(key: string, tokens: u64, nowMs: u64): LeaseWant {
    const first = new LeaseWant(FIRST_LEASE_REQUESTS, FIRST_LEASE_REQUESTS * tokens);
    if (!this.leases.has(key)) return first;
    const held = this.leases.get(key);
    if (held.length == 0) return first;
    const l = held[0];
    const spentRequests = l.grantedRequests - l.requests;
    if (l.startedAt == 0 || spentRequests == 0 || l.ttlMs == 0) return first;
    const elapsed: u64 = nowMs > l.startedAt ? nowMs - l.startedAt : 1;
    const requests = ceilDiv(spentRequests * l.ttlMs, 2 * elapsed);
    const spentTokens = l.grantedTokens - l.tokens;
    const wantTokens = ceilDiv(spentTokens * l.ttlMs, 2 * elapsed);
    return new LeaseWant(max<u64>(requests, MIN_LEASE_REQUESTS), max<u64>(wantTokens, MIN_LEASE_REQUESTS * tokens));
  }

  /**
   * What the pair may still admit, for the x-ratelimit-* headers: the newest answer's remaining
   * (which counted every lease held as used) plus what is left of every lease held.
   */
  leftRequests(key: string): u64 { return this.sum(key, true); }
  leftTokens(key: string): u64 { return this.sum(key, false); }

  /** The newest lease of the pair (its answer is the freshest view of the counters), or null. */
  newest(key: string): Lease | null {
    if (!this.leases.has(key)) return null;
    const held = this.leases.get(key);
    return held.length == 0 ? null : held[held.length - 1];
  }

  /** Holds a new lease for the pair, after those it holds (at most two are held: the oldest is given back). */
  put(key: string, lease: Lease): void {
    if (!this.leases.has(key)) this.leases.set(key, new Array<Lease>(0));
    const held = this.leases.get(key);
    while (held.length >= 2) this.retire(held.shift());
    held.push(lease);
  }

  /** Retires every expired lease (the root's tick). */
  expire(nowMs: u64): void {
    const keys = this.leases.keys();
    for (let i = 0; i < keys.length; i++) {
      const held = this.leases.get(keys[i]);
      for (let j = 0; j < held.length; ) {
        if (held[j].expiresAt <= nowMs) this.retire(held.splice(j, 1)[0]);
        else j++;
      }
      if (held.length == 0) this.leases.delete(keys[i]);
    }
  }

  /** Whether a request of the pair should ask for a lease (none asked for, or that ask timed out). */
  mayAsk(key: string, nowMs: u64): bool {
    return !this.asking.has(key) || this.asking.get(key) <= nowMs;
  }

  asked(key: string, untilMs: u64): void { this.asking.set(key, untilMs); }

  /** The ask's answer came (with or without a lease). */
  answered(key: string): void { this.asking.delete(key); }

  /** Leases held, over every pair. */
  get size(): i32 {
    let n = 0;
    const keys = this.leases.keys();
    for (let i = 0; i < keys.length; i++) n += this.leases.get(keys[i]).length;
    return n;
  }

  private sum(key: string, requests: bool): u64 {
    if (!this.leases.has(key)) return 0;
    const held = this.leases.get(key);
    let n: u64 = 0;
    for (let i = 0; i < held.length; i++) n += requests ? held[i].requests : held[i].tokens;
    return n;
  }

  private retire(l: Lease): void {
    if (l.requests == 0 && l.tokens == 0) return;
    if (this.returns.length >= MAX_RETURNS) {
      this.returns.shift();
      this.dropped++;
    }
    this.returns.push(l);
  }
}

function ceilDiv(a: u64, b: u64): u64 { return (a + b - 1) / b; }
