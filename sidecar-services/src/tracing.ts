// The sidecar's spans (OpenTelemetry data model, exported by otlp-exporter.ts). One span per
// Authorize call and per usage report, parented on the W3C traceparent the wasm filters pass along
// (gRPC metadata for Authorize, UsageReport.traceparent for usage), so the sidecar's work joins the
// client's trace. Attributes carry ids and decision codes only: never a key, credential or body.
import { randomBytes } from "node:crypto";

/** Attribute values the exporter knows how to encode. */
export type AttributeValue = string | number | boolean;

/** A finished span, as handed to the exporter. */
export interface SpanData {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 2 = SERVER (the sidecar answers an RPC). */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
}

/** A span being recorded. */
export interface ActiveSpan {
  readonly traceId: string;
  readonly spanId: string;
  setAttributes(attributes: Record<string, AttributeValue>): void;
  /** Ends the span (once; later calls are ignored). */
  end(status?: { error: boolean; message?: string }): void;
}

export interface Tracer {
  /**
   * Starts a SERVER span named `name`, a child of `traceparent` when that is a valid W3C header
   * value. Returns null when the trace is not sampled: the caller's parent said so, or, without a
   * parent, the sample rate did.
   */
  start(name: string, traceparent: string | undefined, attributes?: Record<string, AttributeValue>): ActiveSpan | null;
  /** Exports what is queued (bounded wait) and stops. */
  shutdown(): Promise<void>;
}

/** A tracer that records nothing (tracing off). */
export const noopTracer: Tracer = {
  start: () => null,
  shutdown: async () => {},
};

/** A parsed traceparent. */
export interface ParentContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

// version-traceid-parentid-flags; version ff is forbidden, all-zero ids are invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a W3C traceparent header value; null when absent or malformed. */
export function parseTraceparent(value: string | undefined): ParentContext | null {
  if (typeof value !== "string") return null;
  const m = TRACEPARENT.exec(value.trim());
  if (!m || m[1] === "ff" || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return null;
  // Version 00 has exactly four fields; later versions may append more (the regex rejects them).
  return { traceId: m[2], spanId: m[3], sampled: (parseInt(m[4], 16) & 1) === 1 };
}

/** The traceparent header that makes a span the parent of a downstream call. */
export function traceparentOf(span: { traceId: string; spanId: string }): string {
  return `00-${span.traceId}-${span.spanId}-01`;
}

/** Options of {@link createTracer}. */
export interface TracerOptions {
  /** Receives each finished span; must not block (the exporter queues). */
  onEnd: (span: SpanData) => void;
  /** Share of parentless traces sampled, 0..1. */
  sampleRate: number;
  /** Random source in [0,1) for sampling. Default Math.random. */
  random?: () => number;
  /** Nanosecond epoch clock. Default: Date.now at start plus the monotonic clock since. */
  nowNs?: () => bigint;
  /** Shuts the span sink down. */
  shutdown?: () => Promise<void>;
}

function epochClock(): () => bigint {
  const baseMs = BigInt(Date.now());
  const baseHr = process.hrtime.bigint();
  return () => baseMs * 1_000_000n + (process.hrtime.bigint() - baseHr);
}

export function createTracer(opts: TracerOptions): Tracer {
  const now = opts.nowNs ?? epochClock();
  const random = opts.random ?? Math.random;
  return {
    start(name, traceparent, attributes = {}) {
      const parent = parseTraceparent(traceparent);
      const sampled = parent ? parent.sampled : random() < opts.sampleRate;
      if (!sampled) return null;
      const data: SpanData = {
        traceId: parent?.traceId ?? randomBytes(16).toString("hex"),
        spanId: randomBytes(8).toString("hex"),
        parentSpanId: parent?.spanId ?? "",
        name,
        kind: 2,
        startNs: now(),
        endNs: 0n,
        attributes: { ...attributes },
        statusCode: 0,
        statusMessage: "",
      };
      let ended = false;
      return {
        traceId: data.traceId,
        spanId: data.spanId,
        setAttributes(more) {
          Object.assign(data.attributes, more);
        },
        end(status) {
          if (ended) return;
          ended = true;
          data.endNs = now();
          if (status) {
            data.statusCode = status.error ? 2 : 1;
            data.statusMessage = status.error ? (status.message ?? "").slice(0, 200) : "";
          }
          opts.onEnd(data);
        },
      };
    },
    shutdown: opts.shutdown ?? (async () => {}),
  };
}
