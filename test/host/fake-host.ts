/**
 * An in-process proxy-wasm host that behaves like Envoy (ABI 0.2.x, V8), for running the built
 * filter modules inside Node tests — the role proxy-wasm-go-sdk's `proxytest` plays for Go.
 *
 *   const host = await FakeHost.load("build/auth.wasm", { rootId: "auth", pluginConfig: "{}" });
 *   assert.ok(host.startOk);
 *   const s = host.newHttpStream();
 *   s.requestHeaders([[":method", "POST"], [":path", "/v1/chat"]]);
 *   host.respondGrpc(host.grpcCalls[0].token, replyBytes);
 *   assert.equal(s.localResponse?.status, 403);
 *
 * Loading refuses what Envoy refuses (unknown or mistyped imports, bad callback signatures, no ABI
 * marker, no allocator) with a ModuleRejected error. A trap inside the module never escapes: it is
 * recorded in `host.trapped`, the VM is failed for good, and streams are answered as Envoy's
 * failure policy would (503 fail-closed by default, untouched when `failOpen`).
 */
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";

import { ALLOWED_DURING_START, LogLevel, WasmResult } from "./abi.ts";
import type { AbiVersion } from "./abi.ts";
import { HeaderMap } from "./header-map.ts";
import type { HostContext, HostCore } from "./host-core.ts";
import { countingCalls } from "./call-counter.ts";
import { createProxyFunctions } from "./host-functions.ts";
import { ModuleRejected, detectAbiVersion, exportProblems, importProblems, offerImports } from "./linker.ts";
import type { OfferedImports } from "./linker.ts";
import { GuestMemory, toBytes } from "./memory.ts";
import { encodePropertyValue, propertyPath } from "./properties.ts";
import type { PropertyValue } from "./properties.ts";
import type {
  GrpcCallRecord,
  GrpcStreamRecord,
  HttpCallRecord,
  LogEntry,
  MetricRecord,
  TrapRecord,
} from "./records.ts";
import { RootContext } from "./root-context.ts";
import type { RootEnvironment } from "./root-context.ts";
import { SharedData, SharedQueues } from "./shared-state.ts";
import { HttpStream } from "./stream.ts";
import type { StreamHost } from "./stream.ts";
import { ProcExit, createWasiFunctions } from "./wasi.ts";
import { readModuleShape } from "./wasm-binary.ts";
import type { ModuleShape } from "./wasm-binary.ts";

export interface FakeHostOptions {
  /** PluginConfig.root_id (readable as property `plugin_root_id`). */
  rootId?: string;
  /** VmConfig.vm_id: scopes shared data and queues. */
  vmId?: string;
  /** PluginConfig.name (property `plugin_name`). */
  pluginName?: string;
  /** VmConfig.configuration, unwrapped as Envoy passes it (BufferType VmConfiguration). */
  vmConfig?: string | Uint8Array;
  /** PluginConfig.configuration, unwrapped (BufferType PluginConfiguration, during on_configure). */
  pluginConfig?: string | Uint8Array;
  /**
   * Host properties for proxy_get_property. Keys are paths: segments separated by "." (or by NUL
   * when a segment itself contains a dot); numbers and bigints are encoded as 8-byte LE integers.
   */
  properties?: Record<string, PropertyValue>;
  /** failure_policy FAIL_OPEN: after a VM failure, streams pass untouched instead of getting a 503. */
  failOpen?: boolean;
  /** PluginConfig.allow_on_headers_stop_iteration. */
  allowOnHeadersStopIteration?: boolean;
  /** Wall clock in nanoseconds since the epoch (proxy_get_current_time_nanoseconds, WASI realtime). */
  now?: () => bigint;
  /** Monotonic clock in nanoseconds (WASI clock 1); defaults to `now` when given, else process.hrtime. */
  monotonicNow?: () => bigint;
  /** Envoy's log level: proxy_get_log_level answers it and lower-level lines are dropped. Default Info. */
  logLevel?: LogLevel;
  /** VmConfig.environment_variables, visible through WASI environ_get. */
  env?: Record<string, string>;
  /** Clusters that exist, for proxy_http_call and proxy_grpc_call (unknown → BadArgument). Default: any cluster exists. */
  clusters?: readonly string[];
  /** Share with other FakeHosts to model several workers of one Envoy process. */
  sharedData?: SharedData;
  sharedQueues?: SharedQueues;
  /** Foreign functions for proxy_call_foreign_function (unknown names → NotFound, as in Envoy). */
  foreignFunctions?: Record<string, (args: Uint8Array) => Uint8Array>;
  /** Source of WASI random_get bytes (default: node:crypto). */
  random?: (size: number) => Uint8Array;
  /**
   * Counts the module's proxy-wasm host calls into this map: by function name, and for header and
   * property calls also by `<function> <key>` (e.g. `proxy_get_header_map_value 0 :path`), so a
   * benchmark can say which calls a request makes (bench/chain-vm.ts --count-calls).
   */
  countCalls?: Map<string, number>;
}

/** Reply to a proxy_http_call. */
export interface HttpCallReply {
  /** Shorthand for a `:status` header when `headers` has none. Default 200. */
  status?: number;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string | Uint8Array;
  trailers?: ReadonlyArray<readonly [string, string]>;
}

/** Thrown from a host import to trap the module (a call Envoy refuses at this point). */
class HostTrap extends Error {}

function isTrap(e: unknown): boolean {
  return (
    e instanceof WebAssembly.RuntimeError ||
    e instanceof ProcExit ||
    e instanceof HostTrap ||
    (e instanceof RangeError && /call stack/i.test(e.message)) // wasm stack overflow
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ExportedFunction = (...args: number[]) => any;

export class FakeHost implements HostCore, StreamHost, RootEnvironment {
  /** Log lines at or above `logLevel`, in order. */
  readonly logs: LogEntry[] = [];
  /** Things that work in Envoy but are probably mistakes (e.g. a local reply on the root context). */
  readonly warnings: string[] = [];
  /** Metric name → type and value. */
  readonly metrics: Map<string, MetricRecord> = new Map();
  readonly grpcCalls: GrpcCallRecord[] = [];
  readonly grpcStreams: GrpcStreamRecord[] = [];
  readonly httpCalls: HttpCallRecord[] = [];
  /** proxy_on_vm_start and proxy_on_configure both succeeded (false: Envoy rejects the config). */
  startOk: boolean = false;
  /** The trap that failed the VM, or null. */
  trapped: TrapRecord | null = null;
  /** Last proxy_set_tick_period_milliseconds (0: no timer). */
  tickPeriodMs: number = 0;

  readonly abiVersion: AbiVersion;
  readonly vmId: string;
  readonly rootId: string;
  readonly logLevel: LogLevel;
  readonly env: Readonly<Record<string, string>>;
  readonly failOpen: boolean;
  readonly allowOnHeadersStopIteration: boolean;
  readonly sharedData: SharedData;
  readonly sharedQueues: SharedQueues;
  readonly knownClusters: ReadonlySet<string> | undefined;
  readonly vmConfig: Uint8Array;
  readonly pluginConfig: Uint8Array;
  /** Names the module exports. */
  readonly exportNames: ReadonlySet<string>;

  private readonly options: FakeHostOptions;
  private readonly properties: Map<string, Uint8Array> = new Map();
  private readonly contexts: Map<number, HostContext> = new Map();
  private readonly root: RootContext;
  private exportsTable: Record<string, ExportedFunction> = {};
  private guestMemory: GuestMemory | null = null;
  private nextContextId: number = 1; // 0 is Envoy's VM context
  private currentContextId: number = 0;
  private effectiveContextId: number = 0;
  private starting: boolean = false;
  private stopFlag: boolean = false;
  private actionDepth: number = 0;
  private readonly actions: Array<() => void> = [];
  private nextGrpcToken: number = 1; // odd: unary calls, even: streams
  private nextHttpToken: number = 1;
  private rootPendingDone: boolean = false;

  private constructor(abiVersion: AbiVersion, shape: ModuleShape, options: FakeHostOptions) {
    this.options = options;
    this.abiVersion = abiVersion;
    this.vmId = options.vmId ?? "";
    this.rootId = options.rootId ?? "";
    this.logLevel = options.logLevel ?? LogLevel.Info;
    this.env = { ...(options.env ?? {}) };
    this.failOpen = options.failOpen ?? false;
    this.allowOnHeadersStopIteration = options.allowOnHeadersStopIteration ?? false;
    this.sharedData = options.sharedData ?? new SharedData();
    this.sharedQueues = options.sharedQueues ?? new SharedQueues();
    this.knownClusters = options.clusters === undefined ? undefined : new Set(options.clusters);
    this.vmConfig = toBytes(options.vmConfig ?? "");
    this.pluginConfig = toBytes(options.pluginConfig ?? "");
    this.exportNames = new Set(shape.exports.map((e) => e.name));
    this.setProperty(["plugin_root_id"], this.rootId);
    this.setProperty(["plugin_name"], options.pluginName ?? this.rootId);
    this.setProperty(["plugin_vm_id"], this.vmId);
    for (const [path, value] of Object.entries(options.properties ?? {})) this.setProperty(path, value);
    this.root = new RootContext(this.nextContextId++, this);
  }

  /** Loads, links and starts the module at `wasmPath`. Rejects with ModuleRejected where Envoy would. */
  static async load(wasmPath: string, options: FakeHostOptions = {}): Promise<FakeHost> {
    return FakeHost.fromBytes(new Uint8Array(await readFile(wasmPath)), options, wasmPath);
  }

  /** Same as load(), from module bytes; `source` names the module in errors. */
  static async fromBytes(
    bytes: Uint8Array,
    options: FakeHostOptions = {},
    source: string = "<module>",
  ): Promise<FakeHost> {
    const shape: ModuleShape = readModuleShape(bytes);
    const abi: "0.2.0" | "0.2.1" = detectAbiVersion(shape, source);
    const host: FakeHost = new FakeHost(abi, shape, options);
    const proxy = createProxyFunctions(host);
    const offered: OfferedImports = offerImports(abi, options.countCalls ? countingCalls(proxy, host, options.countCalls) : proxy, createWasiFunctions(host), (name) =>
      host.guardImport(name),
    );
    const problems: string[] = [...importProblems(shape, offered, abi), ...exportProblems(shape)];
    if (problems.length > 0) throw new ModuleRejected(source, problems);
    // Copy: compile() wants a view backed by a plain ArrayBuffer.
    const module: WebAssembly.Module = await WebAssembly.compile(new Uint8Array(bytes));
    const instance: WebAssembly.Instance = await WebAssembly.instantiate(module, offered.object);
    host.attach(instance);
    host.start();
    return host;
  }

  // ---------------------------------------------------------------------------------------------
  // Driving the plugin
  // ---------------------------------------------------------------------------------------------

  /** Creates a stream context (proxy_on_context_create(id, root)). */
  newHttpStream(): HttpStream {
    if (!this.startOk) {
      throw new Error("the plugin did not start (startOk is false): Envoy would have rejected this configuration");
    }
    const stream: HttpStream = new HttpStream(this.nextContextId++, this);
    this.contexts.set(stream.id, stream);
    this.withAfterActions(() => {
      if (!this.failed && this.hasExport("proxy_on_context_create")) {
        this.callExport("proxy_on_context_create", stream.id, [stream.id, this.root.id]);
      }
    });
    return stream;
  }

  /** Fires the root context's timer once (proxy_on_tick), whatever the period. */
  tick(): void {
    this.rootCallback("proxy_on_tick", [this.root.id]);
  }

  /** Answers a pending unary gRPC call successfully: proxy_on_grpc_receive only, as Envoy does. */
  respondGrpc(token: number, message: string | Uint8Array): void {
    const call: GrpcCallRecord = this.pendingGrpcCall(token);
    call.state = "responded";
    const bytes: Uint8Array = toBytes(message);
    this.root.grpcReceiveBuffer = bytes;
    try {
      this.rootCallback("proxy_on_grpc_receive", [this.root.id, token, bytes.length]);
    } finally {
      this.root.grpcReceiveBuffer = null;
    }
  }

  /** Fails a pending unary gRPC call: proxy_on_grpc_close(status), with proxy_get_status answering status/message. */
  failGrpc(token: number, status: number, message: string = ""): void {
    const call: GrpcCallRecord = this.pendingGrpcCall(token);
    call.state = "failed";
    this.closeWithStatus(token, status, message);
  }

  /** Delivers initial metadata on a gRPC stream (proxy_on_grpc_receive_initial_metadata). */
  grpcStreamInitialMetadata(token: number, metadata: ReadonlyArray<readonly [string, string]>): void {
    this.pendingGrpcStream(token);
    this.root.grpcInitialMetadata = new HeaderMap(metadata);
    try {
      this.rootCallback("proxy_on_grpc_receive_initial_metadata", [this.root.id, token, metadata.length]);
    } finally {
      this.root.grpcInitialMetadata = null;
    }
  }

  /** Delivers one message on a gRPC stream (proxy_on_grpc_receive). */
  grpcStreamMessage(token: number, message: string | Uint8Array): void {
    this.pendingGrpcStream(token);
    const bytes: Uint8Array = toBytes(message);
    this.root.grpcReceiveBuffer = bytes;
    try {
      this.rootCallback("proxy_on_grpc_receive", [this.root.id, token, bytes.length]);
    } finally {
      this.root.grpcReceiveBuffer = null;
    }
  }

  /** Delivers trailing metadata on a gRPC stream (proxy_on_grpc_receive_trailing_metadata). */
  grpcStreamTrailingMetadata(token: number, metadata: ReadonlyArray<readonly [string, string]>): void {
    this.pendingGrpcStream(token);
    this.root.grpcTrailingMetadata = new HeaderMap(metadata);
    const name: string = this.hasExport("proxy_on_grpc_receive_trailing_metadata")
      ? "proxy_on_grpc_receive_trailing_metadata"
      : "proxy_on_grpc_trailing_metadata";
    if (name === "proxy_on_grpc_trailing_metadata" && this.hasExport(name)) {
      this.warnings.push("module exports only the pre-0.2 proxy_on_grpc_trailing_metadata; Envoy will not call it");
    }
    try {
      this.rootCallback(name, [this.root.id, token, metadata.length]);
    } finally {
      this.root.grpcTrailingMetadata = null;
    }
  }

  /** Ends a gRPC stream from the remote side (proxy_on_grpc_close). */
  closeGrpcStream(token: number, status: number = 0, message: string = ""): void {
    const stream: GrpcStreamRecord = this.pendingGrpcStream(token);
    stream.state = status === 0 ? "responded" : "failed";
    this.closeWithStatus(token, status, message);
  }

  /** Answers a pending proxy_http_call (proxy_on_http_call_response). */
  respondHttp(token: number, reply: HttpCallReply = {}): void {
    const call: HttpCallRecord = this.pendingHttpCall(token);
    call.state = "responded";
    const headers: HeaderMap = new HeaderMap(reply.headers ?? []);
    if (headers.get(":status") === undefined) {
      headers.setAll([[":status", String(reply.status ?? 200)], ...headers.pairs()]);
    }
    const body: Uint8Array = toBytes(reply.body ?? "");
    const trailers: HeaderMap | null = reply.trailers === undefined ? null : new HeaderMap(reply.trailers);
    this.root.httpCallResponse = { headers, body, trailers };
    try {
      const trailerCount: number = trailers?.count ?? 0;
      this.rootCallback("proxy_on_http_call_response", [this.root.id, token, headers.count, body.length, trailerCount]);
    } finally {
      this.root.httpCallResponse = null;
    }
  }

  /** Fails a pending proxy_http_call as Envoy does on a reset: status BrokenConnection "reset", no reply. */
  failHttp(token: number): void {
    const call: HttpCallRecord = this.pendingHttpCall(token);
    call.state = "failed";
    this.root.statusCode = WasmResult.BrokenConnection;
    this.root.statusMessage = toBytes("reset");
    try {
      this.rootCallback("proxy_on_http_call_response", [this.root.id, token, 0, 0, 0]);
    } finally {
      this.root.statusMessage = new Uint8Array(0);
    }
  }

  /** Sets a host property (see FakeHostOptions.properties for the path syntax). */
  setProperty(path: string | readonly string[], value: PropertyValue): void {
    this.properties.set(propertyPath(path), encodePropertyValue(value));
  }

  /** Enqueues into a shared queue from outside the module (e.g. another worker); NotFound if unknown. */
  enqueueSharedQueue(name: string, data: string | Uint8Array, vmId: string = this.vmId): WasmResult {
    const token: number | undefined = this.sharedQueues.resolve(vmId, name);
    if (token === undefined) return WasmResult.NotFound;
    return this.sharedQueues.enqueue(token, toBytes(data));
  }

  /** Value of a metric by name, or undefined if the module never defined it. */
  metric(name: string): number | undefined {
    return this.metrics.get(name)?.value;
  }

  /** Plugin shutdown: proxy_on_done(root), then proxy_on_delete unless the module defers with proxy_done. */
  shutdown(): void {
    this.withAfterActions(() => {
      if (this.failed) return;
      const done: number | undefined = this.hasExport("proxy_on_done")
        ? this.callExport("proxy_on_done", this.root.id, [this.root.id])
        : 1;
      if (done === undefined) return;
      if (done !== 0) this.deleteRoot();
      else this.rootPendingDone = true;
    });
  }

  /** The VM trapped (or failed otherwise): callbacks no longer run. */
  get failed(): boolean {
    return this.trapped !== null;
  }

  get rootContextId(): number {
    return this.root.id;
  }

  // ---------------------------------------------------------------------------------------------
  // HostCore / StreamHost / RootEnvironment (used by the ABI functions and contexts)
  // ---------------------------------------------------------------------------------------------

  get memory(): GuestMemory {
    if (this.guestMemory === null) throw new Error("fake host bug: memory used before instantiation");
    return this.guestMemory;
  }

  log(level: LogLevel, message: string, source: LogEntry["source"]): void {
    if (level < this.logLevel) return;
    this.logs.push({ level, message, contextId: this.starting ? 0 : this.activeContext().id, source });
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  activeContext(): HostContext {
    const effective: HostContext | undefined =
      this.effectiveContextId === 0 ? undefined : this.contexts.get(this.effectiveContextId);
    return effective ?? this.contexts.get(this.currentContextId) ?? this.root;
  }

  rootContext(): RootContext {
    return this.root;
  }

  setEffectiveContext(id: number): WasmResult {
    if (!this.contexts.has(id)) return WasmResult.BadArgument;
    this.effectiveContextId = id;
    return WasmResult.Ok;
  }

  status(): { code: number; message: Uint8Array } {
    return { code: this.root.statusCode, message: this.root.statusMessage };
  }

  nowNanoseconds(): bigint {
    return this.options.now?.() ?? BigInt(Date.now()) * 1_000_000n;
  }

  monotonicNanoseconds(): bigint {
    return this.options.monotonicNow?.() ?? this.options.now?.() ?? process.hrtime.bigint();
  }

  randomBytes(size: number): Uint8Array {
    return this.options.random?.(size) ?? new Uint8Array(nodeRandomBytes(size));
  }

  setTickPeriod(ms: number): void {
    this.tickPeriodMs = ms;
  }

  stopNextIteration(): void {
    this.stopFlag = true;
  }

  takeStopNextIteration(): boolean {
    const flag: boolean = this.stopFlag;
    this.stopFlag = false;
    return flag;
  }

  done(context: HostContext): WasmResult {
    if (!context.isRoot || !this.rootPendingDone) return WasmResult.NotFound;
    this.rootPendingDone = false;
    this.afterVmCall(() => this.deleteRoot()); // not from inside the module's own call
    return WasmResult.Ok;
  }

  foreignFunction(name: string): ((args: Uint8Array) => Uint8Array) | undefined {
    return this.options.foreignFunctions?.[name];
  }

  nextGrpcCallToken(): number {
    if (this.nextGrpcToken % 2 === 0) this.nextGrpcToken++;
    const token: number = this.nextGrpcToken;
    this.nextGrpcToken += 2;
    return token;
  }

  nextGrpcStreamToken(): number {
    if (this.nextGrpcToken % 2 === 1) this.nextGrpcToken++;
    const token: number = this.nextGrpcToken;
    this.nextGrpcToken += 2;
    return token;
  }

  nextHttpCallToken(): number {
    return this.nextHttpToken++;
  }

  queueReady(token: number): void {
    this.afterVmCall(() => this.rootCallback("proxy_on_queue_ready", [this.root.id, token]));
  }

  hostProperty(path: string): Uint8Array | undefined {
    return this.properties.get(path);
  }

  hasExport(name: string): boolean {
    return typeof this.exportsTable[name] === "function";
  }

  callExport(name: string, contextId: number, args: readonly number[]): number | undefined {
    if (this.failed) return undefined;
    const fn: ExportedFunction | undefined = this.exportsTable[name];
    if (fn === undefined) throw new Error(`fake host bug: ${name} is not exported`);
    const savedCurrent: number = this.currentContextId;
    const savedEffective: number = this.effectiveContextId;
    // Every VM entry starts on its own context with no effective context (SaveRestoreContext).
    this.currentContextId = contextId;
    this.effectiveContextId = 0;
    try {
      const result: unknown = fn(...args);
      return typeof result === "number" ? result >>> 0 : 0;
    } catch (e: unknown) {
      if (!isTrap(e)) throw e;
      const message: string = e instanceof Error ? e.message : String(e);
      this.trapped = { callback: name, contextId, message, error: e };
      return undefined;
    } finally {
      this.currentContextId = savedCurrent;
      this.effectiveContextId = savedEffective;
    }
  }

  withAfterActions<T>(fn: () => T): T {
    this.actionDepth++;
    let result: T;
    try {
      result = fn();
    } finally {
      this.actionDepth--;
    }
    if (this.actionDepth === 0) {
      // As proxy-wasm-cpp-host's DeferAfterCallActions: a local response's "stop the next
      // iteration" only concerns the VM call that sent it (a header callback consumed it already);
      // one sent from another callback (a gRPC reply resuming other streams) must not stop the
      // next stream's headers.
      this.stopFlag = false;
      while (this.actions.length > 0) this.withAfterActions(this.actions.shift()!);
    }
    return result;
  }

  afterVmCall(action: () => void): void {
    if (this.actionDepth === 0) this.withAfterActions(action);
    else this.actions.push(action);
  }

  forgetContext(id: number): void {
    this.contexts.delete(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------------------------------

  private attach(instance: WebAssembly.Instance): void {
    const table: Record<string, ExportedFunction> = {};
    for (const [name, value] of Object.entries(instance.exports)) {
      if (typeof value === "function") table[name] = value as ExportedFunction;
    }
    this.exportsTable = table;
    // Envoy prefers `malloc` and falls back to `proxy_on_memory_allocate` (WasmBase::getFunctions).
    const allocate: ExportedFunction = table["malloc"] ?? table["proxy_on_memory_allocate"]!;
    this.guestMemory = new GuestMemory(instance.exports["memory"] as WebAssembly.Memory, (size: number) =>
      Number(allocate(size)),
    );
  }

  /** WasmBase::startVm, then WasmBase::start and configure for the one plugin. */
  private start(): void {
    this.starting = true;
    try {
      if (this.hasExport("_initialize")) {
        this.callExport("_initialize", 0, []);
        if (this.hasExport("main")) this.callExport("main", 0, [0, 0]);
      } else if (this.hasExport("_start")) {
        this.callExport("_start", 0, []);
      }
    } finally {
      this.starting = false;
    }
    if (this.failed) return;
    this.contexts.set(this.root.id, this.root);
    this.withAfterActions(() => {
      if (this.hasExport("proxy_on_context_create")) {
        this.callExport("proxy_on_context_create", this.root.id, [this.root.id, 0]);
      }
      let ok: boolean = !this.failed;
      if (ok && this.hasExport("proxy_on_vm_start")) {
        ok = (this.callExport("proxy_on_vm_start", this.root.id, [this.root.id, this.vmConfig.length]) ?? 0) !== 0;
      }
      if (ok && this.hasExport("proxy_on_configure")) {
        this.root.configuring = true;
        try {
          ok = (this.callExport("proxy_on_configure", this.root.id, [this.root.id, this.pluginConfig.length]) ?? 0) !== 0;
        } finally {
          this.root.configuring = false;
        }
      }
      this.startOk = ok && !this.failed;
    });
  }

  /** While the VM starts, Envoy only lets the module log, read args/env/clock/random (startVm). */
  private guardImport(qualifiedName: string): void {
    if (this.starting && !ALLOWED_DURING_START.has(qualifiedName)) {
      throw new HostTrap(`restricted_callback: ${qualifiedName} cannot be called while the VM starts (_initialize/_start)`);
    }
  }

  /** Runs a root-context callback (if exported and the VM is healthy), then the deferred actions. */
  private rootCallback(name: string, args: readonly number[]): void {
    this.withAfterActions(() => {
      if (!this.failed && this.hasExport(name)) this.callExport(name, this.root.id, args);
    });
  }

  private closeWithStatus(token: number, status: number, message: string): void {
    this.root.statusCode = status;
    this.root.statusMessage = toBytes(message);
    try {
      this.rootCallback("proxy_on_grpc_close", [this.root.id, token, status]);
    } finally {
      this.root.statusMessage = new Uint8Array(0);
    }
  }

  private deleteRoot(): void {
    if (!this.failed && this.hasExport("proxy_on_delete")) this.callExport("proxy_on_delete", this.root.id, [this.root.id]);
    this.contexts.delete(this.root.id);
  }

  private pendingGrpcCall(token: number): GrpcCallRecord {
    const call: GrpcCallRecord | undefined = this.grpcCalls.find((c) => c.token === token);
    if (call === undefined) throw new Error(`no gRPC call with token ${token}`);
    if (call.state !== "pending") throw new Error(`gRPC call ${token} is ${call.state}, not pending`);
    return call;
  }

  private pendingGrpcStream(token: number): GrpcStreamRecord {
    const stream: GrpcStreamRecord | undefined = this.grpcStreams.find((s) => s.token === token);
    if (stream === undefined) throw new Error(`no gRPC stream with token ${token}`);
    if (stream.state !== "pending") throw new Error(`gRPC stream ${token} is ${stream.state}, not pending`);
    return stream;
  }

  private pendingHttpCall(token: number): HttpCallRecord {
    const call: HttpCallRecord | undefined = this.httpCalls.find((c) => c.token === token);
    if (call === undefined) throw new Error(`no HTTP call with token ${token}`);
    if (call.state !== "pending") throw new Error(`HTTP call ${token} is ${call.state}, not pending`);
    return call;
  }
}
