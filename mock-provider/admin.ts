// The /__mock/* endpoints: the same view of the mock that MockProvider gives in-process, for
// tests and benchmarks that run the mock as a separate process. These requests are not logged.

import type { ServerResponse } from "node:http";
import type { RequestLog } from "./request-log.ts";

export interface AdminState {
  log: RequestLog;
  hanging(): number;
  cpuUsage(): NodeJS.CpuUsage;
  startedAt: number;
}

export interface MockStats {
  /** Requests received since start, including those evicted from or cleared out of the log. */
  requests: number;
  /** Requests currently held open by x-mock-hang. */
  hanging: number;
  uptime_ms: number;
  /** process.cpuUsage() since start, in microseconds. */
  cpu: NodeJS.CpuUsage;
}

const HEALTH_BODY: string = JSON.stringify({ status: "ok" });

/** Answers an admin request; returns false when `method path` is not one, so it 404s as usual. */
export function serveAdmin(method: string, path: string, res: ServerResponse, state: AdminState): boolean {
  switch (`${method} ${path}`) {
    case "GET /__mock/health":
      sendJson(res, HEALTH_BODY);
      return true;
    case "GET /__mock/requests":
      sendJson(res, JSON.stringify(state.log.entries()));
      return true;
    case "DELETE /__mock/requests":
      state.log.clear();
      res.writeHead(204).end();
      return true;
    case "GET /__mock/stats": {
      const stats: MockStats = {
        requests: state.log.total,
        hanging: state.hanging(),
        uptime_ms: Date.now() - state.startedAt,
        cpu: state.cpuUsage(),
      };
      sendJson(res, JSON.stringify(stats));
      return true;
    }
    default:
      return false;
  }
}

function sendJson(res: ServerResponse, body: string): void {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(body);
}
