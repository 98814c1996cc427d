// The seam between the host wrappers (host.ts) and the module chain (chain.ts). When several
// modules run inside one filter, a module's "continue the request", "answer locally", "arm my
// timer" and "read the body" must act on the chain, not directly on Envoy: a module that resumes
// hands the request to the next module of the chain, not to the next Envoy filter. host.ts asks
// the installed driver first; with none installed (a module in its own filter) nothing changes.
// Kept apart from chain.ts so host.ts does not import the contexts.
import { BufferType, HeaderMap } from "./abi";

/** A header value the chain read before in this callback (null value: the header is absent). */
export class CachedHeader {
  constructor(public value: string | null) {}
}

/** Filter state the chain knows for this request (null value: known absent). */
export class CachedProperty {
  constructor(public value: ArrayBuffer | null) {}
}

/** What the chain does for host calls made by a module running inside it. */
export class ChainDriver {
  /** A module resumed its stream. True when the chain took care of it (the host is not called). */
  continueStream(response: bool): bool { return false; }
  /** A module is about to answer the current stream locally. */
  localReply(): void {}
  /** A module armed its timer. True when the chain took care of it. */
  tickPeriod(ms: u32): bool { return false; }
  /** Bytes at the start of the body buffer the running module has already passed on. */
  bodyOffset(type: BufferType): u32 { return 0; }
  /** The running module replaced `length` bytes of its body window with `newLength` bytes. */
  bodyReplaced(type: BufferType, length: u32, newLength: u32): void {}
  /** The host made `id` the effective context (a module acts on another stream). */
  effective(id: u32): void {}

  // Reads several modules of a chain repeat (":path", the body, the tenant auth wrote as filter
  // state) are answered from memory: headers and body within one callback of the stream (a header
  // as the last module's write left it), filter state the chain's own modules wrote for it.
  cachedHeader(map: HeaderMap, name: string): CachedHeader | null { return null; }
  keepHeader(map: HeaderMap, name: string, value: string | null): void {}
  /** A module set header `name` to `value` (null: removed it); the host took the write. */
  headerKnown(map: HeaderMap, name: string, value: string | null): void {}
  /** A module changed header `name` in a way memory cannot follow (added a value, or a failed write). */
  headerWritten(map: HeaderMap, name: string): void {}
  /** A body read earlier in this callback with the same range (null: not kept, or changed since). */
  cachedBody(type: BufferType, start: u32, length: u32): ArrayBuffer | null { return null; }
  keepBody(type: BufferType, start: u32, length: u32, bytes: ArrayBuffer): void {}
  /** What memory holds for `path`: a module of the chain wrote it, or found a `leash.*` name absent (null: not known). */
  cachedProperty(path: string): CachedProperty | null { return null; }
  /** A module wrote `value` under `path` (null: found it absent). */
  keepProperty(path: string, value: ArrayBuffer | null): void {}
}

let installed: ChainDriver | null = null;

/** Installs the chain's driver for this VM (once, by the first chain root). */
export function installChainDriver(d: ChainDriver): void { installed = d; }

/** The installed driver, or null when no module runs inside a chain in this VM. */
export function chainDriver(): ChainDriver | null { return installed; }
