// Per-request behaviour switches read from x-mock-* request headers. Headers rather than body
// fields because the gateway under test may inspect or rewrite bodies but forwards unknown headers,
// and because one long-lived mock then serves many concurrent tests with different needs.

import type { IncomingHttpHeaders } from "node:http";
import { DEFAULT_CHUNK_SIZE } from "./reply.ts";

export interface Controls {
  /** Delay before the first byte of the response. */
  latencyMs: number;
  /** Delay between two SSE events. */
  chunkDelayMs: number;
  /** Injected error status (400..599), or null to answer normally. */
  status: number | null;
  /** Value of retry-after on injected 429s. */
  retryAfter: string;
  /** Accept the request and never answer. */
  hang: boolean;
  /** Forced reply text, or null for the derived one. */
  reply: string | null;
  /** Code points per streamed content delta. */
  chunkSize: number;
  /** Code-point offsets where streamed deltas are cut instead (x-mock-split-at: 3,10), or null. */
  splitAt: number[] | null;
  /** Bytes per write of an SSE body (x-mock-write-bytes), so events straddle writes; 0 = whole events. */
  writeBytes: number;
}

export interface ControlDefaults {
  latencyMs: number;
  chunkDelayMs: number;
}

/** setTimeout turns anything above this into 1 ms, which would invert the caller's intent. */
const MAX_DELAY_MS: number = 2_147_483_647;

export function readControls(headers: IncomingHttpHeaders, defaults: ControlDefaults): Controls {
  const status: number | null = nonNegativeInteger(header(headers, "x-mock-status"));
  return {
    latencyMs: delay(header(headers, "x-mock-latency-ms")) ?? defaults.latencyMs,
    chunkDelayMs: delay(header(headers, "x-mock-chunk-delay-ms")) ?? defaults.chunkDelayMs,
    status: status !== null && status >= 400 && status <= 599 ? status : null,
    retryAfter: header(headers, "x-mock-retry-after") ?? "1",
    hang: isTrue(header(headers, "x-mock-hang")),
    reply: replyOverride(headers),
    chunkSize: nonZero(nonNegativeInteger(header(headers, "x-mock-chunk-size"))) ?? DEFAULT_CHUNK_SIZE,
    splitAt: offsets(header(headers, "x-mock-split-at")),
    writeBytes: nonNegativeInteger(header(headers, "x-mock-write-bytes")) ?? 0,
  };
}

/**
 * Node hands header values over as latin1, one char per byte. Re-reading those bytes as UTF-8
 * recovers raw UTF-8 sent by curl and similar; fetch() refuses non-ASCII header values, so such
 * clients send x-mock-reply-b64 (base64 of the UTF-8 text) instead.
 */
function replyOverride(headers: IncomingHttpHeaders): string | null {
  const b64: string | undefined = header(headers, "x-mock-reply-b64");
  if (b64 !== undefined) return Buffer.from(b64, "base64").toString("utf8");
  const raw: string | undefined = header(headers, "x-mock-reply");
  return raw === undefined ? null : Buffer.from(raw, "latin1").toString("utf8");
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value: string | string[] | undefined = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function nonNegativeInteger(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d{1,10}\s*$/.test(value)) return null;
  return Number(value);
}

/** "3,10,17" → [3, 10, 17]; anything unreadable → null (the header is ignored). */
function offsets(value: string | undefined): number[] | null {
  if (value === undefined || !/^\s*\d{1,6}(\s*,\s*\d{1,6})*\s*$/.test(value)) return null;
  return value.split(",").map((v: string): number => Number(v.trim()));
}

function nonZero(value: number | null): number | null {
  return value === 0 ? null : value;
}

function delay(value: string | undefined): number | null {
  const ms: number | null = nonNegativeInteger(value);
  return ms === null ? null : Math.min(ms, MAX_DELAY_MS);
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^\s*(1|true|yes)\s*$/i.test(value);
}
