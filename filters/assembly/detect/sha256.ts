// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the "hash" redaction action: a keyed hash
// lets logs correlate the same value across requests without holding it. No host crypto is
// reachable from a proxy-wasm module, hence this implementation; buffers are reused between calls.

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

export class Sha256 {
  private h: StaticArray<u32> = new StaticArray<u32>(8);
  private w: StaticArray<u32> = new StaticArray<u32>(64);
  private block: StaticArray<u8> = new StaticArray<u8>(64);
  private used: i32 = 0;
  private total: u64 = 0;

  constructor() { this.reset(); }

  reset(): void {
    this.h[0] = 0x6a09e667; this.h[1] = 0xbb67ae85; this.h[2] = 0x3c6ef372; this.h[3] = 0xa54ff53a;
    this.h[4] = 0x510e527f; this.h[5] = 0x9b05688c; this.h[6] = 0x1f83d9ab; this.h[7] = 0x5be0cd19;
    this.used = 0;
    this.total = 0;
  }

  private compress(): void {
    const w = this.w;
    const b = this.block;
    for (let i = 0; i < 16; i++) {
      w[i] = (<u32>b[i * 4] << 24) | (<u32>b[i * 4 + 1] << 16) | (<u32>b[i * 4 + 2] << 8) | <u32>b[i * 4 + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);
      const s1 = rotr<u32>(y, 17) ^ rotr<u32>(y, 19) ^ (y >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let a = this.h[0], bb = this.h[1], c = this.h[2], d = this.h[3];
    let e = this.h[4], f = this.h[5], g = this.h[6], h = this.h[7];
    for (let i = 0; i < 64; i++) {
      const t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
      h = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
    }
    this.h[0] += a; this.h[1] += bb; this.h[2] += c; this.h[3] += d;
    this.h[4] += e; this.h[5] += f; this.h[6] += g; this.h[7] += h;
  }

  updateByte(v: u8): void {
    this.block[this.used++] = v;
    this.total++;
    if (this.used == 64) { this.compress(); this.used = 0; }
  }

  update(data: StaticArray<u8>): void {
    for (let i = 0; i < data.length; i++) this.updateByte(data[i]);
  }

  /** Finishes the digest into `out` (32 bytes) and resets for the next message. */
  digestInto(out: StaticArray<u8>): void {
    const bits = this.total * 8;
    this.updateByte(0x80);
    while (this.used != 56) this.updateByte(0);
    for (let i = 7; i >= 0; i--) this.updateByte(<u8>(bits >>> (<u64>i * 8)));
    for (let i = 0; i < 8; i++) {
      out[i * 4] = <u8>(this.h[i] >>> 24);
      out[i * 4 + 1] = <u8>(this.h[i] >>> 16);
      out[i * 4 + 2] = <u8>(this.h[i] >>> 8);
      out[i * 4 + 3] = <u8>this.h[i];
    }
    this.reset();
  }
}

const hasher: Sha256 = new Sha256();
const keyBlock: StaticArray<u8> = new StaticArray<u8>(64);
const inner: StaticArray<u8> = new StaticArray<u8>(32);

/** The UTF-8 bytes of `s`. */
export function utf8(s: string): StaticArray<u8> {
  const buf = String.UTF8.encode(s);
  const out = new StaticArray<u8>(buf.byteLength);
  memory.copy(changetype<usize>(out), changetype<usize>(buf), <usize>buf.byteLength);
  return out;
}

/** SHA-256 of `data`. */
export function sha256(data: StaticArray<u8>): StaticArray<u8> {
  const out = new StaticArray<u8>(32);
  hasher.update(data);
  hasher.digestInto(out);
  return out;
}

/** HMAC-SHA256(key, data) (RFC 2104: keys longer than a block are hashed first). */
export function hmacSha256(key: StaticArray<u8>, data: StaticArray<u8>): StaticArray<u8> {
  for (let i = 0; i < 64; i++) keyBlock[i] = 0;
  if (key.length > 64) {
    const kh = sha256(key);
    for (let i = 0; i < 32; i++) keyBlock[i] = kh[i];
  } else {
    for (let i = 0; i < key.length; i++) keyBlock[i] = key[i];
  }
  for (let i = 0; i < 64; i++) hasher.updateByte(keyBlock[i] ^ 0x36);
  hasher.update(data);
  hasher.digestInto(inner);
  const out = new StaticArray<u8>(32);
  for (let i = 0; i < 64; i++) hasher.updateByte(keyBlock[i] ^ 0x5c);
  hasher.update(inner);
  hasher.digestInto(out);
  return out;
}

/** Lowercase hex of the first `bytes` bytes of `data`. */
export function toHex(data: StaticArray<u8>, bytes: i32): string {
  const digits = "0123456789abcdef";
  let out = "";
  const n = bytes < data.length ? bytes : data.length;
  for (let i = 0; i < n; i++) {
    out += digits.charAt(<i32>(data[i] >>> 4));
    out += digits.charAt(<i32>(data[i] & 15));
  }
  return out;
}
