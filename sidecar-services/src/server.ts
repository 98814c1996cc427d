// The sidecar as a value: gRPC + HTTP servers built from injected dependencies. main.ts/bootstrap
// supply real pg/PGlite, ioredis/in-process store and a prom-client registry; tests supply their
// own, bind to port 0 and read the bound ports back.
import * as grpc from "@grpc/grpc-js";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { LeashConfig } from "../../config/types.ts";
import { createAuthorizer } from "./authorize.ts";
import type { Db } from "./db.ts";
import { createGrpcServer } from "./grpc-service.ts";
import { createHttpServer } from "./http-server.ts";
import type { KvStore } from "./kv-store.ts";
import { silentLogger, type Logger } from "./logger.ts";
import { createSidecarMetrics } from "./metrics.ts";
import { PEPPER_ENV } from "./pepper.ts";
import { providersMissingCredentials, resolveProviderCredentials } from "./provider-credentials.ts";
import { createRequestLog } from "./request-log.ts";

/** Everything the sidecar needs; it owns none of it (stop() does not close db or store). */
export interface SidecarDeps {
  /** Migrated database (see migrate()). */
  db: Db;
  /** Cache and counters. */
  store: KvStore;
  /** Registry the sidecar's metrics and default process metrics are registered on. */
  registry: Registry;
  /** Loaded config; uses `sidecar.host`, `sidecar.grpc_port`, `sidecar.http_port` and `providers`. */
  config: LeashConfig;
  /** Default: silent. */
  log?: Logger;
  /** Environment for provider credentials (`api_key_env`) and LEASH_KEY_PEPPER. Default process.env. */
  env?: Record<string, string | undefined>;
  /** HMAC pepper of key secrets. Default env LEASH_KEY_PEPPER (required then). */
  pepper?: string;
}

/** Ports actually bound (differs from the config when it asked for 0). */
export interface BoundPorts {
  grpcPort: number;
  httpPort: number;
}

/** A constructed sidecar. */
export interface Sidecar {
  grpc: grpc.Server;
  http: http.Server;
  /** Binds gRPC on sidecar.host:grpc_port and HTTP on sidecar.host:http_port. */
  start(): Promise<BoundPorts>;
  /** Stops accepting, drains in-flight RPCs (bounded), closes HTTP, flushes request_log. */
  stop(): Promise<void>;
}

/** How long stop() lets in-flight RPCs finish before cancelling them. */
const DRAIN_TIMEOUT_MS = 5000;

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
  const authorize = createAuthorizer({
    db: deps.db,
    store: deps.store,
    pepper,
    credentials: resolveProviderCredentials(providers, env),
    requestLog,
  });
  const grpcServer = createGrpcServer({ authorize, metrics, log });
  const httpServer = createHttpServer({ db: deps.db, store: deps.store, registry: deps.registry, log });

  const bindGrpc = () =>
    new Promise<number>((resolve, reject) => {
      grpcServer.bindAsync(grpcAddress(sidecar.host, sidecar.grpc_port), grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
  const listenHttp = () =>
    new Promise<number>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(sidecar.http_port, sidecar.host, () => {
        httpServer.off("error", reject);
        resolve((httpServer.address() as AddressInfo).port);
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
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      if (!httpServer.listening) return resolve();
      httpServer.close(() => resolve());
      // /health and /metrics are short; idle keep-alive sockets would otherwise hold close() open.
      httpServer.closeIdleConnections();
    });

  return {
    grpc: grpcServer,
    http: httpServer,
    async start() {
      const grpcPort = await bindGrpc();
      let httpPort: number;
      try {
        httpPort = await listenHttp();
      } catch (err) {
        grpcServer.forceShutdown();
        throw err;
      }
      log.info("sidecar listening", { host: sidecar.host, grpc_port: grpcPort, http_port: httpPort });
      return { grpcPort, httpPort };
    },
    async stop() {
      await Promise.all([shutdownGrpc(), closeHttp()]);
      await requestLog.close();
    },
  };
}
