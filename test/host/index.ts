/**
 * Entry point of the fake proxy-wasm host used by the filter tests. See README.md in this folder.
 */
export { FakeHost } from "./fake-host.ts";
export type { FakeHostOptions, HttpCallReply } from "./fake-host.ts";
export { HttpStream } from "./stream.ts";
export type { CallbackOutcome } from "./stream.ts";
export { ModuleRejected } from "./linker.ts";
export { SharedData, SharedQueues } from "./shared-state.ts";
export { serializePairs, parsePairs, bytesToText, toBytes } from "./memory.ts";
export type { HeaderPair } from "./memory.ts";
export { encodeGrpcServiceForCluster, decodeUpstreamCluster } from "./grpc-service.ts";
export { propertyPath, encodePropertyValue } from "./properties.ts";
export type { PropertyValue } from "./properties.ts";
export {
  BufferType,
  DataAction,
  GrpcStatus,
  HeaderAction,
  HeaderMapType,
  LogLevel,
  MetricType,
  StreamType,
  TrailerAction,
  WasmResult,
  FAIL_STREAM_DETAILS,
} from "./abi.ts";
export type {
  CallState,
  GrpcCallRecord,
  GrpcStreamRecord,
  HttpCallRecord,
  LocalResponse,
  LogEntry,
  MetricRecord,
  TrapRecord,
} from "./records.ts";
export { buildAssemblyScript, removeFixtureBuilds } from "./build-fixture.ts";
