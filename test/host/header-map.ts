/**
 * An ordered, multi-valued header map with Envoy's semantics for the operations the ABI exposes.
 */
import type { HeaderPair } from "./memory.ts";

/** Envoy stores every header name lowercased (Http::LowerCaseString). */
function lower(name: string): string {
  return name.toLowerCase();
}

export class HeaderMap {
  private entries: HeaderPair[];

  constructor(pairs: ReadonlyArray<readonly [string, string]> = []) {
    this.entries = pairs.map(([k, v]): HeaderPair => [lower(k), v]);
  }

  /** Number of entries (what Envoy passes as `num_headers` to the headers callbacks). */
  get count(): number {
    return this.entries.length;
  }

  /**
   * Sum of name and value lengths. Envoy's proxy_get_header_map_size answers with this
   * (HeaderMap::byteSize()), not with the entry count.
   */
  get byteSize(): number {
    return this.entries.reduce((n: number, [k, v]: HeaderPair) => n + k.length + v.length, 0);
  }

  pairs(): HeaderPair[] {
    return this.entries.map(([k, v]): HeaderPair => [k, v]);
  }

  /** First value of `name`; Envoy's get_header_map_value returns only the first of repeated headers. */
  get(name: string): string | undefined {
    const key: string = lower(name);
    return this.entries.find(([k]: HeaderPair) => k === key)?.[1];
  }

  getAll(name: string): string[] {
    const key: string = lower(name);
    return this.entries.filter(([k]: HeaderPair) => k === key).map(([, v]: HeaderPair) => v);
  }

  add(name: string, value: string): void {
    this.entries.push([lower(name), value]);
  }

  /** Envoy's setCopy (current behaviour): drop every entry of `name`, then append one. */
  replace(name: string, value: string): void {
    this.remove(name);
    this.add(name, value);
  }

  remove(name: string): void {
    const key: string = lower(name);
    this.entries = this.entries.filter(([k]: HeaderPair) => k !== key);
  }

  /** proxy_set_header_map_pairs: remove everything, then add the given pairs in order. */
  setAll(pairs: ReadonlyArray<readonly [string, string]>): void {
    this.entries = pairs.map(([k, v]): HeaderPair => [lower(k), v]);
  }
}
