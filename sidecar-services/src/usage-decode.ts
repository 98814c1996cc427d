// The server's decoder of usage reports (RecordUsage's UsageReport, RecordUsageBatch's UsageBatch),
// written for the message instead of generated: protobufjs decoded each report into a message
// object (a Long and a LongBits per uint64 field), then copied it into the plain object the handlers
// read (an empty Buffer per absent bytes field), about a fifth of what the sidecar allocated per
// request at 1000/s (bench/README.md). This reads the wire format once into that same plain object:
// every field present, with proto3 defaults ("" / 0 / false / empty Buffer / []) for absent ones;
// uint64 fields as numbers (as proto.ts USAGE_LOADER_OPTIONS decoded them: every one is checked
// against a bound below 2^53 by usage-report.ts, so a value that lost precision is refused there);
// uint32 fields as their low 32 bits; unknown fields skipped. test/unit/usage-decode-equivalence.test.ts
// holds it to protobufjs's output on the same bytes.
//
// Stricter than protobufjs on broken input: a truncated field or a known field with the wrong
// wire type throws (grpc-js then fails the call), where protobufjs may clamp or misread.
import type { ModuleTiming, UsageReport } from "./usage-report.ts";

/** What a decoded report holds: every field of sidecar.proto's UsageReport, numbers as numbers. */
export type DecodedUsageReport = Required<Omit<UsageReport, "module_timings" | "prompt_tokens" | "completion_tokens" | "cached_tokens" | "duration_ms" | "upstream_first_byte_ms" | "started_at_ms">> & {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  duration_ms: number;
  upstream_first_byte_ms: number;
  started_at_ms: number;
  module_timings: ModuleTiming[];
};

const EMPTY: Buffer = Buffer.alloc(0);
const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

/** Reads one message; `end` is the end of the (embedded) message being read. */
class WireReader {
  pos: number = 0;
  end: number;
  /** The field number and wire type of the tag nextField() read. */
  field: number = 0;
  wire: number = 0;
  constructor(readonly buf: Buffer) {
    this.end = buf.length;
  }

  private fail(what: string): never {
    throw new Error(`usage report: ${what} at byte ${this.pos}`);
  }

  private byte(): number {
    if (this.pos >= this.end) this.fail("message ends inside a field");
    return this.buf[this.pos++]!;
  }

  /**
   * A uint64 varint as a number: its low and high 32-bit halves, then lo + hi * 2^32 (exact below
   * 2^53, rounded once above, as protobufjs's LongBits#toNumber).
   */
  private varint(): number {
    let lo = 0;
    let b = 0;
    for (let i = 0; i < 4; i++) {
      b = this.byte();
      lo = (lo | ((b & 0x7f) << (7 * i))) >>> 0;
      if (b < 0x80) return lo;
    }
    b = this.byte();
    lo = (lo | ((b & 0x7f) << 28)) >>> 0;
    let hi = (b & 0x7f) >> 4;
    if (b < 0x80) return lo + hi * 4294967296;
    for (let i = 0; i < 5; i++) {
      b = this.byte();
      hi = (hi | ((b & 0x7f) << (7 * i + 3))) >>> 0;
      if (b < 0x80) return lo + hi * 4294967296;
    }
    return this.fail("varint longer than 10 bytes");
  }

  /** Reads the next tag of the message being read into `field` and `wire`; false at its end. */
  nextField(): boolean {
    if (this.pos >= this.end) return false;
    const tag = this.uint32();
    this.field = tag >>> 3;
    this.wire = tag & 7;
    return true;
  }

  /** A varint's low 32 bits, unsigned (what a uint32 field decodes to). */
  private uint32(): number {
    let result = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      if (i < 5) result |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return result >>> 0;
    }
    return this.fail("varint longer than 10 bytes");
  }

  /** The end of a length-delimited field that starts here (after its length). */
  private lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.end) this.fail("length past the end of the message");
    return end;
  }

  private lengthDelimited(): number {
    this.expect(LENGTH);
    return this.lengthEnd();
  }

  /** The string field whose tag was just read. */
  stringField(): string {
    const end = this.lengthDelimited();
    const s = end === this.pos ? "" : this.buf.toString("utf8", this.pos, end);
    this.pos = end;
    return s;
  }

  /** The bytes field whose tag was just read (a view of the message's buffer, as protobufjs gave). */
  bytesField(): Buffer {
    const end = this.lengthDelimited();
    const b = end === this.pos ? EMPTY : this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  /** The uint64 field whose tag was just read, as a number (see varint). */
  uint64Field(): number {
    this.expect(VARINT);
    return this.varint();
  }

  /** The uint32 field whose tag was just read. */
  uint32Field(): number {
    this.expect(VARINT);
    return this.uint32();
  }

  /** The bool field whose tag was just read. */
  boolField(): boolean {
    return this.uint32Field() !== 0;
  }

  /** The embedded message whose tag was just read, read by `fields` with the reader's end set to its end. */
  messageField<T>(fields: (r: WireReader) => T): T {
    const end = this.lengthDelimited();
    const outer = this.end;
    this.end = end;
    const value = fields(this);
    this.end = outer;
    return value;
  }

  /** Skips the field whose tag was just read (an unknown one). */
  skip(): void {
    const field = this.field;
    const wire = this.wire;
    switch (wire) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH:
        this.pos = this.lengthEnd();
        return;
      case START_GROUP:
        while (this.nextField()) {
          if (this.wire === END_GROUP) {
            if (this.field !== field) this.fail("group closed by another field");
            return;
          }
          this.skip();
        }
        return this.fail("message ends inside a group");
      case FIXED32:
        this.advance(4);
        return;
      default:
        this.fail(`wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) this.fail("message ends inside a field");
    this.pos += n;
  }

  /** Checks that the known field just read came with the wire type its type needs. */
  private expect(want: number): void {
    if (this.wire !== want) this.fail(`field ${this.field} has wire type ${this.wire}, expected ${want}`);
  }
}

function moduleTiming(r: WireReader): ModuleTiming {
  const t: ModuleTiming = { module: "", micros: 0 };
  while (r.nextField()) {
    if (r.field === 1) t.module = r.stringField();
    else if (r.field === 2) t.micros = r.uint64Field();
    else r.skip();
  }
  return t;
}

function report(inner: WireReader): DecodedUsageReport {
  const m: DecodedUsageReport = {
    request_id: "", tenant_id: "", key_id: "", provider: "", api: "", model: "",
    status: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0,
    streamed: false, estimated: false, duration_ms: 0, upstream_first_byte_ms: 0, started_at_ms: 0,
    upstream_responded: false, module_timings: [], traceparent: "", guard_decisions: "",
    audit: false, audit_request_body: EMPTY, audit_response_body: EMPTY, audit_truncated: false,
    reservation_id: "",
  };
  while (inner.nextField()) {
    switch (inner.field) {
      case 1: m.request_id = inner.stringField(); break;
      case 2: m.tenant_id = inner.stringField(); break;
      case 3: m.key_id = inner.stringField(); break;
      case 4: m.provider = inner.stringField(); break;
      case 5: m.api = inner.stringField(); break;
      case 6: m.model = inner.stringField(); break;
      case 7: m.status = inner.uint32Field(); break;
      case 8: m.prompt_tokens = inner.uint64Field(); break;
      case 9: m.completion_tokens = inner.uint64Field(); break;
      case 10: m.cached_tokens = inner.uint64Field(); break;
      case 11: m.streamed = inner.boolField(); break;
      case 12: m.estimated = inner.boolField(); break;
      case 13: m.duration_ms = inner.uint64Field(); break;
      case 14: m.upstream_first_byte_ms = inner.uint64Field(); break;
      case 15: m.started_at_ms = inner.uint64Field(); break;
      case 16: m.upstream_responded = inner.boolField(); break;
      case 17: m.module_timings.push(inner.messageField(moduleTiming)); break;
      case 18: m.traceparent = inner.stringField(); break;
      case 19: m.reservation_id = inner.stringField(); break;
      case 30: m.guard_decisions = inner.stringField(); break;
      case 31: m.audit = inner.boolField(); break;
      case 32: m.audit_request_body = inner.bytesField(); break;
      case 33: m.audit_response_body = inner.bytesField(); break;
      case 34: m.audit_truncated = inner.boolField(); break;
      default: inner.skip();
    }
  }
  return m;
}

/** A serialized UsageReport (RecordUsage's request). */
export function decodeUsageReport(buf: Buffer): DecodedUsageReport {
  return report(new WireReader(buf));
}

/** A serialized UsageBatch (RecordUsageBatch's request): `{ reports: [...] }`. */
export function decodeUsageBatch(buf: Buffer): { reports: DecodedUsageReport[] } {
  const reports: DecodedUsageReport[] = [];
  const r = new WireReader(buf);
  while (r.nextField()) {
    if (r.field === 1) reports.push(r.messageField(report));
    else r.skip();
  }
  return { reports };
}
