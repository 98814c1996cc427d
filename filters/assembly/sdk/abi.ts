// proxy-wasm ABI 0.2.1 constants, as the host defines them.

export enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }

export enum WasmResult {
  Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4,
  BadExpression = 5, InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, ResultMismatch = 9,
  InternalFailure = 10, BrokenConnection = 11, Unimplemented = 12,
}

export enum HeadersAction {
  Continue = 0, StopIteration = 1, ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3, StopAllIterationAndWatermark = 4,
}

export enum DataAction {
  Continue = 0, StopIterationAndBuffer = 1, StopIterationAndWatermark = 2, StopIterationNoBuffer = 3,
}

export enum HeaderMap {
  RequestHeaders = 0, RequestTrailers = 1, ResponseHeaders = 2, ResponseTrailers = 3,
  GrpcInitialMetadata = 4, GrpcTrailingMetadata = 5,
  HttpCallResponseHeaders = 6, HttpCallResponseTrailers = 7,
}

export enum BufferType {
  HttpRequestBody = 0, HttpResponseBody = 1, DownstreamData = 2, UpstreamData = 3,
  HttpCallResponseBody = 4, GrpcReceiveBuffer = 5, VmConfiguration = 6,
  PluginConfiguration = 7, CallData = 8,
}

export enum StreamType { Request = 0, Response = 1, Downstream = 2, Upstream = 3 }

export enum MetricType { Counter = 0, Gauge = 1, Histogram = 2 }

export enum GrpcStatus {
  Ok = 0, Cancelled = 1, Unknown = 2, InvalidArgument = 3, DeadlineExceeded = 4, NotFound = 5,
  AlreadyExists = 6, PermissionDenied = 7, ResourceExhausted = 8, FailedPrecondition = 9,
  Aborted = 10, OutOfRange = 11, Unimplemented = 12, Internal = 13, Unavailable = 14,
  DataLoss = 15, Unauthenticated = 16,
}
