// Marshalling between the host and AssemblyScript's managed heap.
//
// The host returns data by calling our exported malloc (from @solo-io/proxy-runtime, which pins the
// new ArrayBuffer through the compat shim's __retain) and writing the pointer and size into two
// out-parameters. takeHostBuffer() turns that allocation back into an ordinary managed ArrayBuffer
// and unpins it, so the GC owns it from then on.

// Static (non-GC) words for the host to write pointers and sizes into. Safe to reuse: every host
// call that fills them is followed by takeHostBuffer()/loadU32() before any other host call.
const OUT_PTR: usize = memory.data(8);
const OUT_SIZE: usize = memory.data(8);
const OUT_U64: usize = memory.data(8);

export function outPtr(): usize { return OUT_PTR; }
export function outSize(): usize { return OUT_SIZE; }
export function outU64(): usize { return OUT_U64; }

export function resetOut(): void {
  store<usize>(OUT_PTR, 0);
  store<usize>(OUT_SIZE, 0);
}

/** Adopts the buffer the host just allocated through malloc (empty when the host wrote none). */
export function takeHostBuffer(): ArrayBuffer {
  const ptr = load<usize>(OUT_PTR);
  const size = load<usize>(OUT_SIZE);
  if (ptr == changetype<usize>(resultBuf)) {
    // Written into the result scratch (see malloc): bytes of their own for the caller.
    const copy = new ArrayBuffer(<i32>size);
    memory.copy(changetype<usize>(copy), ptr, size);
    return copy;
  }
  if (ptr == 0 || size == 0) {
    if (ptr != 0) __unpin(ptr);
    return new ArrayBuffer(0);
  }
  // malloc allocated exactly `size` bytes as an ArrayBuffer, so the pointer is a valid managed
  // ArrayBuffer of that length.
  const buf = changetype<ArrayBuffer>(ptr);
  __unpin(ptr);
  return buf;
}

export function loadU32(at: usize): u32 { return load<u32>(at); }

/** UTF-8 bytes of a string (the host ABI speaks bytes, AssemblyScript strings are UTF-16). */
export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

// ---- scratch for host-call arguments and results ---------------------------------------------
//
// Most host calls pass a name (and a value) the host copies before it returns, and most return a
// short value the module turns into a string at once. Encoding each argument into a new
// ArrayBuffer, and adopting each result as one, made two to four short-lived allocations per
// call: with a dozen calls per module per request, a large share of a module's own time went to
// the allocator and the collector. Arguments are encoded into one reused buffer instead, and a
// result the caller decodes at once is written by the host into another (see malloc below).
// Only for calls that cannot run module code before the host has read the arguments (headers,
// properties, logs): not for a local reply, a stream resume or a call-out.

/** UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const UTF8_PER_UNIT: i32 = 3;

let argBuf: ArrayBuffer = new ArrayBuffer(1024);
let argLenA: usize = 0;
let argLenB: usize = 0;

/** Encodes `a` and `b` into the argument scratch: then argA()/argLenA(), argB()/argLenB(). */
export function scratchArgs(a: string, b: string): void {
  const need = (a.length + b.length) * UTF8_PER_UNIT;
  if (need > argBuf.byteLength) argBuf = new ArrayBuffer(need);
  const base = changetype<usize>(argBuf);
  argLenA = String.UTF8.encodeUnsafe(changetype<usize>(a), a.length, base);
  argLenB = String.UTF8.encodeUnsafe(changetype<usize>(b), b.length, base + argLenA);
}

/** Encodes `a` alone into the argument scratch: then argA()/argLenA(). */
export function scratchArg(a: string): void { scratchArgs(a, ""); }

export function argA(): usize { return changetype<usize>(argBuf); }
export function argALength(): usize { return argLenA; }
export function argB(): usize { return changetype<usize>(argBuf) + argLenA; }
export function argBLength(): usize { return argLenB; }
/** The second argument's encoded bytes, as a buffer of their own. */
export function argBCopy(): ArrayBuffer { return argBuf.slice(<i32>argLenA, <i32>(argLenA + argLenB)); }

/** Results up to this size are written into the result scratch when asked for. */
const RESULT_SCRATCH_BYTES: i32 = 4096;
const resultBuf: ArrayBuffer = new ArrayBuffer(RESULT_SCRATCH_BYTES);
let resultToScratch: bool = false;

/**
 * The host allocates a call's result through this export. After resultIntoScratch(), the next
 * result that fits is written into the result scratch (read it with hostResultString before
 * the next host call); any other is a fresh pinned ArrayBuffer that takeHostBuffer() adopts.
 */
export function malloc(size: i32): usize {
  if (resultToScratch) {
    resultToScratch = false;
    if (size <= RESULT_SCRATCH_BYTES) return changetype<usize>(resultBuf);
  }
  return __pin(changetype<usize>(new ArrayBuffer(size)));
}

/** The next host result that fits goes into the result scratch (see malloc). */
export function resultIntoScratch(): void {
  resultToScratch = true;
  resetOut();
}

/**
 * Ends a call made after resultIntoScratch(): its result as a string wherever malloc put it ("" when
 * the host wrote none), or null when the call failed (`ok` false).
 */
export function hostResultString(ok: bool): string | null {
  resultToScratch = false;
  if (!ok) return null;
  const ptr = load<usize>(OUT_PTR);
  if (ptr == changetype<usize>(resultBuf)) return String.UTF8.decodeUnsafe(ptr, load<usize>(OUT_SIZE));
  return fromUtf8(takeHostBuffer());
}

export function fromUtf8(b: ArrayBuffer): string {
  return String.UTF8.decode(b);
}

/**
 * Serializes header pairs the way the host expects: u32 count, then (u32 key length, u32 value
 * length) per pair, then each key and value followed by a NUL byte.
 */
export function serializePairs(pairs: Array<string>): ArrayBuffer {
  // pairs is flat: [k0, v0, k1, v1, ...] so callers avoid allocating a pair object per header.
  const n = pairs.length >> 1;
  const encoded = new Array<ArrayBuffer>(pairs.length);
  let size = 4 + 8 * n;
  for (let i = 0; i < pairs.length; i++) {
    const b = utf8(pairs[i]);
    encoded[i] = b;
    size += b.byteLength + 1;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>n);
  for (let i = 0; i < pairs.length; i++) {
    store<u32>(base + 4 + 4 * <usize>i, <u32>encoded[i].byteLength);
  }
  let off: usize = 4 + 8 * <usize>n;
  for (let i = 0; i < pairs.length; i++) {
    const b = encoded[i];
    memory.copy(base + off, changetype<usize>(b), <usize>b.byteLength);
    off += <usize>b.byteLength;
    store<u8>(base + off, 0);
    off += 1;
  }
  return out;
}

/** Parses the host's serialized pairs into a flat [k0, v0, k1, v1, ...] array. */
export function deserializePairs(buf: ArrayBuffer): Array<string> {
  const out = new Array<string>(0);
  const len = <usize>buf.byteLength;
  if (len < 4) return out;
  const base = changetype<usize>(buf);
  const n = <usize>load<u32>(base);
  if (<usize>4 + <usize>8 * n > len) return out;
  let off: usize = <usize>4 + <usize>8 * n;
  for (let i: usize = 0; i < n; i++) {
    const kl = <usize>load<u32>(base + 4 + 8 * i);
    const vl = <usize>load<u32>(base + 8 + 8 * i);
    if (off + kl + 1 + vl + 1 > len) break; // malformed: keep what was whole
    out.push(String.UTF8.decodeUnsafe(base + off, kl));
    off += kl + 1;
    out.push(String.UTF8.decodeUnsafe(base + off, vl));
    off += vl + 1;
  }
  return out;
}
