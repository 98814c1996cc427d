// Minimal protobuf wire-format encoder/decoder for the sidecar API (sidecar-services/proto).
// Only what proto3 scalar/string/bytes/enum/message fields need: varints and length-delimited
// fields. Generated code would be heavier than the handful of messages we exchange.

export class ProtoWriter {
  // Bytes written so far are buf[0, len); the buffer doubles when a field does not fit. Fields are
  // written in place (strings encoded straight into it, bytes copied in one go): a report of a few
  // hundred bytes costs a handful of allocations, not one array push per byte.
  private buf: ArrayBuffer;
  private len: i32 = 0;

  /** `capacity`: bytes to start with (the message's expected size saves regrowing). */
  constructor(capacity: i32 = 64) {
    this.buf = new ArrayBuffer(capacity > 0 ? capacity : 16);
  }

  /** Room for `n` more bytes; the address to write them at (len unchanged). */
  private room(n: i32): usize {
    const need = this.len + n;
    if (need > this.buf.byteLength) {
      let cap = this.buf.byteLength << 1;
      if (cap < need) cap = need;
      const next = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.len);
      this.buf = next;
    }
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  private varint(v: u64): void {
    // A u64 takes at most 10 bytes.
    const start = this.room(10);
    let p = start;
    while (v >= 0x80) {
      store<u8>(p, <u8>((v & 0x7f) | 0x80));
      p++;
      v >>= 7;
    }
    store<u8>(p, <u8>v);
    this.len += <i32>(p + 1 - start);
  }
  private tag(field: u32, wireType: u32): void { this.varint(<u64>((field << 3) | wireType)); }
  /** proto3 omits default values; so do we. */
  uint(field: u32, v: u64): void {
    if (v == 0) return;
    this.tag(field, 0);
    this.varint(v);
  }
  bool(field: u32, v: bool): void { this.uint(field, v ? 1 : 0); }
  string(field: u32, v: string): void {
    if (v.length == 0) return;
    const n = String.UTF8.byteLength(v);
    this.tag(field, 2);
    this.varint(<u64>n);
    this.len += <i32>String.UTF8.encodeUnsafe(changetype<usize>(v), v.length, this.room(n));
  }
  bytes(field: u32, v: ArrayBuffer): void {
    this.raw(field, changetype<usize>(v), v.byteLength);
  }
  /** An embedded message (or any length-delimited field) from another writer, without finishing it. */
  message(field: u32, m: ProtoWriter): void {
    this.raw(field, changetype<usize>(m.buf), m.len);
  }
  private raw(field: u32, at: usize, n: i32): void {
    if (n == 0) return;
    this.tag(field, 2);
    this.varint(<u64>n);
    memory.copy(this.room(n), at, <usize>n);
    this.len += n;
  }
  /** Bytes written so far. */
  get length(): i32 { return this.len; }
  finish(): ArrayBuffer {
    return this.buf.slice(0, this.len);
  }
}

/** Iterates the fields of one message. Malformed input stops iteration (ok == false). */
export class ProtoReader {
  private pos: i32 = 0;
  private end: i32;
  private base: usize;
  /** False once the input turned out malformed. */
  ok: bool = true;
  field: u32 = 0;
  wireType: u32 = 0;
  /** Value of the current varint field. */
  value: u64 = 0;
  /** Offset and length of the current length-delimited field. */
  start: i32 = 0;
  length: i32 = 0;

  constructor(private data: ArrayBuffer) {
    this.end = data.byteLength;
    this.base = changetype<usize>(data);
  }

  private readVarint(): u64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    while (this.pos < this.end && shift < 64) {
      const b = load<u8>(this.base + <usize>this.pos);
      this.pos++;
      result |= (<u64>(b & 0x7f)) << shift;
      if ((b & 0x80) == 0) return result;
      shift += 7;
    }
    this.ok = false;
    return 0;
  }

  /** Advances to the next field; false at the end or on malformed input. */
  next(): bool {
    if (!this.ok || this.pos >= this.end) return false;
    const key = this.readVarint();
    if (!this.ok) return false;
    this.field = <u32>(key >> 3);
    this.wireType = <u32>(key & 7);
    if (this.wireType == 0) {
      this.value = this.readVarint();
    } else if (this.wireType == 2) {
      const len = this.readVarint();
      if (!this.ok || len > <u64>(this.end - this.pos)) { this.ok = false; return false; }
      this.start = this.pos;
      this.length = <i32>len;
      this.pos += <i32>len;
    } else if (this.wireType == 1) {
      if (this.end - this.pos < 8) { this.ok = false; return false; }
      this.pos += 8;
    } else if (this.wireType == 5) {
      if (this.end - this.pos < 4) { this.ok = false; return false; }
      this.pos += 4;
    } else {
      this.ok = false;
      return false;
    }
    return this.ok;
  }

  /** The current length-delimited field as a UTF-8 string. */
  string(): string {
    return String.UTF8.decodeUnsafe(this.base + <usize>this.start, <usize>this.length);
  }

  /** The current length-delimited field as bytes (a copy). */
  bytes(): ArrayBuffer {
    return this.data.slice(this.start, this.start + this.length);
  }
}
