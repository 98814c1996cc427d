// The sidecar as a value: gRPC + HTTP servers built from injected dependencies. main.ts/bootstrap
// supply real pg/PGlite, ioredis/in-process store and a prom-client registry; tests supply their
// own, bind to port 0 and read the bound ports back.
import * as grpc from "@grpc/grpc-js";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { LeashConfig } from "../../config/types.ts";
import { createAdminServer } from "./admin-api.ts";
import { createAuthorizer } from "./authorize.ts";
import type { Db } from "./db.ts";
import { createGrpcServer } from "./grpc-service.ts";
import { createHttpServer } from "./http-server.ts";
import type { KvStore } from "./kv-store.ts";
import { silentLogger, type Logger } from "./logger.ts";
import type { KeyRing } from "./master-key.ts";
import { createSidecarMetrics } from "./metrics.ts";
import { PEPPER_ENV } from "./pepper.ts";
import { buildProviderTable, providersMissingCredentials } from "./provider-credentials.ts";
import { createRequestLog } from "./request-log.ts";
import { loadPriceTable, type PriceTable } from "./prices.ts";
import { resolve } from "node:path";
import { createMemoryQuotaStore } from "./quota-memory.ts";
import { createQuotaMetrics } from "./quota-metrics.ts";
import { createQuotaPolicyCache } from "./quota-policy.ts";
import { createQuotaService } from "./quota-service.ts";
import type { QuotaStore } from "./quota-store.ts";
import { createUsageRecorder } from "./usage.ts";
import { createUsageLedger, spoolDirOf, type UsageLedger, type UsageLedgerOptions } from "./usage-ledger.ts";
import { createUsageMetrics, type LabelLimits } from "./usage-metrics.ts";
import { createOtlpTracer } from "./otlp-exporter.ts";
import { noopTracer, type Tracer } from "./tracing.ts";
import { startLedgerRetention, type RetentionJob } from "./ledger-retention.ts";

/** Everything the sidecar needs; it owns none of it (stop() does not close db or store). */
export interface SidecarDeps {
  /** Migrated database (see migrate()). */
  db: Db;
  /** Cache and counters. */
  store: KvStore;
  /** Registry the sidecar's metrics and default process metrics are registered on. */
  registry: Registry;
  /**
   * Loaded config; uses `sidecar.host`, `grpc_port`, `http_port`, `admin_address`, `admin_port`,
   * `auth_cache_ttl_ms` and `providers`.
   */
  config: LeashConfig;
  /** Default: silent. */
  log?: Logger;
  /** Environment for provider credentials (`api_key_env`) and LEASH_KEY_PEPPER. Default process.env. */
  env?: Record<string, string | undefined>;
  /** HMAC pepper of key secrets. Default env LEASH_KEY_PEPPER (required then). */
  pepper?: string;
  /**
   * Master keys of stored provider credentials (see master-key.ts). Default null: stored credentials
   * cannot be written, and a request whose tenant has one fails with sidecar.credential_unavailable.
   */
  ring?: KeyRing | null;
  /** Admin API token. Optional: without it the admin API is not started. */
  adminToken?: string;
  /** Epoch ms clock for Authorize and the admin API (tests drive time with it). Default Date.now. */
  now?: () => number;
  /** Price table of RecordUsage. Default: loaded from `sidecar.prices_file` ("" = the embedded config/prices.yaml). */
  prices?: PriceTable;
  /**
   * Tuning of the usage ledger writer (usage-ledger.ts); every field optional, defaults there.
   * `spoolDir` defaults to `<sidecar.data_dir>/spool`.
   */
  usageLedger?: Partial<Omit<UsageLedgerOptions, "db" | "log">>;
  /** Distinct values kept per usage metric label. Default tenant 200, provider 50, model 50. */
  labelLimits?: LabelLimits;
  /**
   * Span recorder. Default: from `tracing` in the config (OTLP/HTTP JSON to
   * `<otlp_endpoint>/v1/traces`, service.name `<service_name>-sidecar`), or none when disabled.
   */
  tracer?: Tracer;
  /**
   * Quota counters (Reserve and settlement). Default: a new in-process store (quota-memory.ts),
   * right for one sidecar; replicas must share a Redis one (quota-redis.ts, made by bootstrap.ts).
   */
  quotaStore?: QuotaStore;
}

/** Ports actually bound (differs from the config when it asked for 0). */
export interface BoundPorts {
  grpcPort: number;
  httpPort: number;
  /** Port of the admin API; null when it is not started (no admin token). */
  adminPort: number | null;
}

/** A constructed sidecar. */
export interface Sidecar {
  grpc: grpc.Server;
  http: http.Server;
  /** The admin API server; null without an admin token. */
  admin: http.Server | null;
  /** The usage ledger writer (flush() in tests). */
  usageLedger: UsageLedger;
  /** The ledger retention job (started by start(); runNow() in tests). */
  retention: RetentionJob | null;
  /** Binds gRPC on sidecar.host:grpc_port, HTTP on sidecar.host:http_port, the admin API on admin_address:admin_port. */
  start(): Promise<BoundPorts>;
  /** Stops accepting, drains in-flight RPCs (bounded), closes HTTP, flushes request_log, flushes (or spools) the usage ledger. */
  stop(): Promise<void>;
}

/** How long stop() lets in-flight RPCs finish before cancelling them. */
const DRAIN_TIMEOUT_MS = 5000;

/**
 * How long a reservation waits for its usage report: the longest provider timeout (a day when some
 * provider has none, i.e. unbounded streams) plus 5 minutes for the report's batching and retries.
 * An unsettled reservation that expires stays counted (conservative).
 */
export function reservationTtlSeconds(providers: readonly { timeout_ms: number }[]): number {
  const longestMs = providers.some((p) => p.timeout_ms === 0) ? 86_400_000 : Math.max(0, ...providers.map((p) => p.timeout_ms));
  return Math.ceil(longestMs / 1000) + 300;
}

/** URL host syntax needs brackets around IPv6 literals. */
function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** gRPC address syntax needs brackets around IPv6 literals. */
function grpcAddress(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function createSidecar(deps: SidecarDeps): Sidecar {
  const log = deps.log ?? silentLogger;
  const env = deps.env ?? process.env;
  const pepper = deps.pepper ?? env[PEPPER_ENV];
  if (!pepper) throw new Error(`createSidecar: no pepper (pass deps.pepper or set ${PEPPER_ENV})`);
  const { sidecar, providers } = deps.config;

  const missing = providersMissingCredentials(providers, env);
  if (missing.length > 0) log.warn("provider credential env var empty; requests go upstream without one", { providers: missing });

  const metrics = createSidecarMetrics(deps.registry);
  const requestLog = createRequestLog({
    db: deps.db,
    log,
    onDrop: (n) => metrics.requestLogDropped.inc(n),
  });
  const ring = deps.ring ?? null;
  const authorize = createAuthorizer({
    db: deps.db,
    store: deps.store,
    pepper,
    providers: buildProviderTable(providers, env),
    ring,
    requestLog,
    cacheTtlMs: sidecar.auth_cache_ttl_ms,
    redactHashKeys: deps.config.modules.redact.enabled,
    now: deps.now,
  });
  const prices = deps.prices ?? loadPriceTable(sidecar.prices_file);
  let ledgerState = () => ({ queued: 0, degraded: false });
  const usageMetrics = createUsageMetrics(deps.registry, () => ledgerState(), deps.labelLimits);
  const usageLedger = createUsageLedger({
    spoolDir: spoolDirOf(resolve(sidecar.data_dir)),
    ...deps.usageLedger,
    db: deps.db,
    log,
    onWritten: (inserted, duplicates) => {
      usageMetrics.ledgerRows.inc({ result: "inserted" }, inserted);
      if (duplicates > 0) usageMetrics.ledgerRows.inc({ result: "duplicate" }, duplicates);
    },
    onSpooled: (n) => usageMetrics.ledgerRows.inc({ result: "spooled" }, n),
    onDropped: (n) => usageMetrics.ledgerRows.inc({ result: "dropped" }, n),
    onWriteError: () => usageMetrics.ledgerWriteErrors.inc(),
  });
  ledgerState = () => usageLedger.stats();
  const quotaPolicies = createQuotaPolicyCache(deps.db, sidecar.auth_cache_ttl_ms, deps.now);
  const quotaStore = deps.quotaStore ?? createMemoryQuotaStore();
  const quota = createQuotaService({
    store: quotaStore,
    policies: quotaPolicies,
    prices,
    metrics: createQuotaMetrics(deps.registry, deps.labelLimits?.tenant),
    log,
    defaultOutputTokens: deps.config.modules.quota.default_output_tokens,
    noLimitsTtlMs: sidecar.auth_cache_ttl_ms,
    recordTtlS: reservationTtlSeconds(providers),
    now: deps.now,
    lease: {
      ttlMs: deps.config.modules.quota.lease_ttl_ms,
      maxRequests: deps.config.modules.quota.lease_max_requests,
      maxTokens: deps.config.modules.quota.lease_max_tokens,
    },
  });
  const recordUsage = createUsageRecorder({
    ledger: usageLedger,
    prices,
    metrics: usageMetrics,
    log,
    now: deps.now,
    ring,
    // With the module off nothing is ever reserved: skip the store round trip per report.
    settleQuota: deps.config.modules.quota.enabled ? quota.settle : undefined,
  });
  const { tracing } = deps.config;
  const tracer: Tracer = deps.tracer ?? (tracing.enabled
    ? createOtlpTracer({ endpoint: tracing.otlp_endpoint, serviceName: `${tracing.service_name}-sidecar`, sampleRate: tracing.sample_rate, registry: deps.registry, log })
    : noopTracer);
  const grpcServer = createGrpcServer({ authorize, recordUsage, reserve: quota.reserve, returnLease: quota.returnLease, metrics, log, tracer });
  const httpServer = createHttpServer({ db: deps.db, store: deps.store, registry: deps.registry, log });
  const adminServer = deps.adminToken
    ? createAdminServer({
        db: deps.db,
        store: deps.store,
        pepper,
        ring,
        token: deps.adminToken,
        providers: providers.map((p) => p.name),
        log,
        now: deps.now,
        quota: { store: quotaStore, invalidate: quotaPolicies.invalidate },
      })
    : null;

  const bindGrpc = () =>
    new Promise<number>((resolve, reject) => {
      grpcServer.bindAsync(grpcAddress(sidecar.host, sidecar.grpc_port), grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
  const listen = (server: http.Server, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const shutdownGrpc = () =>
    new Promise<void>((resolve) => {
      const force = setTimeout(() => grpcServer.forceShutdown(), DRAIN_TIMEOUT_MS);
      grpcServer.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  const close = (server: http.Server | null) =>
    new Promise<void>((resolve) => {
      if (!server?.listening) return resolve();
      server.close(() => resolve());
      // /health, /metrics and admin calls are short; idle keep-alive sockets would otherwise hold close() open.
      server.closeIdleConnections();
    });

  let retention: RetentionJob | null = null;

  return {
    grpc: grpcServer,
    http: httpServer,
    admin: adminServer,
    usageLedger,
    get retention() {
      return retention;
    },
    async start() {
      const grpcPort = await bindGrpc();
      let httpPort: number;
      let adminPort: number | null = null;
      try {
        httpPort = await listen(httpServer, sidecar.http_port, sidecar.host);
        if (adminServer) adminPort = await listen(adminServer, sidecar.admin_port, sidecar.admin_address);
      } catch (err) {
        grpcServer.forceShutdown();
        await close(httpServer);
        throw err;
      }
      retention = startLedgerRetention({
        db: deps.db,
        defaultDays: sidecar.ledger_retention_days,
        intervalS: sidecar.retention_interval_s,
        registry: deps.registry,
        log,
        now: deps.now,
      });
      log.info("sidecar listening", { host: sidecar.host, grpc_port: grpcPort, http_port: httpPort });
      if (adminServer) log.info("admin API listening", { url: `http://${urlHost(sidecar.admin_address)}:${adminPort}/admin/v1` });
      else log.warn("admin API not started: no admin token (set LEASH_ADMIN_TOKEN)");
      return { grpcPort, httpPort, adminPort };
    },
    async stop() {
      await Promise.all([shutdownGrpc(), close(httpServer), close(adminServer), retention?.stop()]);
      // After the gRPC drain: every acknowledged report is in the ledger's hands by now.
      await Promise.all([requestLog.close(), usageLedger.close(), tracer.shutdown()]);
    },
  };
}
