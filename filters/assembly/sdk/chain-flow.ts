// One direction (request or response) of one stream through a module chain (chain.ts): how far
// each module got with the headers, the body bytes and the trailers, by the module's position in
// that direction's order. The chain's pump reads and advances it; the body accounting here is what
// lets a module that passed a chunk see only the bytes after it, and a resized chunk move what
// later modules see.

/** One direction of one stream through the modules, by position in that direction's order. */
export class Flow {
  headersArrived: bool = false;
  headersEos: bool = false;
  headerCount: u32 = 0;
  trailersArrived: bool = false;
  trailerCount: u32 = 0;
  /** Positions that let the headers through; the module at this position holds them. */
  headersPassed: i32 = 0;
  /** Size of the body buffer Envoy holds for the chain, as its last body callback reported it. */
  buffered: u32 = 0;
  dataEos: bool = false;
  /** The chain answered Envoy with a stop that only a resume on the host releases. */
  holding: bool = false;
  /** A module answered locally or dropped the body: nothing more flows this way. */
  stopped: bool = false;
  given: StaticArray<bool>;
  /** Bytes of the buffer each module let through, and was shown. */
  passed: StaticArray<u32>;
  shown: StaticArray<u32>;
  eosShown: StaticArray<bool>;
  eosPassed: StaticArray<bool>;
  trailersGiven: StaticArray<bool>;
  trailersPassed: StaticArray<bool>;

  constructor(public n: i32) {
    this.given = new StaticArray<bool>(n);
    this.passed = new StaticArray<u32>(n);
    this.shown = new StaticArray<u32>(n);
    this.eosShown = new StaticArray<bool>(n);
    this.eosPassed = new StaticArray<bool>(n);
    this.trailersGiven = new StaticArray<bool>(n);
    this.trailersPassed = new StaticArray<bool>(n);
  }

  /** Envoy sent the buffer on: the next bytes start a new one. */
  drained(): void {
    this.buffered = 0;
    for (let p = 0; p < this.n; p++) {
      this.passed[p] = 0;
      this.shown[p] = 0;
    }
  }

  /** What module `p` may see: the bytes the module before it let through (the first: all). */
  avail(p: i32): u32 { return p == 0 ? this.buffered : this.passed[p - 1]; }

  /**
   * Module `p` replaced `length` bytes at the start of its window with `newLength` bytes: every
   * position from its window's end on moves by the difference (the bytes earlier modules passed
   * or hold, and the buffer's size).
   */
  resized(p: i32, length: u32, newLength: u32): void {
    const start = this.passed[p];
    const end = this.avail(p);
    const window = end > start ? end - start : 0;
    const replaced = length < window ? length : window;
    const delta = <i64>newLength - <i64>replaced;
    if (delta == 0) return;
    this.buffered = <u32>(<i64>this.buffered + delta);
    if (this.shown[p] >= end) this.shown[p] = <u32>(<i64>this.shown[p] + delta);
    for (let q = 0; q < p; q++) {
      this.passed[q] = <u32>(<i64>this.passed[q] + delta);
      this.shown[q] = <u32>(<i64>this.shown[q] + delta);
    }
  }

  /** The last module let through everything that arrived. */
  complete(): bool {
    const last = this.n - 1;
    if (this.headersPassed < this.n) return false;
    if (this.trailersArrived && !this.trailersPassed[last]) return false;
    if (this.headersEos) return true;
    return this.passed[last] == this.buffered && this.eosPassed[last] == this.dataEos;
  }
}
