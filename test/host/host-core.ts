/**
 * The internal seams between the fake host's parts: what a context offers to the ABI functions,
 * and what the ABI functions need from the host. FakeHost implements HostCore; RootContext and
 * HttpStream implement HostContext.
 */
import type { AbiVersion, BufferType, HeaderMapType, LogLevel, StreamType, WasmResult } from "./abi.ts";
import type { HostBuffer } from "./buffers.ts";
import type { HeaderMap } from "./header-map.ts";
import type { GuestMemory } from "./memory.ts";
import type {
  GrpcCallRecord,
  GrpcStreamRecord,
  HttpCallRecord,
  LocalResponse,
  LogEntry,
  MetricRecord,
} from "./records.ts";
import type { SharedData, SharedQueues } from "./shared-state.ts";

/** A proxy-wasm context as the ABI functions see it. */
export interface HostContext {
  readonly id: number;
  readonly isRoot: boolean;
  /** A map the module may read now, or null when Envoy would not expose it at this point. */
  readableHeaderMap(type: HeaderMapType): HeaderMap | null;
  /** A map the module may modify now (Envoy's getMap: only the four HTTP maps), or null. */
  writableHeaderMap(type: HeaderMapType): HeaderMap | null;
  /** The buffer of that type, or null when Envoy answers NotFound. */
  buffer(type: BufferType): HostBuffer | null;
  getProperty(path: string): Uint8Array | undefined;
  setProperty(path: string, value: Uint8Array): WasmResult;
  continueStream(type: StreamType): WasmResult;
  closeStream(type: StreamType): WasmResult;
  sendLocalResponse(response: LocalResponse): void;
}

/** What the ABI function implementations need from the host. */
export interface HostCore {
  readonly abiVersion: AbiVersion;
  readonly vmId: string;
  readonly memory: GuestMemory;
  readonly logLevel: LogLevel;
  readonly env: Readonly<Record<string, string>>;
  readonly sharedData: SharedData;
  readonly sharedQueues: SharedQueues;
  readonly metrics: Map<string, MetricRecord>;
  readonly grpcCalls: GrpcCallRecord[];
  readonly grpcStreams: GrpcStreamRecord[];
  readonly httpCalls: HttpCallRecord[];
  readonly warnings: string[];

  /** Records a module log line, dropping it below the host's log level as Envoy does. */
  log(level: LogLevel, message: string, source: LogEntry["source"]): void;
  /** The context host calls act on: the effective context if one is set and alive, else the callee. */
  activeContext(): HostContext;
  rootContext(): HostContext;
  /** proxy_set_effective_context: BadArgument for unknown or deleted contexts. */
  setEffectiveContext(id: number): WasmResult;
  /** Status returned by proxy_get_status (last gRPC close / HTTP call failure). */
  status(): { code: number; message: Uint8Array };
  nowNanoseconds(): bigint;
  monotonicNanoseconds(): bigint;
  randomBytes(size: number): Uint8Array;
  setTickPeriod(ms: number): void;
  /** Marks the current callback as having sent a local reply (Envoy's stopNextIteration). */
  stopNextIteration(): void;
  /** Runs `action` after the current VM call returns, as Envoy's addAfterVmCallAction does. */
  afterVmCall(action: () => void): void;
  /** proxy_done for a root context pending finalization. */
  done(context: HostContext): WasmResult;
  /** Looks up a registered foreign function (Envoy registers a few; the fake host none by default). */
  foreignFunction(name: string): ((args: Uint8Array) => Uint8Array) | undefined;
  /** Clusters proxy_http_call may target; undefined accepts any. */
  readonly knownClusters: ReadonlySet<string> | undefined;
  nextGrpcCallToken(): number;
  nextGrpcStreamToken(): number;
  nextHttpCallToken(): number;
  /** A queue was written: deliver proxy_on_queue_ready to its registrant after the current call. */
  queueReady(token: number): void;
}
