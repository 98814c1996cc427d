/**
 * Constants of the proxy-wasm ABI 0.2.x as Envoy implements it, and the exact wasm signatures of
 * every function Envoy offers to a module and of every callback it looks up in one.
 *
 * Sources (facts only): proxy-wasm/spec abi-versions/v0.2.1, proxy-wasm/proxy-wasm-cpp-host
 * (include/proxy-wasm/exports.h, src/exports.cc, src/wasm.cc, include/proxy-wasm/wasm.h) and
 * envoyproxy/envoy source/extensions/common/wasm/context.cc.
 */

/** Status code every `proxy_*` host function returns (`proxy_status_t`). */
export enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** `proxy_map_type_t`: which header/trailer/metadata map a header call addresses. */
export enum HeaderMapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}
/** Highest valid map type; the host answers BadArgument above it before anything else. */
export const HEADER_MAP_TYPE_MAX: number = HeaderMapType.HttpCallResponseTrailers;

/** `proxy_buffer_type_t`. */
export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  NetworkDownstreamData = 2,
  NetworkUpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}
export const BUFFER_TYPE_MAX: number = BufferType.CallData;

/** `proxy_stream_type_t` for proxy_continue_stream / proxy_close_stream. */
export enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}
export const STREAM_TYPE_MAX: number = StreamType.Upstream;

/** What `proxy_on_request_headers` / `proxy_on_response_headers` may return. */
export enum HeaderAction {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** What `proxy_on_request_body` / `proxy_on_response_body` may return. */
export enum DataAction {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** What the trailers callbacks may return. */
export enum TrailerAction {
  Continue = 0,
  StopIteration = 1,
}

/** `proxy_log_level_t` (the spdlog numbering Envoy uses). */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}
export const LOG_LEVEL_MAX: number = LogLevel.Critical;

/** `proxy_metric_type_t`. Envoy encodes the type in the low two bits of every metric id. */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}
export const METRIC_TYPE_MASK = 0x3;
export const METRIC_ID_INCREMENT = 0x4;

/** gRPC status codes the host uses itself (fail-closed replies, cancelled calls). */
export enum GrpcStatus {
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  DeadlineExceeded = 4,
  PermissionDenied = 7,
  Unavailable = 14,
  Unauthenticated = 16,
}

/** WASI errno values Envoy returns from its WASI shims. */
export enum WasiErrno {
  Success = 0,
  BadF = 8,
  Fault = 21,
  Inval = 28,
  NoEnt = 44,
  NoSys = 52,
  NotSup = 58,
}

/** Envoy refuses `random_get` above this many bytes (PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES). */
export const WASI_RANDOM_GET_MAX_BYTES: number = 64 * 1024;

/** Response details Envoy puts on the 503 it sends when a VM failure fails a stream closed. */
export const FAIL_STREAM_DETAILS = "wasm_fail_stream";

/** A wasm value type as it appears in a function signature. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

/** A function signature: parameter and result types. */
export interface Signature {
  params: ValType[];
  results: ValType[];
}

/** The ABI versions a module can advertise with a `proxy_abi_version_*` export. */
export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

/** Export name → ABI version, in the order Envoy's bytecode scan recognises them. */
export const ABI_VERSION_EXPORTS: ReadonlyArray<readonly [string, AbiVersion]> = [
  ["proxy_abi_version_0_1_0", "0.1.0"],
  ["proxy_abi_version_0_2_0", "0.2.0"],
  ["proxy_abi_version_0_2_1", "0.2.1"],
];

/** `n` i32 parameters: almost every ABI word is a 32-bit pointer, length or enum on wasm32. */
function i32s(n: number): ValType[] {
  return new Array<ValType>(n).fill("i32");
}
/** Shorthand for a host function returning a status word. */
function status(params: ValType[]): Signature {
  return { params, results: ["i32"] };
}

/**
 * Every `env.proxy_*` function Envoy registers for any 0.2.x module (FOR_ALL_HOST_FUNCTIONS), with
 * its wasm32 signature. `int64_t`/`uint64_t` parameters are i64; everything else is an i32 word.
 */
export const PROXY_HOST_FUNCTIONS: Readonly<Record<string, Signature>> = {
  proxy_log: status(i32s(3)),
  proxy_get_status: status(i32s(3)),
  proxy_set_property: status(i32s(4)),
  proxy_get_property: status(i32s(4)),
  proxy_send_local_response: status(i32s(8)),
  proxy_get_shared_data: status(i32s(5)),
  proxy_set_shared_data: status(i32s(5)),
  proxy_register_shared_queue: status(i32s(3)),
  proxy_resolve_shared_queue: status(i32s(5)),
  proxy_dequeue_shared_queue: status(i32s(3)),
  proxy_enqueue_shared_queue: status(i32s(3)),
  proxy_get_header_map_value: status(i32s(5)),
  proxy_add_header_map_value: status(i32s(5)),
  proxy_replace_header_map_value: status(i32s(5)),
  proxy_remove_header_map_value: status(i32s(3)),
  proxy_get_header_map_pairs: status(i32s(3)),
  proxy_set_header_map_pairs: status(i32s(3)),
  proxy_get_header_map_size: status(i32s(2)),
  proxy_get_buffer_status: status(i32s(3)),
  proxy_get_buffer_bytes: status(i32s(5)),
  proxy_set_buffer_bytes: status(i32s(5)),
  proxy_http_call: status(i32s(10)),
  proxy_grpc_call: status(i32s(12)),
  proxy_grpc_stream: status(i32s(9)),
  proxy_grpc_close: status(i32s(1)),
  proxy_grpc_cancel: status(i32s(1)),
  proxy_grpc_send: status(i32s(4)),
  proxy_set_tick_period_milliseconds: status(i32s(1)),
  proxy_get_current_time_nanoseconds: status(i32s(1)),
  proxy_define_metric: status(i32s(4)),
  proxy_increment_metric: status(["i32", "i64"]),
  proxy_record_metric: status(["i32", "i64"]),
  proxy_get_metric: status(i32s(2)),
  proxy_set_effective_context: status(i32s(1)),
  proxy_done: status([]),
  proxy_call_foreign_function: status(i32s(6)),
};

/**
 * Functions Envoy registers only for some ABI versions (src/wasm.cc registerCallbacks). Note what
 * is absent: `proxy_clear_route_cache`, `proxy_get_configuration`, `proxy_continue_request` and
 * `proxy_continue_response` exist only under ABI 0.1.0, so a 0.2.x module importing them fails to
 * link in Envoy, and must fail here too.
 */
export const ABI_SPECIFIC_HOST_FUNCTIONS: Readonly<Record<"0.2.0" | "0.2.1", Readonly<Record<string, Signature>>>> = {
  "0.2.0": {
    proxy_continue_stream: status(i32s(1)),
    proxy_close_stream: status(i32s(1)),
  },
  "0.2.1": {
    proxy_continue_stream: status(i32s(1)),
    proxy_close_stream: status(i32s(1)),
    proxy_get_log_level: status(i32s(1)),
  },
};

/** Emscripten/pthread helpers Envoy also registers under "env". */
export const ENV_EXTRA_FUNCTIONS: Readonly<Record<string, Signature>> = {
  pthread_equal: status(i32s(2)),
  emscripten_notify_memory_growth: { params: ["i32"], results: [] },
};

/** The WASI subset Envoy offers (FOR_ALL_WASI_FUNCTIONS), under both WASI module names. */
export const WASI_FUNCTIONS: Readonly<Record<string, Signature>> = {
  fd_write: status(i32s(4)),
  fd_read: status(i32s(4)),
  fd_seek: status(["i32", "i64", "i32", "i32"]),
  fd_close: status(i32s(1)),
  fd_fdstat_get: status(i32s(2)),
  environ_get: status(i32s(2)),
  environ_sizes_get: status(i32s(2)),
  args_get: status(i32s(2)),
  args_sizes_get: status(i32s(2)),
  clock_time_get: status(["i32", "i64", "i32"]),
  random_get: status(i32s(2)),
  proc_exit: { params: ["i32"], results: [] },
  path_open: status(["i32", "i32", "i32", "i32", "i32", "i64", "i64", "i32", "i32"]),
  fd_prestat_get: status(i32s(2)),
  fd_prestat_dir_name: status(i32s(3)),
};
export const WASI_MODULES: readonly string[] = ["wasi_snapshot_preview1", "wasi_unstable"];

/**
 * Imports Envoy lets a module call while `_initialize`/`main`/`_start` run (WasmBase::startVm);
 * anything else called at that point fails the VM.
 */
export const ALLOWED_DURING_START: ReadonlySet<string> = new Set<string>([
  "env.proxy_log",
  ...WASI_MODULES.flatMap((m: string) =>
    [
      "fd_write",
      "args_sizes_get",
      "args_get",
      "environ_sizes_get",
      "environ_get",
      "fd_prestat_get",
      "fd_prestat_dir_name",
      "clock_time_get",
      "random_get",
    ].map((f: string) => `${m}.${f}`),
  ),
]);

/** A callback signature: `n` i32 params, returning an i32 word or nothing. */
function callback(n: number, returnsWord: boolean): Signature {
  return { params: i32s(n), results: returnsWord ? ["i32"] : [] };
}

/**
 * Module exports Envoy looks up, with the signature it insists on (a mismatch makes Envoy refuse the
 * module with "Bad function signature for: NAME"). Absent callbacks are simply not called.
 */
export const MODULE_EXPORT_SIGNATURES: Readonly<Record<string, Signature>> = {
  _initialize: callback(0, false),
  _start: callback(0, false),
  main: callback(2, true),
  malloc: callback(1, true),
  proxy_on_memory_allocate: callback(1, true),
  proxy_validate_configuration: callback(2, true),
  proxy_on_vm_start: callback(2, true),
  proxy_on_configure: callback(2, true),
  proxy_on_tick: callback(1, false),
  proxy_on_context_create: callback(2, false),
  proxy_on_new_connection: callback(1, true),
  proxy_on_downstream_data: callback(3, true),
  proxy_on_upstream_data: callback(3, true),
  proxy_on_downstream_connection_close: callback(2, false),
  proxy_on_upstream_connection_close: callback(2, false),
  proxy_on_request_headers: callback(3, true),
  proxy_on_request_body: callback(3, true),
  proxy_on_request_trailers: callback(2, true),
  proxy_on_request_metadata: callback(2, true),
  proxy_on_response_headers: callback(3, true),
  proxy_on_response_body: callback(3, true),
  proxy_on_response_trailers: callback(2, true),
  proxy_on_response_metadata: callback(2, true),
  proxy_on_http_call_response: callback(5, false),
  proxy_on_grpc_receive: callback(3, false),
  proxy_on_grpc_close: callback(3, false),
  proxy_on_grpc_receive_initial_metadata: callback(3, false),
  proxy_on_grpc_receive_trailing_metadata: callback(3, false),
  // Pre-0.2 SDK name of the trailing-metadata callback. Envoy never calls it under 0.2.x; the fake
  // host falls back to it (with a warning) so older SDK builds still run.
  proxy_on_grpc_trailing_metadata: callback(3, false),
  proxy_on_queue_ready: callback(2, false),
  proxy_on_foreign_function: callback(3, false),
  proxy_on_done: callback(1, true),
  proxy_on_log: callback(1, false),
  proxy_on_delete: callback(1, false),
};
