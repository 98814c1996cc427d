/**
 * Property paths and values as proxy_get_property / proxy_set_property see them.
 *
 * A path is a list of segments joined by NUL on the wire (`request\0headers\0x-foo`). Values are raw
 * bytes: strings as UTF-8, integers as 8-byte little-endian, booleans as one byte, maps as
 * serialized pairs — Envoy's serializeValue() encodings.
 */
import { serializePairs } from "./memory.ts";
import type { HeaderPair } from "./memory.ts";

export type PropertyValue = string | Uint8Array | number | bigint | boolean;

/**
 * Normalizes a test-supplied path to its wire form. An array gives the segments; a string is split
 * on "." unless it already contains NUL separators (use an array when a segment contains a dot).
 */
export function propertyPath(path: string | readonly string[]): string {
  if (typeof path !== "string") return path.join("\u0000");
  return path.includes("\u0000") ? path : path.split(".").join("\u0000");
}

export function encodePropertyValue(value: PropertyValue): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (typeof value === "boolean") return Uint8Array.of(value ? 1 : 0);
  const out: Uint8Array = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(value), true);
  return out;
}

/** Header-derived `request.*` / `response.*` attributes, from a readable header map. */
export function headerAttributes(prefix: "request" | "response", pairs: readonly HeaderPair[]): Map<string, Uint8Array> {
  const out: Map<string, Uint8Array> = new Map();
  const first = (name: string): string | undefined => pairs.find(([k]: HeaderPair) => k === name)?.[1];
  const put = (segment: string, value: string | undefined): void => {
    if (value !== undefined) out.set(`${prefix}\u0000${segment}`, encodePropertyValue(value));
  };
  if (prefix === "request") {
    const path: string | undefined = first(":path");
    put("path", path);
    put("url_path", path?.split("?")[0]);
    put("host", first(":authority"));
    put("method", first(":method"));
    put("scheme", first(":scheme"));
    put("id", first("x-request-id"));
    put("useragent", first("user-agent"));
    put("referer", first("referer"));
  }
  out.set(`${prefix}\u0000headers`, serializePairs(pairs));
  for (const [name, value] of pairs) {
    const key: string = `${prefix}\u0000headers\u0000${name}`;
    if (!out.has(key)) out.set(key, encodePropertyValue(value));
  }
  return out;
}
