// The `tracing` section: OpenTelemetry spans from Envoy and the sidecar, exported over OTLP/HTTP.

import { parseBaseUrl } from "./base-url.ts";
import { childKey, describe, type Mapping, Problems, readBoolean, readMapping, readString } from "./fields.ts";
import type { TracingConfig } from "./types.ts";

/** service.name values are shown in every tracing UI; keep them plain. */
const SERVICE_NAME_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function readTracing(value: unknown, problems: Problems): TracingConfig {
  const key: string = "tracing";
  const m: Mapping = readMapping(value, key, ["enabled", "otlp_endpoint", "service_name", "sample_rate"], problems);
  const enabled: boolean = readBoolean(m, key, "enabled", false, problems);
  const endpoint: string = readString(m, key, "otlp_endpoint", "", problems);
  if (endpoint !== "") {
    const url = parseBaseUrl(endpoint);
    if ("error" in url) problems.add(childKey(key, "otlp_endpoint"), url.error);
  } else if (enabled) {
    problems.add(childKey(key, "otlp_endpoint"), "is required when tracing is enabled (an OTLP/HTTP base URL, e.g. http://otel-collector:4318)");
  }
  const serviceName: string = readString(m, key, "service_name", "leash", problems);
  if (!SERVICE_NAME_PATTERN.test(serviceName)) {
    problems.add(childKey(key, "service_name"), `must be 1-63 of A-Z a-z 0-9 . _ - (starting with a letter or digit), got ${describe(serviceName)}`);
  }
  return { enabled, otlp_endpoint: endpoint, service_name: serviceName, sample_rate: readRate(m, key, "sample_rate", problems) };
}

function readRate(m: Mapping, parent: string, field: string, problems: Problems): number {
  const value: unknown = m[field];
  if (value === undefined || value === null) return 1;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    problems.add(childKey(parent, field), `must be a number in 0..1, got ${describe(value)}`);
    return 1;
  }
  return value;
}
