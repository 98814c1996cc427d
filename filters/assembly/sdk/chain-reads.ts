// What a module chain (chain.ts) remembers of the host between its modules' reads, so a value
// several modules read costs one host call: headers and the body within one callback of one
// stream, and the filter state the chain's own modules wrote for a request.
import { BufferType, HeaderMap } from "./abi";
import { CachedHeader, CachedProperty } from "./chain-hooks";

/**
 * Headers and body read during the running callback of one stream. One per VM, emptied (not
 * reallocated) when a callback begins, the effective stream changes or a module writes.
 */
export class CallbackReads {
  /** The stream the entries belong to (0: none). */
  stream: u32 = 0;
  private readonly maps: Array<HeaderMap> = new Array<HeaderMap>(0);
  private readonly names: Array<string> = new Array<string>(0);
  private readonly values: Array<string | null> = new Array<string | null>(0);
  /** Every header of the map is in the entries (read at once): a name not there is absent. */
  private requestComplete: bool = false;
  private responseComplete: bool = false;
  private body: ArrayBuffer | null = null;
  private bodyType: BufferType = BufferType.HttpRequestBody;
  private bodyStart: u32 = 0;
  private bodyLength: u32 = 0;

  forget(stream: u32): void {
    this.stream = stream;
    this.maps.length = 0;
    this.names.length = 0;
    this.values.length = 0;
    this.requestComplete = false;
    this.responseComplete = false;
    this.body = null;
  }

  forgetBody(): void { this.body = null; }

  header(stream: u32, map: HeaderMap, name: string): CachedHeader | null {
    if (stream != this.stream) return null;
    for (let i = 0; i < this.names.length; i++) {
      if (this.maps[i] == map && this.names[i] == name) return new CachedHeader(this.values[i]);
    }
    return this.complete(map) ? new CachedHeader(null) : null;
  }

  /**
   * All headers of `map` as the host has them now (flat [name, value, ...], names lower-case as
   * Envoy keeps them; a repeated name's first value is what a read of it answers).
   */
  keepAll(stream: u32, map: HeaderMap, pairs: Array<string>): void {
    if (stream != this.stream) this.forget(stream);
    this.forgetMap(map);
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      this.maps.push(map);
      this.names.push(pairs[i]);
      this.values.push(pairs[i + 1]);
    }
    this.setComplete(map, true);
  }

  /** Whether every header of `map` for `stream` is remembered (read at once, not changed unknowably since). */
  whole(stream: u32, map: HeaderMap): bool {
    return stream == this.stream && this.complete(map);
  }

  private complete(map: HeaderMap): bool {
    return map == HeaderMap.RequestHeaders ? this.requestComplete : map == HeaderMap.ResponseHeaders ? this.responseComplete : false;
  }

  private setComplete(map: HeaderMap, v: bool): void {
    if (map == HeaderMap.RequestHeaders) this.requestComplete = v;
    else if (map == HeaderMap.ResponseHeaders) this.responseComplete = v;
  }

  keepHeader(stream: u32, map: HeaderMap, name: string, value: string | null): void {
    if (stream != this.stream) this.forget(stream);
    this.maps.push(map);
    this.names.push(name);
    this.values.push(value);
  }

  /** Header `name` of the remembered stream is now `value` (null: absent). */
  setHeader(map: HeaderMap, name: string, value: string | null): void {
    for (let i = 0; i < this.names.length; i++) {
      if (this.maps[i] == map && this.names[i] == name) {
        this.values[i] = value;
        return;
      }
    }
    this.maps.push(map);
    this.names.push(name);
    this.values.push(value);
  }

  /** Drops what is remembered of header `name` (the next read asks the host). */
  forgetHeader(map: HeaderMap, name: string): void {
    this.keepOnly(map, name, false);
    this.setComplete(map, false);
  }

  /** Drops every header of `map`. */
  forgetMap(map: HeaderMap): void {
    this.keepOnly(map, "", true);
    this.setComplete(map, false);
  }

  /** Removes the entries of `map` named `name` (every entry of `map` when `all`), in place. */
  private keepOnly(map: HeaderMap, name: string, all: bool): void {
    let kept = 0;
    for (let i = 0; i < this.names.length; i++) {
      if (this.maps[i] == map && (all || this.names[i] == name)) continue;
      this.maps[kept] = this.maps[i];
      this.names[kept] = this.names[i];
      this.values[kept] = this.values[i];
      kept++;
    }
    this.maps.length = kept;
    this.names.length = kept;
    this.values.length = kept;
  }

  bodyRange(stream: u32, type: BufferType, start: u32, length: u32): ArrayBuffer | null {
    if (stream != this.stream || this.bodyType != type || this.bodyStart != start || this.bodyLength != length) return null;
    return this.body;
  }

  keepBody(stream: u32, type: BufferType, start: u32, length: u32, bytes: ArrayBuffer): void {
    if (stream != this.stream) this.forget(stream);
    this.body = bytes;
    this.bodyType = type;
    this.bodyStart = start;
    this.bodyLength = length;
  }
}

/**
 * Filter state the chain's modules wrote for one request, by name; and `leash.*` names a module
 * of the chain found absent (null value), which stay absent until a module of the chain writes them.
 */
export class WrittenState {
  private readonly names: Array<string> = new Array<string>(0);
  private readonly values: Array<ArrayBuffer | null> = new Array<ArrayBuffer | null>(0);

  /** What is known of `name` for this request (a null value: absent), or null when nothing is. */
  get(name: string): CachedProperty | null {
    const i = this.names.indexOf(name);
    return i < 0 ? null : new CachedProperty(this.values[i]);
  }

  /** `name` now holds `value` (null: absent). */
  set(name: string, value: ArrayBuffer | null): void {
    const i = this.names.indexOf(name);
    if (i >= 0) {
      this.values[i] = value;
      return;
    }
    this.names.push(name);
    this.values.push(value);
  }
}
