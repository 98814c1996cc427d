/**
 * Decodes the `upstream` argument of proxy_grpc_call / proxy_grpc_stream far enough to name the
 * target cluster. Envoy first parses it as a serialized envoy.config.core.v3.GrpcService and (in
 * current versions) falls back to treating the bytes as a cluster name.
 */
import { bytesToText } from "./memory.ts";

interface Field {
  number: number;
  wireType: number;
  bytes?: Uint8Array;
}

/** Reads the top-level fields of a protobuf message; null if the bytes are not a valid message. */
function readFields(data: Uint8Array): Field[] | null {
  const fields: Field[] = [];
  let at: number = 0;
  const varint = (): number | null => {
    let result: number = 0;
    let shift: number = 0;
    while (at < data.length) {
      const b: number = data[at++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) return null;
    }
    return null;
  };
  while (at < data.length) {
    const key: number | null = varint();
    if (key === null) return null;
    const number: number = Math.floor(key / 8);
    const wireType: number = key % 8;
    if (number === 0) return null;
    if (wireType === 0) {
      if (varint() === null) return null;
      fields.push({ number, wireType });
    } else if (wireType === 1 || wireType === 5) {
      at += wireType === 1 ? 8 : 4;
      if (at > data.length) return null;
      fields.push({ number, wireType });
    } else if (wireType === 2) {
      const len: number | null = varint();
      if (len === null || at + len > data.length) return null;
      fields.push({ number, wireType, bytes: data.subarray(at, at + len) });
      at += len;
    } else {
      return null; // groups and invalid wire types
    }
  }
  return fields;
}

/**
 * GrpcService{envoy_grpc (1): EnvoyGrpc{cluster_name (1)}} → cluster_name; otherwise the bytes as
 * a bare cluster name when they look like one; otherwise null.
 */
export function decodeUpstreamCluster(upstream: Uint8Array): string | null {
  const outer: Field[] | null = readFields(upstream);
  const envoyGrpc: Field | undefined = outer?.find((f: Field) => f.number === 1 && f.wireType === 2);
  if (envoyGrpc?.bytes !== undefined) {
    const inner: Field[] | null = readFields(envoyGrpc.bytes);
    const name: Field | undefined = inner?.find((f: Field) => f.number === 1 && f.wireType === 2);
    if (name?.bytes !== undefined) return bytesToText(name.bytes);
  }
  const text: string = bytesToText(upstream);
  return /^[\w.:-]+$/.test(text) ? text : null;
}

/** Serializes GrpcService{envoy_grpc{cluster_name}}, the form Leash filters send as `upstream`. */
export function encodeGrpcServiceForCluster(cluster: string): Uint8Array {
  const name: Uint8Array = new TextEncoder().encode(cluster);
  const inner: number[] = [0x0a, ...varintBytes(name.length), ...name];
  return Uint8Array.from([0x0a, ...varintBytes(inner.length), ...inner]);
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
