// Incremental Server-Sent Events parser for response bodies that arrive in arbitrary chunks: an
// event, a line, even a multi-byte character may be split across chunks. Bytes are kept only up to
// the end of the last complete line, and a line longer than `maxLineBytes` is dropped (counted in
// `overflows`) rather than buffered without bound.

export class SseEvent {
  constructor(public event: string, public data: string) {}
}

export class SseParser {
  private pending: Array<u8> = new Array<u8>(0);
  private eventName: string = "";
  private data: string = "";
  private hasData: bool = false;
  private skippingLine: bool = false;
  /** Lines dropped for exceeding maxLineBytes. */
  overflows: i32 = 0;

  constructor(public maxLineBytes: i32 = 1 << 20) {}

  /** Feeds `len` bytes at `base`; returns the events completed by them, in order. */
  feed(base: usize, len: i32): Array<SseEvent> {
    const out = new Array<SseEvent>(0);
    for (let i = 0; i < len; i++) {
      const c = load<u8>(base + <usize>i);
      if (c == 0x0a) {
        if (this.skippingLine) { this.skippingLine = false; this.pending.length = 0; continue; }
        this.line(out);
        continue;
      }
      if (this.skippingLine) continue;
      if (this.pending.length >= this.maxLineBytes) {
        this.overflows++;
        this.skippingLine = true;
        this.pending.length = 0;
        continue;
      }
      this.pending.push(c);
    }
    return out;
  }

  /** Handles one complete line (without its "\n"; a trailing "\r" is dropped). */
  private line(out: Array<SseEvent>): void {
    let n = this.pending.length;
    if (n > 0 && this.pending[n - 1] == 0x0d) n--;
    if (n == 0) {
      // Blank line: dispatch.
      if (this.hasData) out.push(new SseEvent(this.eventName, this.data));
      this.eventName = "";
      this.data = "";
      this.hasData = false;
      this.pending.length = 0;
      return;
    }
    const buf = new ArrayBuffer(n);
    for (let i = 0; i < n; i++) store<u8>(changetype<usize>(buf) + <usize>i, this.pending[i]);
    this.pending.length = 0;
    const text = String.UTF8.decode(buf);
    if (text.startsWith(":")) return; // comment
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.substring(0, colon);
    let value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) value = value.substring(1);
    if (field == "data") {
      this.data = this.hasData ? this.data + "\n" + value : value;
      this.hasData = true;
    } else if (field == "event") {
      this.eventName = value;
    }
  }
}
