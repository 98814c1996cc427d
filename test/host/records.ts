/**
 * Plain records the fake host keeps of what a module did, for test assertions.
 */
import type { LogLevel, MetricType } from "./abi.ts";
import type { HeaderPair } from "./memory.ts";

/** One log line: proxy_log, or stdout/stderr written through WASI fd_write. */
export interface LogEntry {
  level: LogLevel;
  message: string;
  /** Context the module was acting on (the effective context when one was set). */
  contextId: number;
  source: "proxy_log" | "stdout" | "stderr";
}

/** A proxy_send_local_response call, or the 503 the host sends when it fails a stream closed. */
export interface LocalResponse {
  status: number;
  details: string;
  body: string;
  bodyBytes: Uint8Array;
  /** Additional headers the module asked for (names lowercased, as Envoy adds them). */
  headers: HeaderPair[];
  /**
   * gRPC status as Envoy uses it: null when the module passed a value outside 0..16 (SDKs pass -1
   * for "not a gRPC reply"), in which case Envoy sends no grpc-status.
   */
  grpcStatus: number | null;
  /** The raw grpc_status argument, read as a signed 32-bit number. */
  rawGrpcStatus: number;
  /** True when the host produced it (fail-closed after a VM failure), not the module. */
  byHost: boolean;
}

export type CallState = "pending" | "responded" | "failed" | "cancelled";

/** A proxy_grpc_call. */
export interface GrpcCallRecord {
  token: number;
  /** The raw `upstream` bytes (a serialized envoy GrpcService, or a bare cluster name). */
  upstream: Uint8Array;
  /** Cluster name decoded from `upstream` (GrpcService.envoy_grpc.cluster_name, or the bare name). */
  upstreamCluster: string | null;
  service: string;
  method: string;
  metadata: HeaderPair[];
  message: Uint8Array;
  timeoutMs: number;
  /** Context the module was acting on when it issued the call (a stream id, or the root id). */
  contextId: number;
  state: CallState;
}

/** A proxy_grpc_stream and what the module sent on it. */
export interface GrpcStreamRecord {
  token: number;
  upstream: Uint8Array;
  upstreamCluster: string | null;
  service: string;
  method: string;
  metadata: HeaderPair[];
  contextId: number;
  sent: Uint8Array[];
  /** The module called proxy_grpc_send with end_stream, or proxy_grpc_close. */
  localClosed: boolean;
  state: CallState;
}

/** A proxy_http_call. */
export interface HttpCallRecord {
  token: number;
  cluster: string;
  headers: HeaderPair[];
  body: Uint8Array;
  trailers: HeaderPair[];
  timeoutMs: number;
  contextId: number;
  state: CallState;
}

export interface MetricRecord {
  type: MetricType;
  /** Counter total, gauge value, or the last value recorded into a histogram. */
  value: number;
  /** Every value recorded into a histogram. */
  samples: number[];
}

/** A module trap (or other fatal VM error) as the host saw it. */
export interface TrapRecord {
  /** Export that was running: a callback name, `_initialize`, `malloc`… */
  callback: string;
  contextId: number;
  message: string;
  error: unknown;
}
