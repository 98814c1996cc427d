// The sidecar's own decoder of usage reports (sidecar-services/src/usage-decode.ts) against what
// protobufjs made of the same bytes before it (proto-loader with USAGE_LOADER_OPTIONS, then
// toObject): deep-equal objects for seeded random reports and batches — multi-byte text, uint64
// values up to 2^64 − 1, uint32 past 2^31, bytes, repeated module timings, unknown fields of every
// wire type, and concatenated messages (which protobuf merges) — and an error, not a guess, for a
// message cut short or a known field sent with the wrong wire type.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { loadSidecarService, sidecarProtoPath, USAGE_LOADER_OPTIONS } from "../../sidecar-services/src/proto.ts";
import { decodeUsageBatch, decodeUsageReport } from "../../sidecar-services/src/usage-decode.ts";

type Service = Record<string, grpc.MethodDefinition<unknown, unknown>>;
const CLIENT: Service = loadSidecarService().service as unknown as Service;
const PROTOBUFJS: Service = (grpc.loadPackageDefinition(protoLoader.loadSync(sidecarProtoPath(), USAGE_LOADER_OPTIONS)) as unknown as {
  leash: { v1: { Sidecar: grpc.ServiceClientConstructor } };
}).leash.v1.Sidecar.service as unknown as Service;

/** xorshift32: the same reports on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const TEXTS = ["", "a", "req-00000000-0000-4000-8000-000000000000", "gpt-4o-mini", "Zürich ✓", "日本語のモデル", "emoji 🦊🔑", "x".repeat(300), "tab\tand\nnewline"];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** A uint64 as the client encodes it: decimal digits, anywhere from 0 to 2^64 − 1. */
function u64(r: () => number): string {
  const kind = Math.floor(r() * 5);
  if (kind === 0) return "0";
  if (kind === 1) return String(Math.floor(r() * 1000));
  if (kind === 2) return String(Math.floor(r() * 2 ** 40));
  if (kind === 3) return String(2 ** 53 - 1 - Math.floor(r() * 1000));
  return (BigInt(Math.floor(r() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(r() * 2 ** 32))).toString();
}

function randomReport(r: () => number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const maybe = (name: string, value: () => unknown): void => {
    if (r() < 0.7) m[name] = value();
  };
  for (const f of ["request_id", "tenant_id", "key_id", "provider", "api", "model", "traceparent", "guard_decisions", "reservation_id"]) maybe(f, () => pick(r, TEXTS));
  maybe("status", () => pick(r, [0, 200, 429, 599, 2 ** 31 + 7, 2 ** 32 - 1]));
  for (const f of ["prompt_tokens", "completion_tokens", "cached_tokens", "duration_ms", "upstream_first_byte_ms", "started_at_ms"]) maybe(f, () => u64(r));
  for (const f of ["streamed", "estimated", "upstream_responded", "audit", "audit_truncated"]) maybe(f, () => r() < 0.5);
  for (const f of ["audit_request_body", "audit_response_body"]) maybe(f, () => Buffer.from(Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256))));
  maybe("module_timings", () => Array.from({ length: Math.floor(r() * 6) }, () => (r() < 0.2 ? {} : { module: pick(r, ["auth", "redact", "", "quota"]), micros: u64(r) })));
  return m;
}

/** Field 99 varint, 100 fixed64, 101 length-delimited, 102 fixed32, 103 an empty group: none is known. */
const UNKNOWN: Buffer = Buffer.from([
  0x98, 0x06, 0x96, 0x01,
  0xa1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,
  0xaa, 0x06, 3, 0x61, 0x62, 0x63,
  0xb5, 0x06, 9, 9, 9, 9,
  0xbb, 0x06, 0xbc, 0x06,
]);

const ours = (method: string, bytes: Buffer): unknown => (method === "RecordUsage" ? decodeUsageReport(bytes) : decodeUsageBatch(bytes));
const theirs = (method: string, bytes: Buffer): unknown => PROTOBUFJS[method]!.requestDeserialize(bytes);
const encode = (method: string, message: unknown): Buffer => CLIENT[method]!.requestSerialize(message);

describe("usage report decoding", () => {
  it("gives what protobufjs gave for the same bytes: single reports", () => {
    const r = rng(7);
    for (let i = 0; i < 400; i++) {
      const bytes = encode("RecordUsage", randomReport(r));
      assert.deepStrictEqual(ours("RecordUsage", bytes), theirs("RecordUsage", bytes), `report ${i}`);
    }
  });

  it("gives what protobufjs gave for the same bytes: batches, unknown fields, concatenated messages", () => {
    const r = rng(11);
    for (let i = 0; i < 150; i++) {
      const reports = Array.from({ length: Math.floor(r() * 8) }, () => randomReport(r));
      const batch = encode("RecordUsageBatch", { reports });
      const variants: Buffer[] = [
        batch,
        Buffer.concat([UNKNOWN, batch, UNKNOWN]),
        // One more report whose bytes end in unknown fields, and a batch merged from two.
        Buffer.concat([batch, Buffer.from([0x0a, UNKNOWN.length]), UNKNOWN]),
        Buffer.concat([batch, encode("RecordUsageBatch", { reports: reports.slice(0, 2) })]),
      ];
      for (const [k, bytes] of variants.entries()) assert.deepStrictEqual(ours("RecordUsageBatch", bytes), theirs("RecordUsageBatch", bytes), `batch ${i} variant ${k}`);
      // Two encodings of one report back to back are one report: later scalars win, timings add up.
      const one = randomReport(r);
      const merged = Buffer.concat([encode("RecordUsage", one), encode("RecordUsage", randomReport(r))]);
      assert.deepStrictEqual(ours("RecordUsage", merged), theirs("RecordUsage", merged), `merged ${i}`);
    }
  });

  it("fills every field of an empty report with its default", () => {
    const empty = decodeUsageReport(Buffer.alloc(0));
    assert.deepStrictEqual(empty, theirs("RecordUsage", Buffer.alloc(0)));
    assert.equal(empty.started_at_ms, 0);
    assert.deepEqual(empty.module_timings, []);
    assert.ok(Buffer.isBuffer(empty.audit_request_body) && empty.audit_request_body.length === 0);
    assert.deepStrictEqual(decodeUsageBatch(Buffer.alloc(0)), { reports: [] });
  });

  it("refuses a message cut short, a varint longer than 10 bytes, a known field of the wrong wire type and a broken group", () => {
    const full = encode("RecordUsage", { request_id: "r-1", model: "m", started_at_ms: "1764000000000" });
    // A cut between two fields leaves a shorter valid report; anywhere else, an error.
    const between = new Set([encode("RecordUsage", { request_id: "r-1" }).length, encode("RecordUsage", { request_id: "r-1", model: "m" }).length]);
    for (let cut = 1; cut < full.length; cut++) {
      const bytes = full.subarray(0, cut);
      if (between.has(cut)) assert.deepStrictEqual(decodeUsageReport(bytes), theirs("RecordUsage", bytes), `cut at ${cut}`);
      else assert.throws(() => decodeUsageReport(bytes), /usage report: /, `cut at ${cut}`);
    }
    assert.throws(() => decodeUsageReport(Buffer.from([0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /varint longer than 10 bytes/);
    assert.throws(() => decodeUsageReport(Buffer.from([(1 << 3) | 0, 5])), /field 1 has wire type 0, expected 2/);
    assert.throws(() => decodeUsageReport(Buffer.from([(8 << 3) | 2, 1, 5])), /field 8 has wire type 2, expected 0/);
    assert.throws(() => decodeUsageBatch(Buffer.from([(1 << 3) | 0, 1])), /field 1 has wire type 0, expected 2/);
    assert.throws(() => decodeUsageReport(Buffer.from([(5 << 3) | 7])), /wire type 7/);
    // An unknown group opened (field 103) and never closed, or closed by another field.
    assert.throws(() => decodeUsageReport(Buffer.from([0xbb, 0x06])), /message ends inside a group/);
    assert.throws(() => decodeUsageReport(Buffer.from([0xbb, 0x06, 0xc4, 0x06])), /group closed by another field/);
  });
});
