// Exports the sidecar's spans to an OTLP/HTTP collector as JSON (POST <endpoint>/v1/traces,
// the OTLP/HTTP JSON encoding: hex ids, nanosecond times as strings). Never on the request path:
// spans go into a bounded in-memory queue and a timer sends them in batches, one request at a time.
// When the queue is full or the collector fails, spans are dropped and counted; tracing must never
// slow down or fail a request.
import { Counter, type Registry } from "prom-client";
import type { Logger } from "./logger.ts";
import { createTracer, type AttributeValue, type SpanData, type Tracer } from "./tracing.ts";

/** Options of {@link createOtlpTracer}. */
export interface OtlpTracerOptions {
  /** Collector base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** Resource attribute service.name. */
  serviceName: string;
  /** Share of parentless traces sampled, 0..1. */
  sampleRate: number;
  registry: Registry;
  log: Logger;
  /** Spans held at most; more are dropped. Default 2048. */
  maxQueue?: number;
  /** Spans per export request. Default 512. */
  maxBatch?: number;
  /** Export interval in ms. Default 1000. */
  intervalMs?: number;
  /** Deadline of one export request in ms. Default 5000. */
  timeoutMs?: number;
}

/** Longest a shutdown waits for the last export. */
const SHUTDOWN_WAIT_MS = 3000;

function attribute(key: string, value: AttributeValue): Record<string, unknown> {
  if (typeof value === "boolean") return { key, value: { boolValue: value } };
  if (typeof value === "number") {
    return { key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } };
  }
  return { key, value: { stringValue: value } };
}

function spanJson(s: SpanData): Record<string, unknown> {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startNs.toString(),
    endTimeUnixNano: s.endNs.toString(),
    attributes: Object.entries(s.attributes).map(([k, v]) => attribute(k, v)),
    status: s.statusCode === 0 ? {} : { code: s.statusCode, ...(s.statusMessage ? { message: s.statusMessage } : {}) },
  };
}

/** The request body of one export: ExportTraceServiceRequest in OTLP JSON. */
export function exportRequestJson(serviceName: string, spans: SpanData[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [attribute("service.name", serviceName)] },
        scopeSpans: [{ scope: { name: "leash-sidecar" }, spans: spans.map(spanJson) }],
      },
    ],
  });
}

export function createOtlpTracer(opts: OtlpTracerOptions): Tracer {
  const url = opts.endpoint.replace(/\/+$/, "") + "/v1/traces";
  const maxQueue = opts.maxQueue ?? 2048;
  const maxBatch = opts.maxBatch ?? 512;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const registers = [opts.registry];
  const exported = new Counter({ name: "leash_tracing_spans_exported_total", help: "Spans the OTLP collector accepted.", registers });
  const dropped = new Counter({
    name: "leash_tracing_spans_dropped_total",
    help: "Spans not exported: queue_full (collector too slow or down) or export_failed (collector refused or unreachable).",
    labelNames: ["reason"],
    registers,
  });
  let queue: SpanData[] = [];
  let sending: Promise<void> | null = null;
  let lastError = 0;

  const send = async (batch: SpanData[]): Promise<void> => {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: exportRequestJson(opts.serviceName, batch),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`collector answered ${res.status}`);
      exported.inc(batch.length);
    } catch (err) {
      dropped.inc({ reason: "export_failed" }, batch.length);
      // One line a minute at most: a collector outage must not flood the logs.
      if (Date.now() - lastError > 60_000) {
        lastError = Date.now();
        opts.log.warn("trace export failed; spans dropped", { url, spans: batch.length, error: err });
      }
    }
  };

  /** Sends queued spans, one request at a time, until the queue is empty. */
  const drain = (): Promise<void> => {
    if (sending) return sending;
    if (queue.length === 0) return Promise.resolve();
    sending = (async () => {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        await send(batch);
      }
    })().finally(() => {
      sending = null;
    });
    return sending;
  };

  const timer = setInterval(() => void drain(), opts.intervalMs ?? 1000);
  timer.unref();

  return createTracer({
    sampleRate: opts.sampleRate,
    onEnd(span) {
      if (queue.length >= maxQueue) {
        dropped.inc({ reason: "queue_full" });
        return;
      }
      queue.push(span);
    },
    async shutdown() {
      clearInterval(timer);
      // Bounded: a dead collector must not hold up the sidecar's shutdown.
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([drain(), new Promise<void>((r) => (giveUp = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
      clearTimeout(giveUp);
    },
  });
}
