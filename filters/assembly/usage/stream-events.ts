// The SSE events of a streamed response, folded into the usage as they complete, read from the
// bytes. It follows sdk/sse.ts (SseParser) line for line — lines end at "\n" (a trailing "\r" is
// dropped), a blank line ends an event, ":" starts a comment, data lines are joined with "\n", a
// line longer than maxLineBytes is dropped — but hands each event's data to the fold as bytes
// instead of as a string: SseParser decoded every line to UTF-16, cut the field and value out of
// it, and the fold then encoded the data back to UTF-8 (four copies of each event; on a stream that
// was most of the module's time). Lines wholly inside a chunk are read in place; only a line split
// across chunks is copied.
//
// A line with a byte that is not ASCII goes through exactly SseParser's string steps, and its event
// is folded from the string as before: the decoder (String.UTF8.decodeUnsafe) does not validate and
// may take a ":" or other bytes into a broken sequence, so only the string path is sure to agree.
// For ASCII lines the bytes and the string's UTF-8 are the same bytes.
import { ApiFormat } from "../sdk/api-error";
import { SseLines, ensureCapacity } from "../sdk/sse";
import { hasHighByte } from "../sdk/swar";
import { Usage, foldStreamEvent, foldStreamEventBytes } from "./extract";

@inline function byteAt(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

export class StreamEvents {
  private lines: SseLines;
  /** The current event's data while its lines are ASCII: dataLength bytes of `data`. */
  private data: ArrayBuffer = new ArrayBuffer(1024);
  private dataLength: i32 = 0;
  private hasData: bool = false;
  /** Set once a data line was not ASCII: the event's data is then kept as SseParser kept it. */
  private asString: bool = false;
  private dataString: string = "";

  constructor(public api: ApiFormat, maxLineBytes: i32 = 1 << 20) {
    this.lines = new SseLines(maxLineBytes);
  }

  /** Lines dropped for exceeding maxLineBytes. */
  get overflows(): i32 { return this.lines.overflows; }

  /** Feeds `len` bytes at `base`, folding every event they complete into `u`. */
  feed(base: usize, len: i32, u: Usage): void {
    const lines = this.lines;
    let i = 0;
    // Safe: lines.at holds lines.length bytes until the next call; line() copies what it keeps.
    while ((i = lines.next(base, len, i)) >= 0) this.line(lines.at, lines.length, u);
  }

  /** One complete line of `n` bytes at `at` (without its "\n"). */
  private line(at: usize, n: i32, u: Usage): void {
    if (n > 0 && byteAt(at, n - 1) == 0x0d) n--;
    if (n == 0) {
      // Blank line: the event is complete.
      if (this.hasData) {
        if (this.asString) foldStreamEvent(this.api, this.dataString, u);
        else foldStreamEventBytes(this.api, changetype<usize>(this.data), this.dataLength, u);
      }
      this.dataLength = 0;
      this.dataString = "";
      this.asString = false;
      this.hasData = false;
      return;
    }
    if (!isAscii(at, n)) { this.textLine(at, n); return; }
    if (byteAt(at, 0) == 0x3a) return; // comment
    let colon = 0;
    while (colon < n && byteAt(at, colon) != 0x3a) colon++;
    // Only the data field matters here ("event" names are not used by the fold).
    if (colon != 4 || byteAt(at, 0) != 0x64 || byteAt(at, 1) != 0x61 || byteAt(at, 2) != 0x74 || byteAt(at, 3) != 0x61) return;
    let v = colon < n ? colon + 1 : n;
    if (v < n && byteAt(at, v) == 0x20) v++;
    this.addData(at + <usize>v, n - v);
  }

  /** A line with a byte that is not ASCII: SseParser's steps on the decoded text. */
  private textLine(at: usize, n: i32): void {
    const text = String.UTF8.decodeUnsafe(at, <usize>n);
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.substring(0, colon);
    if (field != "data") return;
    let value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) value = value.substring(1);
    if (!this.asString) {
      // The ASCII data so far decodes to the same characters.
      this.dataString = String.UTF8.decodeUnsafe(changetype<usize>(this.data), <usize>this.dataLength);
      this.asString = true;
    }
    this.dataString = this.hasData ? this.dataString + "\n" + value : value;
    this.hasData = true;
  }

  /** Appends an ASCII data value (after a "\n" when the event already has data). */
  private addData(src: usize, n: i32): void {
    if (this.asString) {
      const value = String.UTF8.decodeUnsafe(src, <usize>n);
      this.dataString = this.hasData ? this.dataString + "\n" + value : value;
      this.hasData = true;
      return;
    }
    const sep = this.hasData ? 1 : 0;
    this.data = ensureCapacity(this.data, this.dataLength, this.dataLength + sep + n);
    const d = changetype<usize>(this.data);
    // Safe: `data` has room for dataLength + sep + n bytes (ensured above).
    if (sep == 1) store<u8>(d + <usize>this.dataLength, 0x0a);
    memory.copy(d + <usize>(this.dataLength + sep), src, <usize>n);
    this.dataLength += sep + n;
    this.hasData = true;
  }
}

/** Whether the `n` bytes at `at` are all ASCII. */
function isAscii(at: usize, n: i32): bool {
  let i = 0;
  // Safe: each load reads bytes [i, i + 8) < n.
  while (i + 8 <= n) {
    if (hasHighByte(load<u64>(at + <usize>i))) return false;
    i += 8;
  }
  while (i < n) {
    if (byteAt(at, i) >= 0x80) return false;
    i++;
  }
  return true;
}

