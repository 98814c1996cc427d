/**
 * The `env.proxy_*` functions, implemented with Envoy's semantics (envoyproxy/envoy
 * source/extensions/common/wasm/context.cc on top of proxy-wasm-cpp-host src/exports.cc).
 *
 * Every function here receives its i32 arguments already converted to unsigned numbers and its
 * i64 arguments as bigint; the linker's wrapper does that, and turns an InvalidMemoryAccess thrown
 * by GuestMemory into the InvalidMemoryAccess status.
 */
import {
  BUFFER_TYPE_MAX,
  HEADER_MAP_TYPE_MAX,
  LOG_LEVEL_MAX,
  METRIC_ID_INCREMENT,
  METRIC_TYPE_MASK,
  MetricType,
  STREAM_TYPE_MAX,
  WasmResult,
} from "./abi.ts";
import type { HostBuffer } from "./buffers.ts";
import { decodeUpstreamCluster } from "./grpc-service.ts";
import type { HeaderMap } from "./header-map.ts";
import type { HostContext, HostCore } from "./host-core.ts";
import { parsePairs, serializePairs } from "./memory.ts";
import type { HeaderPair } from "./memory.ts";
import type { GrpcCallRecord, GrpcStreamRecord, HttpCallRecord, LocalResponse, MetricRecord } from "./records.ts";

/**
 * An import implementation after argument conversion: unsigned numbers for i32 words, bigint for
 * i64. Typed loosely because each ABI function has its own arity.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostFunction = (...args: any[]) => number | void;

const MAX_KNOWN_GRPC_STATUS = 16;

export function createProxyFunctions(core: HostCore): Record<string, HostFunction> {
  const mem = () => core.memory;
  const text = (ptr: number, len: number): string => mem().readText(ptr, len);
  const active = (): HostContext => core.activeContext();

  // Metric ids encode the type in their low bits; each type has its own sequence (Wasm::next*MetricId).
  const metricNames: Map<number, string> = new Map();
  const nextMetricId: Record<MetricType, number> = {
    [MetricType.Counter]: MetricType.Counter,
    [MetricType.Gauge]: MetricType.Gauge,
    [MetricType.Histogram]: MetricType.Histogram,
  };
  const metricById = (id: number): MetricRecord | undefined => {
    const name: string | undefined = metricNames.get(id);
    return name === undefined ? undefined : core.metrics.get(name);
  };

  const readableMap = (type: number): HeaderMap | null => active().readableHeaderMap(type);
  const writableMap = (type: number): HeaderMap | null => active().writableHeaderMap(type);

  const functions: Record<string, HostFunction> = {
    // --- logging, status, time ---------------------------------------------------------------
    proxy_log(level: number, ptr: number, len: number): number {
      if (level > LOG_LEVEL_MAX) return WasmResult.BadArgument;
      core.log(level, text(ptr, len), "proxy_log");
      return WasmResult.Ok;
    },
    proxy_get_log_level(levelPtr: number): number {
      mem().writeU32(levelPtr, core.logLevel);
      return WasmResult.Ok;
    },
    proxy_get_status(codePtr: number, ptrPtr: number, sizePtr: number): number {
      const status: { code: number; message: Uint8Array } = core.status();
      mem().writeU32(codePtr, status.code);
      mem().writeOut(ptrPtr, sizePtr, status.message);
      return WasmResult.Ok;
    },
    proxy_set_tick_period_milliseconds(periodMs: number): number {
      core.setTickPeriod(periodMs);
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds(resultPtr: number): number {
      mem().writeU64(resultPtr, core.nowNanoseconds());
      return WasmResult.Ok;
    },

    // --- properties --------------------------------------------------------------------------
    proxy_get_property(pathPtr: number, pathLen: number, ptrPtr: number, sizePtr: number): number {
      const value: Uint8Array | undefined = active().getProperty(text(pathPtr, pathLen));
      if (value === undefined) return WasmResult.NotFound;
      mem().writeOut(ptrPtr, sizePtr, value);
      return WasmResult.Ok;
    },
    proxy_set_property(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      const key: string = text(keyPtr, keyLen);
      const value: Uint8Array = mem().read(valuePtr, valueLen);
      return active().setProperty(key, value);
    },

    // --- buffers -----------------------------------------------------------------------------
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
      if (type > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer: HostBuffer | null = active().buffer(type);
      if (buffer === null) return WasmResult.NotFound;
      const data: Uint8Array = buffer.bytes();
      // Envoy clamps instead of failing: a start past the end reads nothing.
      const from: number = Math.min(start, data.length);
      const to: number = Math.min(from + length, data.length);
      mem().writeOut(ptrPtr, sizePtr, data.subarray(from, to));
      return WasmResult.Ok;
    },
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      if (type > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer: HostBuffer | null = active().buffer(type);
      if (buffer === null) return WasmResult.NotFound;
      mem().writeU32(lengthPtr, buffer.bytes().length);
      mem().writeU32(flagsPtr, 0);
      return WasmResult.Ok;
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataLen: number): number {
      if (type > BUFFER_TYPE_MAX) return WasmResult.BadArgument;
      const buffer: HostBuffer | null = active().buffer(type);
      if (buffer === null) return WasmResult.NotFound;
      return buffer.set(start, length, mem().read(dataPtr, dataLen));
    },

    // --- header maps -------------------------------------------------------------------------
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      if (type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      // An unavailable map reads as empty (Envoy's headerMapToPairs(nullptr)).
      const pairs: HeaderPair[] = readableMap(type)?.pairs() ?? [];
      mem().writeOut(ptrPtr, sizePtr, pairs.length === 0 ? new Uint8Array(0) : serializePairs(pairs));
      return WasmResult.Ok;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      if (type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const pairs: HeaderPair[] = parsePairs(mem().read(ptr, size));
      const map: HeaderMap | null = writableMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.setAll(pairs);
      return WasmResult.Ok;
    },
    proxy_get_header_map_value(type: number, keyPtr: number, keyLen: number, ptrPtr: number, sizePtr: number): number {
      if (type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const key: string = text(keyPtr, keyLen);
      const map: HeaderMap | null = readableMap(type);
      if (map === null) return WasmResult.BadArgument;
      const value: string | undefined = map.get(key);
      if (value === undefined) return WasmResult.NotFound;
      mem().writeOut(ptrPtr, sizePtr, new TextEncoder().encode(value));
      return WasmResult.Ok;
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      if (type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const key: string = text(keyPtr, keyLen);
      const value: string = text(valuePtr, valueLen);
      const map: HeaderMap | null = writableMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.add(key, value);
      return WasmResult.Ok;
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number): number {
      if (type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const key: string = text(keyPtr, keyLen);
      const value: string = text(valuePtr, valueLen);
      const map: HeaderMap | null = writableMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.replace(key, value);
      return WasmResult.Ok;
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keyLen: number): number {
      if (type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const key: string = text(keyPtr, keyLen);
      const map: HeaderMap | null = writableMap(type);
      if (map === null) return WasmResult.BadArgument;
      map.remove(key);
      return WasmResult.Ok;
    },
    proxy_get_header_map_size(type: number, resultPtr: number): number {
      if (type > HEADER_MAP_TYPE_MAX) return WasmResult.BadArgument;
      const map: HeaderMap | null = writableMap(type);
      if (map === null) return WasmResult.BadArgument;
      mem().writeU32(resultPtr, map.byteSize);
      return WasmResult.Ok;
    },

    // --- stream control ----------------------------------------------------------------------
    proxy_continue_stream(type: number): number {
      if (type > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      return active().continueStream(type);
    },
    proxy_close_stream(type: number): number {
      if (type > STREAM_TYPE_MAX) return WasmResult.BadArgument;
      return active().closeStream(type);
    },
    proxy_send_local_response(
      status: number,
      detailsPtr: number,
      detailsLen: number,
      bodyPtr: number,
      bodyLen: number,
      headersPtr: number,
      headersLen: number,
      grpcStatus: number,
    ): number {
      const details: string = text(detailsPtr, detailsLen);
      const bodyBytes: Uint8Array = mem().read(bodyPtr, bodyLen);
      const headers: HeaderPair[] = parsePairs(mem().read(headersPtr, headersLen)).map(
        ([k, v]: HeaderPair): HeaderPair => [k.toLowerCase(), v],
      );
      const rawGrpcStatus: number = grpcStatus | 0;
      const response: LocalResponse = {
        status,
        details,
        body: new TextDecoder().decode(bodyBytes),
        bodyBytes,
        headers,
        grpcStatus: rawGrpcStatus >= 0 && rawGrpcStatus <= MAX_KNOWN_GRPC_STATUS ? rawGrpcStatus : null,
        rawGrpcStatus,
        byHost: false,
      };
      active().sendLocalResponse(response);
      core.stopNextIteration();
      return WasmResult.Ok;
    },
    proxy_set_effective_context(contextId: number): number {
      return core.setEffectiveContext(contextId);
    },
    proxy_done(): number {
      return core.done(active());
    },

    // --- HTTP and gRPC call-outs (owned by the root context) ---------------------------------
    proxy_http_call(
      uriPtr: number,
      uriLen: number,
      headersPtr: number,
      headersLen: number,
      bodyPtr: number,
      bodyLen: number,
      trailersPtr: number,
      trailersLen: number,
      timeoutMs: number,
      tokenPtr: number,
    ): number {
      const cluster: string = text(uriPtr, uriLen);
      const body: Uint8Array = mem().read(bodyPtr, bodyLen);
      const headers: HeaderPair[] = parsePairs(mem().read(headersPtr, headersLen));
      const trailers: HeaderPair[] = parsePairs(mem().read(trailersPtr, trailersLen));
      mem().writeU32(tokenPtr, 0); // Envoy probes the token pointer before starting the call
      if ((timeoutMs | 0) < 0) return WasmResult.BadArgument;
      if (core.knownClusters !== undefined && !core.knownClusters.has(cluster)) return WasmResult.BadArgument;
      const has = (name: string): boolean => headers.some(([k]: HeaderPair) => k.toLowerCase() === name);
      if (!has(":path") || !has(":method") || !has(":authority")) return WasmResult.BadArgument;
      const record: HttpCallRecord = {
        token: core.nextHttpCallToken(),
        cluster,
        headers,
        body,
        trailers,
        timeoutMs,
        contextId: active().id,
        state: "pending",
      };
      core.httpCalls.push(record);
      mem().writeU32(tokenPtr, record.token);
      return WasmResult.Ok;
    },
    proxy_grpc_call(
      upstreamPtr: number,
      upstreamLen: number,
      servicePtr: number,
      serviceLen: number,
      methodPtr: number,
      methodLen: number,
      metadataPtr: number,
      metadataLen: number,
      messagePtr: number,
      messageLen: number,
      timeoutMs: number,
      tokenPtr: number,
    ): number {
      const upstream: Uint8Array = mem().read(upstreamPtr, upstreamLen);
      const record: GrpcCallRecord = {
        token: 0,
        upstream,
        upstreamCluster: decodeUpstreamCluster(upstream),
        service: text(servicePtr, serviceLen),
        method: text(methodPtr, methodLen),
        metadata: parsePairs(mem().read(metadataPtr, metadataLen)),
        message: mem().read(messagePtr, messageLen),
        timeoutMs,
        contextId: active().id,
        state: "pending",
      };
      if (timeoutMs === 0) {
        core.warnings.push(`proxy_grpc_call ${record.service}/${record.method} with timeout 0 (no deadline in Envoy)`);
      }
      // Envoy cannot build a client for a cluster it does not have and refuses the call (a
      // non-Ok result, no token); modules must then decide without the sidecar.
      if (core.knownClusters !== undefined && !core.knownClusters.has(record.upstreamCluster ?? "")) return WasmResult.BadArgument;
      record.token = core.nextGrpcCallToken();
      core.grpcCalls.push(record);
      mem().writeU32(tokenPtr, record.token);
      return WasmResult.Ok;
    },
    proxy_grpc_stream(
      upstreamPtr: number,
      upstreamLen: number,
      servicePtr: number,
      serviceLen: number,
      methodPtr: number,
      methodLen: number,
      metadataPtr: number,
      metadataLen: number,
      tokenPtr: number,
    ): number {
      const upstream: Uint8Array = mem().read(upstreamPtr, upstreamLen);
      const record: GrpcStreamRecord = {
        token: 0,
        upstream,
        upstreamCluster: decodeUpstreamCluster(upstream),
        service: text(servicePtr, serviceLen),
        method: text(methodPtr, methodLen),
        metadata: parsePairs(mem().read(metadataPtr, metadataLen)),
        contextId: active().id,
        sent: [],
        localClosed: false,
        state: "pending",
      };
      record.token = core.nextGrpcStreamToken();
      core.grpcStreams.push(record);
      mem().writeU32(tokenPtr, record.token);
      return WasmResult.Ok;
    },
    proxy_grpc_send(token: number, messagePtr: number, messageLen: number, endStream: number): number {
      const message: Uint8Array = mem().read(messagePtr, messageLen);
      if (token % 2 === 1) return WasmResult.BadArgument; // odd tokens are unary calls
      const stream: GrpcStreamRecord | undefined = core.grpcStreams.find(
        (s: GrpcStreamRecord) => s.token === token && s.state === "pending",
      );
      if (stream === undefined) return WasmResult.NotFound;
      stream.sent.push(message);
      if (endStream !== 0) stream.localClosed = true;
      return WasmResult.Ok;
    },
    proxy_grpc_cancel(token: number): number {
      return endCallOut(token, true);
    },
    proxy_grpc_close(token: number): number {
      return endCallOut(token, false);
    },

    // --- shared data and queues --------------------------------------------------------------
    proxy_get_shared_data(keyPtr: number, keyLen: number, ptrPtr: number, sizePtr: number, casPtr: number): number {
      const entry = core.sharedData.get(core.vmId, text(keyPtr, keyLen));
      if (entry === undefined) return WasmResult.NotFound;
      mem().writeOut(ptrPtr, sizePtr, entry.value);
      mem().writeU32(casPtr, entry.cas);
      return WasmResult.Ok;
    },
    proxy_set_shared_data(keyPtr: number, keyLen: number, valuePtr: number, valueLen: number, cas: number): number {
      const key: string = text(keyPtr, keyLen);
      return core.sharedData.set(core.vmId, key, mem().read(valuePtr, valueLen), cas);
    },
    proxy_register_shared_queue(namePtr: number, nameLen: number, tokenPtr: number): number {
      const name: string = text(namePtr, nameLen);
      const token: number = core.sharedQueues.register(core.vmId, name, core.rootContext().id, (t: number) =>
        core.queueReady(t),
      );
      mem().writeU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdLen: number, namePtr: number, nameLen: number, tokenPtr: number): number {
      const vmId: string = text(vmIdPtr, vmIdLen);
      const token: number | undefined = core.sharedQueues.resolve(vmId === "" ? core.vmId : vmId, text(namePtr, nameLen));
      if (token === undefined) return WasmResult.NotFound;
      mem().writeU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    proxy_dequeue_shared_queue(token: number, ptrPtr: number, sizePtr: number): number {
      const item: Uint8Array | WasmResult = core.sharedQueues.dequeue(token);
      if (!(item instanceof Uint8Array)) return item;
      mem().writeOut(ptrPtr, sizePtr, item);
      return WasmResult.Ok;
    },
    proxy_enqueue_shared_queue(token: number, dataPtr: number, dataLen: number): number {
      return core.sharedQueues.enqueue(token, mem().read(dataPtr, dataLen));
    },

    // --- metrics -----------------------------------------------------------------------------
    proxy_define_metric(type: number, namePtr: number, nameLen: number, idPtr: number): number {
      const name: string = text(namePtr, nameLen);
      if (type > MetricType.Histogram) return WasmResult.BadArgument;
      const metricType: MetricType = type as MetricType;
      const id: number = nextMetricId[metricType];
      nextMetricId[metricType] += METRIC_ID_INCREMENT;
      metricNames.set(id, name);
      // Envoy hands out a new id per definition, all pointing at the same named stat.
      if (!core.metrics.has(name)) core.metrics.set(name, { type: metricType, value: 0, samples: [] });
      mem().writeU32(idPtr, id);
      return WasmResult.Ok;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      const type: number = id & METRIC_TYPE_MASK;
      const metric: MetricRecord | undefined = metricById(id);
      if (type === MetricType.Counter) {
        if (metric === undefined) return WasmResult.NotFound;
        if (offset <= 0n) return WasmResult.BadArgument; // counters only go up
        metric.value += Number(offset);
        return WasmResult.Ok;
      }
      if (type === MetricType.Gauge) {
        if (metric === undefined) return WasmResult.NotFound;
        metric.value += Number(offset);
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    },
    proxy_record_metric(id: number, value: bigint): number {
      const metric: MetricRecord | undefined = metricById(id);
      if (metric === undefined) return WasmResult.NotFound;
      const v: number = Number(BigInt.asUintN(64, value));
      if (metric.type === MetricType.Counter) metric.value += v;
      else if (metric.type === MetricType.Gauge) metric.value = v;
      else {
        metric.value = v;
        metric.samples.push(v);
      }
      return WasmResult.Ok;
    },
    proxy_get_metric(id: number, resultPtr: number): number {
      const type: number = id & METRIC_TYPE_MASK;
      if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
      const metric: MetricRecord | undefined = metricById(id);
      if (metric === undefined) return WasmResult.NotFound;
      mem().writeU64(resultPtr, BigInt(metric.value));
      return WasmResult.Ok;
    },

    // --- foreign functions -------------------------------------------------------------------
    proxy_call_foreign_function(
      namePtr: number,
      nameLen: number,
      argsPtr: number,
      argsLen: number,
      resultPtrPtr: number,
      resultSizePtr: number,
    ): number {
      const name: string = text(namePtr, nameLen);
      const args: Uint8Array = mem().read(argsPtr, argsLen);
      const fn: ((a: Uint8Array) => Uint8Array) | undefined = core.foreignFunction(name);
      if (fn === undefined) return WasmResult.NotFound;
      const result: Uint8Array = fn(args);
      if (resultPtrPtr !== 0) mem().writeU32(resultPtrPtr, mem().copyIn(result));
      if (resultSizePtr !== 0) mem().writeU32(resultSizePtr, result.length);
      return WasmResult.Ok;
    },

    // --- emscripten helpers Envoy also links -------------------------------------------------
    pthread_equal(left: number, right: number): number {
      return left === right ? 1 : 0;
    },
    emscripten_notify_memory_growth(): void {},
  };

  /** proxy_grpc_cancel / proxy_grpc_close on a unary call or a stream token. */
  function endCallOut(token: number, cancel: boolean): number {
    if (token % 2 === 1) {
      const call: GrpcCallRecord | undefined = core.grpcCalls.find(
        (c: GrpcCallRecord) => c.token === token && c.state === "pending",
      );
      if (call === undefined) return WasmResult.NotFound;
      call.state = "cancelled";
      return WasmResult.Ok;
    }
    const stream: GrpcStreamRecord | undefined = core.grpcStreams.find(
      (s: GrpcStreamRecord) => s.token === token && s.state === "pending",
    );
    if (stream === undefined) return WasmResult.NotFound;
    if (cancel) stream.state = "cancelled";
    else stream.localClosed = true;
    return WasmResult.Ok;
  }

  return functions;
}
