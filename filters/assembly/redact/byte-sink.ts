// A growable byte buffer for rewritten bodies: the unchanged runs of the original body are copied
// in with memory.copy and the rewritten strings appended, so a rewrite is one linear pass. One
// sink per VM is reused across requests (a VM runs one callback at a time), so a busy worker does
// not allocate a new body-sized buffer per request.

export class ByteSink {
  private buf: ArrayBuffer = new ArrayBuffer(4096);
  len: i32 = 0;

  reset(): void { this.len = 0; }

  private ensure(extra: i32): void {
    const need = this.len + extra;
    if (need <= this.buf.byteLength) return;
    let cap = this.buf.byteLength * 2;
    while (cap < need) cap *= 2;
    const next = new ArrayBuffer(cap);
    // Safe: both regions are live ArrayBuffers and `len` bytes are within the old one.
    memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.len);
    this.buf = next;
  }

  writeByte(b: u32): void {
    this.ensure(1);
    store<u8>(changetype<usize>(this.buf) + <usize>this.len, <u8>b);
    this.len++;
  }

  /**
   * Makes room for `extra` more bytes and returns the address where they go, for a writer that
   * stores bytes itself (one capacity check per string instead of one per byte); it then calls
   * commit() with the number it wrote. The address is valid until the next write.
   */
  reserve(extra: i32): usize {
    this.ensure(extra);
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  /** Counts `n` bytes stored at the address reserve() returned (n <= what was reserved). */
  commit(n: i32): void { this.len += n; }

  /** Copies `n` bytes from `ptr` (inside a live buffer the caller holds). */
  writeBytes(ptr: usize, n: i32): void {
    if (n <= 0) return;
    this.ensure(n);
    memory.copy(changetype<usize>(this.buf) + <usize>this.len, ptr, <usize>n);
    this.len += n;
  }

  writeAscii(s: string): void {
    this.ensure(s.length);
    const p = changetype<usize>(this.buf) + <usize>this.len;
    for (let i = 0; i < s.length; i++) store<u8>(p + <usize>i, <u8>s.charCodeAt(i));
    this.len += s.length;
  }

  /** Address of the bytes written so far; valid until the next write (which may move them). */
  get ptr(): usize { return changetype<usize>(this.buf); }

  /** Drops the first `n` bytes, keeping the rest at the front. */
  dropFront(n: i32): void {
    if (n <= 0) return;
    if (n >= this.len) { this.len = 0; return; }
    // memory.copy is a memmove: the overlapping move is safe.
    memory.copy(changetype<usize>(this.buf), changetype<usize>(this.buf) + <usize>n, <usize>(this.len - n));
    this.len -= n;
  }

  /** A copy of the bytes written so far. */
  toBuffer(): ArrayBuffer {
    const out = new ArrayBuffer(this.len);
    memory.copy(changetype<usize>(out), changetype<usize>(this.buf), <usize>this.len);
    return out;
  }
}
