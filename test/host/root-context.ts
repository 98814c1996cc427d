/**
 * The root (plugin) context: it owns the VM/plugin configuration, the replies of call-outs while
 * their callbacks run, and the status proxy_get_status reports.
 */
import { BufferType, HeaderMapType, WasmResult } from "./abi.ts";
import type { StreamType } from "./abi.ts";
import { ConstBuffer } from "./buffers.ts";
import type { HostBuffer } from "./buffers.ts";
import type { HeaderMap } from "./header-map.ts";
import type { HostContext } from "./host-core.ts";
import type { LocalResponse } from "./records.ts";

/** What the root context needs from the host. */
export interface RootEnvironment {
  readonly vmConfig: Uint8Array;
  readonly pluginConfig: Uint8Array;
  hostProperty(path: string): Uint8Array | undefined;
  warn(message: string): void;
}

/** An HTTP call-out reply, visible to the module during proxy_on_http_call_response. */
export interface HttpCallResponse {
  headers: HeaderMap;
  body: Uint8Array;
  trailers: HeaderMap | null;
}

const EMPTY: Uint8Array = new Uint8Array(0);

export class RootContext implements HostContext {
  readonly isRoot: boolean = true;
  /** True while proxy_on_configure runs: the only time PluginConfiguration is readable. */
  configuring: boolean = false;
  grpcReceiveBuffer: Uint8Array | null = null;
  grpcInitialMetadata: HeaderMap | null = null;
  grpcTrailingMetadata: HeaderMap | null = null;
  httpCallResponse: HttpCallResponse | null = null;
  callData: Uint8Array = EMPTY;
  statusCode: number = 0;
  statusMessage: Uint8Array = EMPTY;

  constructor(
    readonly id: number,
    private readonly env: RootEnvironment,
  ) {}

  readableHeaderMap(type: HeaderMapType): HeaderMap | null {
    switch (type) {
      case HeaderMapType.GrpcReceiveInitialMetadata:
        return this.grpcInitialMetadata;
      case HeaderMapType.GrpcReceiveTrailingMetadata:
        return this.grpcTrailingMetadata;
      case HeaderMapType.HttpCallResponseHeaders:
        return this.httpCallResponse?.headers ?? null;
      case HeaderMapType.HttpCallResponseTrailers:
        return this.httpCallResponse?.trailers ?? null;
      default:
        return null; // a root context has no HTTP stream
    }
  }

  /** Call-out replies are read-only (Envoy's getMap covers only the four HTTP maps). */
  writableHeaderMap(): HeaderMap | null {
    return null;
  }

  buffer(type: BufferType): HostBuffer | null {
    switch (type) {
      case BufferType.VmConfiguration:
        return new ConstBuffer(this.env.vmConfig);
      case BufferType.PluginConfiguration:
        return this.configuring ? new ConstBuffer(this.env.pluginConfig) : null;
      case BufferType.HttpCallResponseBody:
        return this.httpCallResponse === null ? null : new ConstBuffer(this.httpCallResponse.body);
      case BufferType.GrpcReceiveBuffer:
        return new ConstBuffer(this.grpcReceiveBuffer ?? EMPTY);
      case BufferType.CallData:
        return new ConstBuffer(this.callData);
      default:
        // HTTP bodies and network data do not exist here: Envoy shows an empty, unwritable buffer.
        return new ConstBuffer(EMPTY);
    }
  }

  getProperty(path: string): Uint8Array | undefined {
    return this.env.hostProperty(path);
  }

  /** Envoy keeps module-set properties in a stream's filter state; a root context has none. */
  setProperty(): WasmResult {
    return WasmResult.NotFound;
  }

  /** Envoy returns Ok and does nothing (no decoder callbacks on a root context). */
  continueStream(type: StreamType): WasmResult {
    this.env.warn(
      `proxy_continue_stream(${type}) on the root context does nothing; call proxy_set_effective_context(stream) first`,
    );
    return WasmResult.Ok;
  }

  closeStream(type: StreamType): WasmResult {
    this.env.warn(`proxy_close_stream(${type}) on the root context does nothing`);
    return WasmResult.Ok;
  }

  sendLocalResponse(response: LocalResponse): void {
    this.env.warn(
      `proxy_send_local_response(${response.status}) on the root context is dropped; call proxy_set_effective_context(stream) first`,
    );
  }
}
