// A local OTLP/HTTP trace receiver for tests: POST /v1/traces with either encoding the spec allows,
// protobuf (what Envoy's OpenTelemetry tracer sends) or JSON (what the sidecar sends). Every span
// is kept, flattened, with its service.name; `raw` keeps the request bodies as text for secret scans.
// The protobuf schema below is the subset of opentelemetry/proto (collector/trace/v1, trace/v1,
// common/v1, resource/v1) a receiver needs; field numbers are the upstream ones.
import http from "node:http";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs";

const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10; Status status = 15; fixed32 flags = 16;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; bytes bytes_value = 7; }
}
message ArrayValue { repeated AnyValue values = 1; }
`;
const ExportRequest = protobuf.parse(OTLP_PROTO, { keepCase: true }).root.lookupType("otlp.ExportTraceServiceRequest");

/** One received span, ids as lower-case hex. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  encoding: "protobuf" | "json";
}

export interface OtlpReceiver {
  /** Base URL for `tracing.otlp_endpoint`. */
  url: string;
  spans: ReceivedSpan[];
  /** Every request body as text (protobuf bodies decoded to JSON), for secret scans. */
  raw: string[];
  /** Requests refused as undecodable (a test should expect 0). */
  errors: string[];
  close(): Promise<void>;
}

type AnyValueObj = { string_value?: string; bool_value?: boolean; int_value?: string | number; double_value?: number; stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number };
type KeyValueObj = { key: string; value?: AnyValueObj };

function attrValue(v: AnyValueObj | undefined): string | number | boolean {
  if (!v) return "";
  const s = v.string_value ?? v.stringValue;
  if (s !== undefined) return s;
  const b = v.bool_value ?? v.boolValue;
  if (b !== undefined) return b;
  const i = v.int_value ?? v.intValue;
  if (i !== undefined) return Number(i);
  return v.double_value ?? v.doubleValue ?? "";
}

function attrs(list: KeyValueObj[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, attrValue(kv.value)]));
}

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString("hex");

function fromProtobuf(body: Buffer): { spans: ReceivedSpan[]; text: string } {
  const msg = ExportRequest.decode(body);
  const obj = ExportRequest.toObject(msg, { longs: String, bytes: Array, defaults: true }) as {
    resource_spans: Array<{ resource?: { attributes: KeyValueObj[] }; scope_spans: Array<{ spans: Array<Record<string, unknown>> }> }>;
  };
  const spans: ReceivedSpan[] = [];
  const decoded = ExportRequest.toObject(msg, { longs: String, bytes: Array }) as unknown;
  for (const rs of obj.resource_spans) {
    const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scope_spans) {
      for (const s of ss.spans) {
        spans.push({
          service,
          traceId: hex(Uint8Array.from(s.trace_id as number[])),
          spanId: hex(Uint8Array.from(s.span_id as number[])),
          parentSpanId: hex(Uint8Array.from(s.parent_span_id as number[])),
          name: String(s.name),
          kind: Number(s.kind),
          attributes: attrs(s.attributes as KeyValueObj[]),
          encoding: "protobuf",
        });
      }
    }
  }
  // Strings inside the protobuf stay readable in this JSON rendering (bytes become number arrays).
  return { spans, text: JSON.stringify(decoded) };
}

function fromJson(body: Buffer): { spans: ReceivedSpan[]; text: string } {
  const text = body.toString("utf8");
  const obj = JSON.parse(text) as {
    resourceSpans: Array<{ resource?: { attributes: KeyValueObj[] }; scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
  };
  const spans: ReceivedSpan[] = [];
  for (const rs of obj.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          service,
          traceId: String(s.traceId ?? "").toLowerCase(),
          spanId: String(s.spanId ?? "").toLowerCase(),
          parentSpanId: String(s.parentSpanId ?? "").toLowerCase(),
          name: String(s.name),
          kind: Number(s.kind ?? 0),
          attributes: attrs(s.attributes as KeyValueObj[]),
          encoding: "json",
        });
      }
    }
  }
  return { spans, text };
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const raw: string[] = [];
  const errors: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const type = String(req.headers["content-type"] ?? "");
      try {
        if (req.method !== "POST" || req.url !== "/v1/traces") throw new Error(`unexpected ${req.method} ${req.url}`);
        const got = type.startsWith("application/x-protobuf") ? fromProtobuf(body) : type.startsWith("application/json") ? fromJson(body) : null;
        if (!got) throw new Error(`unexpected content-type ${type}`);
        spans.push(...got.spans);
        raw.push(got.text);
        // An empty ExportTraceServiceResponse means full success in both encodings.
        res.writeHead(200, { "content-type": type.startsWith("application/json") ? "application/json" : "application/x-protobuf" });
        res.end(type.startsWith("application/json") ? "{}" : "");
      } catch (err) {
        errors.push(String(err));
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    raw,
    errors,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
