// The one config contract of Leash: the typed shape of the gateway's YAML file, independent of
// Envoy types. Used by the Envoy bootstrap generator (envoy/), the sidecar (sidecar-services/),
// the CLI (cli/) and, through the generated plugin configuration, the wasm filters.
// Defaults named here are applied by config/load.ts; a loaded LeashConfig has every field set.

import type { InjectionAction, RedactAction } from "./guard-policy.ts";

/** Wire format a provider speaks; it also selects the error format of denials on its routes. */
export type ProviderApi = "openai" | "anthropic";

/** What a module does when it cannot decide (sidecar down, timeout, filter fault). */
export type FailureMode = "closed" | "open";

export interface ListenerConfig {
  /** Bind address of the public listener. Default "0.0.0.0". */
  address: string;
  /** Port of the public listener. Default 8080. */
  port: number;
  /**
   * Largest request body accepted on provider routes, in bytes; larger ones are answered 413
   * (gateway.body_too_large) before anything is forwarded. Envoy buffers at most this much per
   * request. Default 4194304 (4 MiB), range 1024..67108864.
   */
  max_request_body_bytes: number;
}

export interface AdminConfig {
  /** Envoy admin bind address. Must be a loopback address. Default "127.0.0.1". */
  address: string;
  /** Envoy admin port. Default 9901. */
  port: number;
}

export interface SidecarConfig {
  /** Host the sidecar's gRPC server binds and Envoy connects to. Default "127.0.0.1". */
  host: string;
  /** gRPC port (HTTP/2). Default 50051. */
  grpc_port: number;
  /** HTTP port for /health and /metrics. Default 8081. */
  http_port: number;
  /** PostgreSQL URL; empty = embedded PGlite under data_dir. Default: env DATABASE_URL or "". */
  database_url: string;
  /** Redis URL; empty = in-process store. Default: env REDIS_URL or "". */
  redis_url: string;
  /**
   * Directory for embedded state: the PGlite database, and the generated key pepper, master key and
   * admin token when those are not given by the environment. Default ".leash/data".
   */
  data_dir: string;
  /**
   * Bind address of the sidecar's admin API (tenants, keys, provider credentials), a host name or
   * IP address. It is a separate HTTP server, never the public listener, and every request needs
   * the admin token. Default "127.0.0.1".
   */
  admin_address: string;
  /** Port of the admin API. Default 8083. */
  admin_port: number;
  /**
   * Longest time, in ms, the auth filter may reuse an Authorize answer (AuthorizeResponse
   * .cache_ttl_ms); the sidecar shortens it further near a key's expiry or the end of a rotation
   * grace. Bounds how long a revocation takes to reach every replica. Default 1000, range 0..2000
   * (0 = the filter asks the sidecar on every request).
   */
  auth_cache_ttl_ms: number;
  /**
   * YAML price table (USD per million tokens per provider and model, versioned) the sidecar prices
   * usage reports with; format in docs/usage-and-metrics.md. Relative paths are resolved against
   * the working directory. Optional: default "" = the embedded config/prices.yaml.
   */
  prices_file: string;
  /**
   * Days the usage ledger keeps a tenant's rows when the tenant has no retention of its own
   * (tenant setting `retention_days`, admin API/CLI). 0 = forever. Default 0, range 0..3650.
   */
  ledger_retention_days: number;
  /**
   * Seconds between runs of the ledger retention job (deletes rows past each tenant's retention,
   * drops monthly partitions past the longest one). One replica runs it at a time (PostgreSQL
   * advisory lock). 0 = never. Default 3600, range 0..604800.
   */
  retention_interval_s: number;
}

export interface ProviderConfig {
  /** Unique name, [a-z0-9-]+ (e.g. "openai", "groq"). Used in logs, metrics and the cluster name. */
  name: string;
  /** Wire format. Default "openai". */
  api: ProviderApi;
  /** Gateway path prefix, starts with "/", no trailing "/" (e.g. "/openai"). Default "/" + name. */
  prefix: string;
  /** Upstream base URL, http or https, optional base path (e.g. "https://api.groq.com/openai"). Required. */
  base_url: string;
  /** Name of the environment variable that holds the provider credential. Optional ("" = none). */
  api_key_env: string;
  /** Upstream request timeout in ms; 0 = none (streams). Default 300000. */
  timeout_ms: number;
  /** Upstream connect timeout in ms. Default 5000. */
  connect_timeout_ms: number;
  /** Verify the upstream TLS certificate (chain against tls_ca_file or the system CA bundle, and the host name; https only). Default true. */
  tls_verify: boolean;
  /**
   * PEM file of the CAs that may sign the upstream's certificate (https only), for providers behind
   * a private CA. Optional ("" = the system CA bundle, /etc/ssl/certs/ca-certificates.crt).
   */
  tls_ca_file: string;
}

export interface ModuleConfig {
  /** Whether the module's filter is in the chain. Default true. */
  enabled: boolean;
  /** Behaviour when the module cannot decide. Default "closed". */
  failure_mode: FailureMode;
  /** Deadline of the module's sidecar call in ms. Default 250. */
  timeout_ms: number;
}

/** Settings of the redact module (PII and secret redaction on requests and responses). */
export interface RedactModuleConfig {
  /** Whether the filter is in the chain. Default false (opt-in; config/leash.yaml turns it on). */
  enabled: boolean;
  /**
   * Envoy's failure_policy for a fault in the filter (a trap): closed (default) = FAIL_RELOAD, the
   * request that hit it is refused and never forwarded; open = FAIL_OPEN, the filter is skipped.
   * The filter itself always refuses what it cannot parse (400/413), whatever this says.
   */
  failure_mode: FailureMode;
  /**
   * Action per entity name (config/guard-policy.ts ENTITY_NAMES): mask | hash | block | allow. Every
   * entity is present after loading: unlisted ones take the built-in default (PII mask, secrets
   * block). A tenant's policy (tenants.module_settings.redact) overrides these per request.
   */
  entities: Record<string, RedactAction>;
  /** Redact responses too (JSON and SSE), with block applied as mask. Default true. */
  responses: boolean;
  /**
   * Most characters of a streamed text the filter holds back (per choice, tool call or content
   * block) while an entity may still be completing. An entity still in progress when the bound is
   * hit (only a very long one, e.g. a PEM block longer than the bound) is released as the detectors
   * saw it; entities shorter than the bound are never released raw. Default 4096, range 64..65536.
   */
  stream_holdback_chars: number;
}

/** Settings of the injection module (prompt-injection scorer). */
export interface InjectionModuleConfig {
  /** Whether the filter is in the chain. Default false (opt-in; config/leash.yaml turns it on). */
  enabled: boolean;
  /** Envoy's failure_policy for a fault in the filter, as for redact. Default closed. */
  failure_mode: FailureMode;
  /** flag = x-leash-injection header and a log line; block = 400 guard.prompt_injection. Default block. */
  action: InjectionAction;
  /** Score (0..1) at or above which the action applies. Default 0.7. */
  threshold: number;
}

/** The quota module's settings: a module's three plus the output estimate it reserves. */
export interface QuotaModuleConfig extends ModuleConfig {
  /**
   * Output tokens reserved for a request that names no max_tokens / max_completion_tokens /
   * max_output_tokens (the sidecar reads this one; the real count settles the reservation when the
   * response ends). Default 1024, range 1..1048576.
   */
  default_output_tokens: number;
  /**
   * Lifetime of a lease, ms: requests and tokens a filter VM may admit without a Reserve call
   * (docs/decisions/0004-quota-hot-path.md). Granted only far from every limit and never past the
   * UTC day; renewed in the background when half spent; 0 = no leases, every limited request makes
   * a Reserve call. Default 1000, range 0..1000.
   */
  lease_ttl_ms: number;
  /** Most requests one lease holds. Default 1000, range 1..10000. */
  lease_max_requests: number;
  /** Most tokens (request estimates) one lease holds. Default 2000000, range 1..100000000. */
  lease_max_tokens: number;
}

export interface ModulesConfig {
  /** The auth module: resolves the tenant key through the sidecar (gRPC) and injects the provider credential. */
  auth: ModuleConfig;
  /**
   * The quota module: reserves each request and an estimate of its tokens against the tenant's and
   * key's limits (one sidecar Reserve call, Redis, exact across replicas) before it goes upstream;
   * the usage report settles the reservation. failure_mode applies when the sidecar cannot answer
   * (closed: 503 quota.sidecar_unavailable); Redis outages follow each tenant's own policy.
   * timeout_ms is the Reserve call's deadline (default 250).
   */
  quota: QuotaModuleConfig;
  /**
   * The usage module: reads each response's token usage (JSON or SSE) and reports it to the
   * sidecar (ledger, cost, metrics). timeout_ms is the report call's deadline (default 1000).
   */
  usage: ModuleConfig;
  /** The redact module: PII and secret redaction in prompts and responses, streaming-safe. */
  redact: RedactModuleConfig;
  /** The injection module: prompt-injection and jailbreak scoring on prompts. */
  injection: InjectionModuleConfig;
}

export interface MockProviderConfig {
  /** Whether `leash start` runs the bundled mock LLM provider (OpenAI + Anthropic wire formats). Default false. */
  enabled: boolean;
  /** Loopback port the mock listens on; point a provider's base_url at http://127.0.0.1:<port>. Default 8082. */
  port: number;
}

/** How Envoy runs the modules' wasm (envoy/wasm-filters.ts). */
export interface WasmConfig {
  /**
   * true (default): the built-in modules run from one binary (leash.wasm) in one VM per worker —
   * one per failure policy, so a fault in one module never turns a differently configured one off;
   * each module stays its own filter. Costs Envoy less CPU and memory per request. false: each
   * module in its own VM from its own binary (a fault reloads only that module's VM).
   */
  shared_vm: boolean;
  /**
   * true (default with shared_vm): modules next to each other in the chain with the same failure
   * policy run inside one filter (filters/assembly/sdk/chain.ts runs them in order as Envoy would),
   * which saves Envoy the cost of a filter per module. false: each module its own filter.
   * Requires shared_vm.
   */
  chain: boolean;
}

export interface TracingConfig {
  /** Whether Envoy and the sidecar emit OpenTelemetry spans. Default false. */
  enabled: boolean;
  /**
   * Base URL of an OTLP/HTTP collector, http or https, e.g. "http://otel-collector:4318"; spans are
   * POSTed to `<otlp_endpoint>/v1/traces` (Envoy: protobuf, the sidecar: JSON). Required when
   * enabled; no credentials, query or fragment. Default "".
   */
  otlp_endpoint: string;
  /**
   * service.name of the spans: Envoy's spans use it as is, the sidecar's `<service_name>-sidecar`.
   * Default "leash".
   */
  service_name: string;
  /**
   * Share of requests traced when the client sent no sampled/unsampled decision (a traceparent
   * header); a client's decision is always followed. 0..1. Default 1.
   */
  sample_rate: number;
}

export interface LeashConfig {
  /** Config format version. Must be 1. */
  version: 1;
  listener: ListenerConfig;
  admin: AdminConfig;
  sidecar: SidecarConfig;
  /** At least one provider; names and prefixes unique. */
  providers: ProviderConfig[];
  modules: ModulesConfig;
  /** The bundled mock provider, for trying Leash without a provider key. */
  mock_provider: MockProviderConfig;
  /** OpenTelemetry tracing over OTLP/HTTP (docs/tracing.md). */
  tracing: TracingConfig;
  /** How Envoy runs the modules' wasm. */
  wasm: WasmConfig;
}
