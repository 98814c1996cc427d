// A small client for the sidecar's admin API (sidecar-services/README.md), used by the CLI. The API
// listens on sidecar.admin_address:admin_port, off the public listener, and wants the admin token:
// LEASH_ADMIN_TOKEN, or the token file the sidecar wrote in data_dir on its first embedded start.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LeashConfig } from "../config/types.ts";
import { probeHost } from "./processes.ts";

export class AdminError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface AdminClient {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export function adminToken(cfg: LeashConfig, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LEASH_ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const file = join(resolve(cfg.sidecar.data_dir), "admin-token");
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    throw new Error(`no admin token: set LEASH_ADMIN_TOKEN, or run the gateway once on the embedded database so it writes ${file}`);
  }
}

export function adminClient(cfg: LeashConfig, env: NodeJS.ProcessEnv = process.env): AdminClient {
  const base = `http://${probeHost(cfg.sidecar.admin_address)}:${cfg.sidecar.admin_port}/admin/v1`;
  const token = adminToken(cfg, env);
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(base + path, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        throw new Error(`cannot reach the admin API at ${base} (is the gateway running? bin/leash start): ${(err as Error).message}`);
      }
      const text = await res.text();
      const json = text === "" ? {} : JSON.parse(text) as Record<string, unknown>;
      if (!res.ok) {
        const e = (json.error ?? {}) as { code?: string; message?: string };
        throw new AdminError(res.status, e.code ?? "admin.error", `${e.code ?? res.status}: ${e.message ?? text}`);
      }
      return json as T;
    },
  };
}
