/**
 * Marshalling between the host and the module's linear memory, plus the proxy-wasm pairs encoding.
 *
 * All multi-byte values are little-endian (wasm byte order). Views over `memory.buffer` are made
 * afresh on every access because any call into the module (notably its allocator) may grow memory
 * and detach previously obtained ArrayBuffers.
 */

/** A header (or metadata) entry: name and value. Names are lowercase in Envoy maps. */
export type HeaderPair = [string, string];

const utf8Encoder: TextEncoder = new TextEncoder();
const utf8Decoder: TextDecoder = new TextDecoder();

export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? utf8Encoder.encode(data) : data;
}
export function bytesToText(data: Uint8Array): string {
  return utf8Decoder.decode(data);
}
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total: number = parts.reduce((n: number, p: Uint8Array) => n + p.length, 0);
  const out: Uint8Array = new Uint8Array(total);
  let at: number = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Thrown by GuestMemory when the module hands the host a pointer/length outside its memory. */
export class InvalidMemoryAccess extends Error {}

/** Typed access to one module instance's memory, allocating through the module's own allocator. */
export class GuestMemory {
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly allocate: (size: number) => number,
  ) {}

  private view(): DataView {
    return new DataView(this.memory.buffer);
  }

  /** The module's linear memory size in bytes (it only grows). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Throws InvalidMemoryAccess unless [ptr, ptr+len) lies inside memory (mirrors getMemory()). */
  check(ptr: number, len: number): void {
    if (ptr < 0 || len < 0 || ptr + len > this.memory.buffer.byteLength) {
      throw new InvalidMemoryAccess(`memory access out of bounds: ptr=${ptr} len=${len}`);
    }
  }

  /** A copy of `len` bytes at `ptr` (a copy, so later memory growth cannot invalidate it). */
  read(ptr: number, len: number): Uint8Array {
    // Envoy accepts a zero-length slice at any pointer (modules commonly pass ptr 0 for "empty").
    if (len === 0) return new Uint8Array(0);
    this.check(ptr, len);
    return new Uint8Array(this.memory.buffer, ptr, len).slice();
  }
  readText(ptr: number, len: number): string {
    return bytesToText(this.read(ptr, len));
  }
  readU32(ptr: number): number {
    this.check(ptr, 4);
    return this.view().getUint32(ptr, true);
  }

  writeU32(ptr: number, value: number): void {
    this.check(ptr, 4);
    this.view().setUint32(ptr, value >>> 0, true);
  }
  writeU64(ptr: number, value: bigint): void {
    this.check(ptr, 8);
    this.view().setBigUint64(ptr, BigInt.asUintN(64, value), true);
  }
  write(ptr: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.check(ptr, data.length);
    new Uint8Array(this.memory.buffer, ptr, data.length).set(data);
  }

  /** Copies `data` into a fresh module allocation and returns its address. */
  copyIn(data: Uint8Array): number {
    const ptr: number = this.allocate(Math.max(data.length, 1)) >>> 0;
    if (ptr === 0) throw new InvalidMemoryAccess("module allocator returned 0");
    this.write(ptr, data);
    return ptr;
  }

  /**
   * Copies `data` into a fresh module allocation and stores its pointer and size in the module's
   * out-params, like the host's copyToPointerSize(): an empty value writes pointer 0 and size 0
   * without calling the allocator. Throws InvalidMemoryAccess if the allocator returns 0.
   */
  writeOut(ptrPtr: number, sizePtr: number, data: Uint8Array): void {
    // Verify the out-params before allocating so a bad pointer does not leak an allocation.
    this.check(ptrPtr, 4);
    this.check(sizePtr, 4);
    const ptr: number = data.length > 0 ? this.copyIn(data) : 0;
    this.writeU32(ptrPtr, ptr);
    this.writeU32(sizePtr, data.length);
  }
}

/**
 * Serializes pairs the way the host marshals header maps for the module: u32 count, then per pair
 * u32 key length and u32 value length, then each key and each value followed by a NUL byte.
 */
export function serializePairs(pairs: ReadonlyArray<readonly [string | Uint8Array, string | Uint8Array]>): Uint8Array {
  const encoded: Array<[Uint8Array, Uint8Array]> = pairs.map(([k, v]) => [toBytes(k), toBytes(v)]);
  let size: number = 4;
  for (const [k, v] of encoded) size += 8 + k.length + 1 + v.length + 1;
  const out: Uint8Array = new Uint8Array(size);
  const dv: DataView = new DataView(out.buffer);
  dv.setUint32(0, encoded.length, true);
  let at: number = 4;
  for (const [k, v] of encoded) {
    dv.setUint32(at, k.length, true);
    dv.setUint32(at + 4, v.length, true);
    at += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, at);
    at += k.length + 1; // the NUL is already 0 in the zero-filled buffer
    out.set(v, at);
    at += v.length + 1;
  }
  return out;
}

/**
 * Parses pairs a module passed to the host. Like the host's toPairs(), a buffer too short for its
 * declared count yields no pairs at all rather than an error.
 */
export function parsePairs(data: Uint8Array): HeaderPair[] {
  if (data.length < 4) return [];
  const dv: DataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count: number = dv.getUint32(0, true);
  if (4 + count * 8 > data.length) return [];
  const lengths: Array<[number, number]> = [];
  for (let i: number = 0; i < count; i++) {
    lengths.push([dv.getUint32(4 + i * 8, true), dv.getUint32(8 + i * 8, true)]);
  }
  const pairs: HeaderPair[] = [];
  let at: number = 4 + count * 8;
  for (const [kl, vl] of lengths) {
    if (at + kl + 1 + vl + 1 > data.length) return [];
    const key: string = bytesToText(data.subarray(at, at + kl));
    at += kl + 1;
    const value: string = bytesToText(data.subarray(at, at + vl));
    at += vl + 1;
    pairs.push([key, value]);
  }
  return pairs;
}
