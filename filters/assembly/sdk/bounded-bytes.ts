// A byte buffer that keeps at most `max` bytes and remembers whether more were offered: the audit
// copies of request and response bodies (usage and redact modules), which must never grow with
// the body.
export class BoundedBytes {
  private buf: ArrayBuffer = new ArrayBuffer(0);
  len: i32 = 0;
  /** More bytes were offered than kept. */
  truncated: bool = false;

  constructor(public max: i32) {}

  /** Appends up to the bound `n` bytes at `ptr` (inside a live buffer the caller holds). */
  add(ptr: usize, n: i32): void {
    if (n <= 0) return;
    let take = n;
    if (this.len + take > this.max) { take = this.max - this.len; this.truncated = true; }
    if (take <= 0) return;
    if (this.len + take > this.buf.byteLength) {
      let cap = this.buf.byteLength < 4096 ? 4096 : this.buf.byteLength * 2;
      while (cap < this.len + take) cap *= 2;
      if (cap > this.max) cap = this.max;
      const next = new ArrayBuffer(cap);
      // Safe: both are live ArrayBuffers and `len` bytes lie within the old one.
      memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.len);
      this.buf = next;
    }
    memory.copy(changetype<usize>(this.buf) + <usize>this.len, ptr, <usize>take);
    this.len += take;
  }

  addBuffer(b: ArrayBuffer): void { this.add(changetype<usize>(b), b.byteLength); }

  /** A copy of the bytes kept. */
  toBuffer(): ArrayBuffer { return this.buf.slice(0, this.len); }
}
