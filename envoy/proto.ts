// Helpers for writing Envoy protos in their JSON/YAML form, shared by every resource builder.

/** An Envoy proto message as plain data, in field order (the order is kept in the YAML output). */
export type ProtoObject = { [field: string]: unknown };

/** An `Any`'s "@type" for a full proto message name. */
export function typeUrl(message: string): string {
  return `type.googleapis.com/${message}`;
}

/** A protobuf Duration ("1s", "0.250s"); exact for whole milliseconds. */
export function duration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`duration needs whole non-negative ms, got ${ms}`);
  const seconds: number = Math.floor(ms / 1000);
  const rest: number = ms % 1000;
  return rest === 0 ? `${seconds}s` : `${seconds}.${String(rest).padStart(3, "0")}s`;
}

/** `core.v3.Address` of an IP (or, for DNS clusters, a host name) and port. */
export function socketAddress(address: string, port: number): ProtoObject {
  return { socket_address: { address, port_value: port } };
}
