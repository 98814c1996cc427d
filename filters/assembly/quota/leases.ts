// Leases held by this worker VM (docs/decisions/0004-quota-hot-path.md): per tenant and key, a
// block of requests and tokens the sidecar granted (and already counted in Redis) that this VM may
// admit without a Reserve call until it expires. Per worker, not proxy-wasm shared data: spending a
// lease must be a plain decrement, and shared data has no atomic decrement across workers.
// A lease that expires or is replaced while units are left goes to `returns`; the root context
// gives those back to the sidecar (ReturnLease) on its next tick, so counters end exact.
import { RateLimits } from "./reserve-pb";

export class Lease {
  /** What was granted, to see when the lease runs low. */
  grantedRequests: u64 = 0;
  grantedTokens: u64 = 0;

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
  ) {
    this.grantedRequests = requests;
    this.grantedTokens = tokens;
  }

  /**
   * Half or less left (of requests or of tokens): time to ask for the next one. Half, not less: on
   * a loaded host a Reserve can take tens of ms, and what is left must carry the arrivals until the
   * new lease comes (a quarter left ran out often in a 1000 RPS probe: 322 Reserves for 5000
   * requests, against 187 with half; the unused half comes back with ReturnLease).
   */
  get low(): bool {
    return this.requests * 2 <= this.grantedRequests || this.tokens * 2 <= this.grantedTokens;
  }
}

/** Bound on leases waiting to be given back (a sidecar unreachable for long): older ones are dropped. */
const MAX_RETURNS: i32 = 1000;

export class LeaseTable {
  private leases: Map<string, Lease> = new Map<string, Lease>();
  /** Leases with unused units, to give back once. */
  returns: Array<Lease> = new Array<Lease>(0);
  /** Returns dropped because too many were waiting (their units stay counted: conservative). */
  dropped: u64 = 0;
  /**
   * Pairs with a Reserve asking for a lease in flight, until when (epoch ms: the call's deadline,
   * so a stream that ended before its answer does not block asking forever). One ask at a time per
   * pair: when a lease runs out under load, every request arriving before the new one would
   * otherwise ask too, and all but one of those leases would only be granted to be given back.
   */
  private asking: Map<string, u64> = new Map<string, u64>();

  /**
   * Spends one request and `tokens` of the pair's lease and returns it, or null when there is
   * none that is live and fits (an expired one is retired on the way), or when this request is
   * the one to renew a lease running low.
   */
  take(key: string, tokens: u64, nowMs: u64): Lease | null {
    if (!this.leases.has(key)) return null;
    const l = this.leases.get(key);
    if (l.expiresAt <= nowMs) {
      this.retire(key, l);
      return null;
    }
    if (l.requests < 1 || l.tokens < tokens) return null;
    // Renew before running out: this request asks for the next lease (a Reserve) while the rest of
    // this one still serves the requests that arrive meanwhile, which would otherwise each make a
    // Reserve call of their own. The rest is given back when the new lease replaces it.
    if (l.low && this.mayAsk(key, nowMs)) return null;
    l.requests -= 1;
    l.tokens -= tokens;
    return l;
  }

  /** Holds a new lease for the pair; the one it replaces is given back. */
  put(key: string, lease: Lease): void {
    if (this.leases.has(key)) this.retire(key, this.leases.get(key));
    this.leases.set(key, lease);
  }

  /** Retires every expired lease (the root's tick). */
  expire(nowMs: u64): void {
    const keys = this.leases.keys();
    for (let i = 0; i < keys.length; i++) {
      const l = this.leases.get(keys[i]);
      if (l.expiresAt <= nowMs) this.retire(keys[i], l);
    }
  }

  /** Whether a request of the pair should ask for a lease (none asked for, or that ask timed out). */
  mayAsk(key: string, nowMs: u64): bool {
    return !this.asking.has(key) || this.asking.get(key) <= nowMs;
  }

  asked(key: string, untilMs: u64): void { this.asking.set(key, untilMs); }

  /** The ask's answer came (with or without a lease). */
  answered(key: string): void { this.asking.delete(key); }

  get size(): i32 { return this.leases.size; }

  private retire(key: string, l: Lease): void {
    this.leases.delete(key);
    if (l.requests == 0 && l.tokens == 0) return;
    if (this.returns.length >= MAX_RETURNS) {
      this.returns.shift();
      this.dropped++;
    }
    this.returns.push(l);
  }
}
