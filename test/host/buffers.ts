/**
 * Buffers a module reads with proxy_get_buffer_bytes and writes with proxy_set_buffer_bytes.
 */
import { WasmResult } from "./abi.ts";
import { concatBytes } from "./memory.ts";

export interface HostBuffer {
  bytes(): Uint8Array;
  /** proxy_set_buffer_bytes(start, length, data). */
  set(start: number, length: number, data: Uint8Array): WasmResult;
}

/**
 * A read-only buffer (configuration, gRPC reply, HTTP call reply body, call data). Envoy backs these
 * with a string view whose copyFrom answers BadArgument ("no use case").
 */
export class ConstBuffer implements HostBuffer {
  constructor(private readonly data: Uint8Array) {}
  bytes(): Uint8Array {
    return this.data;
  }
  set(): WasmResult {
    return WasmResult.BadArgument;
  }
}

/**
 * An HTTP body buffer. While "attached" (during the body callback, and afterwards for as long as the
 * filter holds the data) it is mutable with the only edits Envoy's Buffer::copyFrom supports:
 * - start=0, length=0: prepend;
 * - start=0, length>=size: replace everything;
 * - start>=size: append;
 * - anything else: BadArgument.
 * Detached, it reads as empty and rejects writes with BadArgument, as Envoy does when the
 * module touches a body outside of its callback.
 */
export class BodyBuffer implements HostBuffer {
  private data: Uint8Array | null = null;

  get attached(): boolean {
    return this.data !== null;
  }
  attach(data: Uint8Array): void {
    this.data = data;
  }
  /** Detaches and returns the final contents (what the filter lets through or drops). */
  detach(): Uint8Array {
    const out: Uint8Array = this.data ?? new Uint8Array(0);
    this.data = null;
    return out;
  }
  bytes(): Uint8Array {
    return this.data ?? new Uint8Array(0);
  }
  set(start: number, length: number, data: Uint8Array): WasmResult {
    if (this.data === null) return WasmResult.BadArgument;
    const size: number = this.data.length;
    if (start === 0) {
      if (length === 0) {
        this.data = concatBytes([data, this.data]);
        return WasmResult.Ok;
      }
      if (length >= size) {
        this.data = data.slice();
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    }
    if (start >= size) {
      this.data = concatBytes([this.data, data]);
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }
}
