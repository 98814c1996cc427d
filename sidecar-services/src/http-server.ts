// Operational HTTP endpoints: GET /health (liveness of the sidecar and its dependencies, for
// orchestrators and `leash status`) and GET /metrics (Prometheus text format).
import http from "node:http";
import type { Registry } from "prom-client";
import type { Db } from "./db.ts";
import type { KvStore } from "./kv-store.ts";
import type { Logger } from "./logger.ts";

/** Dependencies of {@link createHttpServer}. */
export interface HttpServerDeps {
  db: Db;
  store: KvStore;
  registry: Registry;
  log: Logger;
}

/** A health probe slower than this counts as failed: a hanging dependency is an unhealthy one. */
const PROBE_TIMEOUT_MS = 1500;

async function probe(check: () => Promise<void>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, "application/json", JSON.stringify(body));
}

/** Creates the HTTP server (not yet listening). */
export function createHttpServer(deps: HttpServerDeps): http.Server {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return sendJson(res, 405, { error: "method not allowed" });
    }
    if (path === "/health") {
      const [dbErr, storeErr] = await Promise.all([probe(() => deps.db.ping()), probe(() => deps.store.ping())]);
      if (!dbErr && !storeErr) return sendJson(res, 200, { status: "ok", db: "ok", store: "ok" });
      deps.log.warn("health check failed", { db: dbErr ?? "ok", store: storeErr ?? "ok" });
      return sendJson(res, 503, {
        status: "unavailable",
        db: dbErr ? "unavailable" : "ok",
        store: storeErr ? "unavailable" : "ok",
        errors: { ...(dbErr && { db: dbErr }), ...(storeErr && { store: storeErr }) },
      });
    }
    if (path === "/metrics") return send(res, 200, deps.registry.contentType, await deps.registry.metrics());
    return sendJson(res, 404, { error: "not found" });
  };

  return http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      deps.log.error("http handler failed", { path: req.url?.slice(0, 128), error: err });
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
}
