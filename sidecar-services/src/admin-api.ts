// The admin API: tenants, keys and provider credentials over JSON/HTTP, on its own server
// (sidecar.admin_address:admin_port), never on Envoy's public listener. Every request needs the admin
// token; errors are `{"error":{"code","message"}}` with registry codes and never carry internals.
// Routes and bodies are documented in sidecar-services/README.md ("Admin API"), which the CLI
// (`bin/leash tenants|keys|credentials|policy|usage`) follows.
import http from "node:http";
import { bearerToken, createTokenChecker } from "./admin-token.ts";
import { DEFAULT_MAX_BODY_BYTES, pathSegments, readJsonBody, sendError, sendJson } from "./admin-http.ts";
import {
  checkMergedModuleSettings,
  quote,
  readCredential,
  readFutureTimestamp,
  readInteger,
  readKnownProvider,
  readModelList,
  readObject,
  readOwnerTenantId,
  readProviderList,
  readQueryChoice,
  readQueryFilter,
  readQueryTimestamp,
  readQueryParam,
  readRetentionDays,
  readModuleSettingsPatch,
  readSettings,
  readString,
  readTenantId,
  readTenantStatus,
  type Body,
} from "./admin-input.ts";
import { CredentialDecryptError } from "./credential-cipher.ts";
import { deleteCredential, listCredentials, putCredential, reencryptCredentials } from "./credential-store.ts";
import type { Db } from "./db.ts";
import { AdminError, DependencyError, type AdminErrorCode } from "./errors.ts";
import {
  createApiKey,
  DEFAULT_ROTATION_GRACE_SECONDS,
  getApiKey,
  listApiKeys,
  MAX_ROTATION_GRACE_SECONDS,
  revokeApiKey,
  rotateApiKey,
} from "./keys.ts";
import type { KvStore } from "./kv-store.ts";
import type { Logger } from "./logger.ts";
import type { KeyRing } from "./master-key.ts";
import { decodeAuditCursor, MAX_AUDIT_PAGE, readAuditPage } from "./audit-export.ts";
import {
  asAdminInput,
  getKeyLimits,
  getTenantQuota,
  limitsReadout,
  patchKeyLimits,
  patchTenantQuota,
  readLimitsPatch,
  TENANT_LIMIT_FIELDS,
} from "./quota-admin.ts";
import { LIMIT_FIELDS, parseLimits } from "./quota-limits.ts";
import type { QuotaStore } from "./quota-store.ts";
import type { QuotaLimits, TenantQuotaSettings } from "./quota-limits.ts";
import { MAX_USAGE_RANGE_DAYS, queryUsage, USAGE_GROUP_BY } from "./usage-query.ts";
import { createTenantInfo, getTenant, isTenantId, listTenants, tenantExists, tenantIdFromName, updateTenant } from "./tenants.ts";

/** Every route lives under this prefix. */
export const ADMIN_PREFIX = "/admin/v1";

/** Dependencies of {@link createAdminServer}. */
export interface AdminApiDeps {
  db: Db;
  /** The sidecar's cache; every mutation deletes the entries it makes stale. */
  store: KvStore;
  /** HMAC pepper of key secrets (new and rotated keys). */
  pepper: string;
  /** Master keys for provider credentials; null = credentials cannot be stored (409 admin.no_master_key). */
  ring: KeyRing | null;
  /** The admin token every request must present as `Authorization: Bearer <token>`. */
  token: string;
  /** Provider names of the gateway config (policy and credentials may only name these). */
  providers: readonly string[];
  log: Logger;
  /** Epoch ms clock (expiry checks, rotation grace). Default Date.now. */
  now?: () => number;
  /** Largest request body in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * Quota counters (limits readouts) and this sidecar's limits cache (dropped on a change). Without
   * it the /limits routes answer 404 like unknown routes.
   */
  quota?: { store: QuotaStore; invalidate(tenantId: string): void };
}

/** What a handler sees of a request. */
interface Context {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined when empty. */
  body(): Promise<unknown>;
}

/** A handler's answer. */
interface Reply {
  status: number;
  body: unknown;
}

type Handler = (ctx: Context) => Promise<Reply>;

interface Route {
  /** Segments below ADMIN_PREFIX; ":name" captures one segment. */
  pattern: string[];
  /** Query parameters the route accepts (others are a 400). */
  query?: string[];
  methods: Partial<Record<string, Handler>>;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const created = (body: unknown): Reply => ({ status: 201, body });
const notFound = (what: string): AdminError => new AdminError("admin.not_found", what);

/** SQLSTATE classes / socket errors that mean "the database is not reachable right now". */
function isUnavailable(err: unknown): boolean {
  if (err instanceof DependencyError) return true;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && /^(08|53|57)/.test(code)) return true;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ETIMEDOUT, …
  const message = err instanceof Error ? err.message : "";
  return /timeout|Connection terminated|connection is closed|Connection is closed/i.test(message);
}

/** Registry code of an error thrown by a handler. */
function classify(err: unknown): AdminErrorCode {
  if (err instanceof AdminError) return err.code;
  const code = (err as { code?: unknown })?.code;
  // Integrity violations (a tenant deleted or created concurrently) are conflicts with current state.
  if (typeof code === "string" && code.startsWith("23")) return "admin.conflict";
  // Data exceptions (a value the database refuses) are the request's fault, not an outage or a bug.
  if (typeof code === "string" && code.startsWith("22")) return "admin.invalid_request";
  if (isUnavailable(err)) return "admin.unavailable";
  return "admin.internal";
}

/** Wraps the store so a failed cache invalidation is logged, not turned into a failed (already committed) change. */
function invalidatingStore(store: KvStore, log: Logger): KvStore {
  return {
    ...store,
    async del(key) {
      try {
        await store.del(key);
      } catch (err) {
        log.warn("cache invalidation failed; the entry expires within its TTL", { cache_key: key, error: err });
      }
    },
  };
}

/** Creates the admin HTTP server (not yet listening). */
export function createAdminServer(deps: AdminApiDeps): http.Server {
  const now = deps.now ?? Date.now;
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const tokenMatches = createTokenChecker(deps.token);
  const known = new Set(deps.providers);
  const store = invalidatingStore(deps.store, deps.log);
  const { db, log } = deps;

  /** The body as an object with only `allowed` fields; an empty body reads as {}. */
  const bodyObject = async (ctx: Context, allowed: readonly string[]): Promise<Body> => {
    const raw = await ctx.body();
    // Only an empty body means {}; a JSON `null` is a wrong type like any other.
    return readObject(raw === undefined ? {} : raw, allowed);
  };

  const quotaStore = (): QuotaStore => {
    if (!deps.quota) throw notFound("No such endpoint.");
    return deps.quota.store;
  };
  const tenantLimitsView = async (tenantId: string, settings: TenantQuotaSettings) => ({
    tenant_id: tenantId,
    limits: settings.limits,
    on_store_failure: settings.on_store_failure,
    usage: await limitsReadout(quotaStore(), tenantId, "", settings.limits, now()),
  });
  const keyLimitsView = async (keyId: string, key: { tenantId: string; limits: QuotaLimits }) => ({
    key_id: keyId,
    tenant_id: key.tenantId,
    limits: key.limits,
    usage: await limitsReadout(quotaStore(), key.tenantId, keyId, key.limits, now()),
  });
  const changeTenantLimits = async (tenantId: string, patch: Record<string, unknown> | null) => {
    quotaStore();
    const settings = await patchTenantQuota(db, tenantId, patch);
    if (!settings) throw notFound("no such tenant");
    deps.quota!.invalidate(tenantId);
    log.info("admin: tenant limits changed", { tenant_id: tenantId, fields: patch ? Object.keys(patch) : "all cleared" });
    return tenantLimitsView(tenantId, settings);
  };
  const changeKeyLimits = async (keyId: string, patch: Record<string, unknown> | null) => {
    quotaStore();
    const key = await patchKeyLimits(db, keyId, patch);
    if (!key) throw notFound("no such key");
    deps.quota!.invalidate(key.tenantId);
    log.info("admin: key limits changed", { tenant_id: key.tenantId, key_id: keyId, fields: patch ? Object.keys(patch) : "all cleared" });
    return keyLimitsView(keyId, key);
  };

  const routes: Route[] = [
    {
      pattern: ["tenants", ":tenant_id", "audit"],
      query: ["from", "to", "limit", "cursor"],
      methods: {
        // One page of the tenant's audit trail, opened (audit-export.ts); `next` continues it.
        async GET({ params, query }) {
          const from = readQueryTimestamp(query, "from");
          const to = readQueryTimestamp(query, "to");
          if (to.getTime() <= from.getTime()) throw new AdminError("admin.invalid_request", "to: must be after from");
          const rawLimit = readQueryParam(query, "limit");
          const limit = rawLimit === undefined ? MAX_AUDIT_PAGE : Number(rawLimit);
          if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
            throw new AdminError("admin.invalid_request", `limit: must be an integer in 1..${MAX_AUDIT_PAGE}`);
          }
          const rawCursor = readQueryParam(query, "cursor");
          const cursor = rawCursor === undefined ? null : decodeAuditCursor(rawCursor);
          if (rawCursor !== undefined && cursor === null) throw new AdminError("admin.invalid_request", "cursor: not a cursor from an earlier page");
          if (!(await tenantExists(db, params.tenant_id!))) throw notFound("no such tenant");
          const page = await readAuditPage(db, deps.ring, { tenantId: params.tenant_id!, from, to, cursor, limit });
          return ok({ tenant_id: params.tenant_id, from: from.toISOString(), to: to.toISOString(), ...page });
        },
      },
    },
    {
      pattern: ["tenants"],
      methods: {
        async POST(ctx) {
          const b = await bodyObject(ctx, ["name", "id", "allowed_providers", "allowed_models"]);
          const name = readString(b, "name", { required: true, max: 200 });
          const id = readTenantId(b, "id") ?? tenantIdFromName(name);
          if (!isTenantId(id)) throw new AdminError("admin.invalid_request", "id: cannot be derived from name; give one ([a-z0-9][a-z0-9-]{0,62})");
          const tenant = await createTenantInfo(db, name, id, {
            allowedProviders: readProviderList(b, "allowed_providers", known),
            allowedModels: readModelList(b, "allowed_models"),
          });
          log.info("admin: tenant created", { tenant_id: tenant.id });
          return created(tenant);
        },
        async GET() {
          return ok({ tenants: await listTenants(db) });
        },
      },
    },
    {
      pattern: ["tenants", ":tenant_id"],
      methods: {
        async GET({ params }) {
          const tenant = await getTenant(db, params.tenant_id!);
          if (!tenant) throw notFound("no such tenant");
          return ok(tenant);
        },
        async PATCH(ctx) {
          const b = await bodyObject(ctx, ["status", "allowed_providers", "allowed_models", "module_settings", "retention_days"]);
          if (Object.keys(b).length === 0) {
            throw new AdminError("admin.invalid_request", "body: give at least one of status, allowed_providers, allowed_models, module_settings, retention_days");
          }
          // A merge patch (docs/decisions/0006): only the sections and fields it names change.
          const moduleSettings = readModuleSettingsPatch(b, "module_settings");
          const tenant = await updateTenant(
            db,
            ctx.params.tenant_id!,
            {
              status: readTenantStatus(b, "status"),
              allowedProviders: readProviderList(b, "allowed_providers", known),
              allowedModels: readModelList(b, "allowed_models"),
              moduleSettings,
              checkModuleSettings: (merged, patch) => checkMergedModuleSettings(merged, patch, "module_settings"),
              retentionDays: readRetentionDays(b, "retention_days"),
            },
            store,
          );
          if (!tenant) throw notFound("no such tenant");
          deps.quota?.invalidate(tenant.id);
          log.info("admin: tenant updated", { tenant_id: tenant.id, fields: Object.keys(b) });
          return ok(tenant);
        },
      },
    },
    {
      pattern: ["tenants", ":tenant_id", "keys"],
      methods: {
        async POST(ctx) {
          const b = await bodyObject(ctx, ["expires_at", "limits"]);
          const expiresAt = readFutureTimestamp(b, "expires_at", now());
          const limits = readSettings(b, "limits");
          // The quota module reads these: refuse what it would refuse (quota-limits.ts).
          if (limits) asAdminInput(() => parseLimits(limits, "limits."));
          const tenantId = ctx.params.tenant_id!;
          if (!(await tenantExists(db, tenantId))) throw notFound("no such tenant");
          const k = await createApiKey(db, tenantId, deps.pepper, { expiresAt, limits }, now);
          log.info("admin: key created", { tenant_id: tenantId, key_id: k.keyId });
          return created({ key: k.key, ...k.info });
        },
        async GET({ params }) {
          const keys = await listApiKeys(db, params.tenant_id!, now);
          if (!keys) throw notFound("no such tenant");
          return ok({ keys });
        },
      },
    },
    {
      pattern: ["keys", ":key_id"],
      methods: {
        async GET({ params }) {
          const key = await getApiKey(db, params.key_id!, now);
          if (!key) throw notFound("no such key");
          return ok(key);
        },
      },
    },
    {
      pattern: ["keys", ":key_id", "rotate"],
      methods: {
        async POST(ctx) {
          const b = await bodyObject(ctx, ["grace_seconds"]);
          const grace = readInteger(b, "grace_seconds", 0, MAX_ROTATION_GRACE_SECONDS) ?? DEFAULT_ROTATION_GRACE_SECONDS;
          const keyId = ctx.params.key_id!;
          const k = await rotateApiKey(db, keyId, deps.pepper, grace, store, now);
          log.info("admin: key rotated", { tenant_id: k.info.tenant_id, key_id: keyId, grace_seconds: grace });
          return ok({ key: k.key, ...k.info });
        },
      },
    },
    {
      pattern: ["keys", ":key_id", "revoke"],
      methods: {
        async POST(ctx) {
          await bodyObject(ctx, []);
          const keyId = ctx.params.key_id!;
          if (!(await getApiKey(db, keyId, now))) throw notFound("no such key");
          // Idempotent: revoking a revoked key answers its (unchanged) record.
          const changed = await revokeApiKey(db, keyId, store);
          const key = await getApiKey(db, keyId, now);
          if (!key) throw notFound("no such key");
          if (changed) log.info("admin: key revoked", { tenant_id: key.tenant_id, key_id: keyId });
          return ok(key);
        },
      },
    },
    {
      pattern: ["credentials"],
      query: ["tenant_id"],
      methods: {
        async PUT(ctx) {
          const b = await bodyObject(ctx, ["tenant_id", "provider", "api_key"]);
          const tenantId = readOwnerTenantId(b, "tenant_id");
          const provider = readKnownProvider(b, "provider", known);
          const apiKey = readCredential(b, "api_key");
          if (!deps.ring) throw new AdminError("admin.no_master_key");
          if (tenantId !== null && !(await tenantExists(db, tenantId))) throw notFound("no such tenant");
          const info = await putCredential(db, deps.ring, { tenantId, provider }, apiKey, store);
          log.info("admin: provider credential set", { tenant_id: tenantId ?? "*", provider, master_key_id: info.master_key_id });
          return ok(info);
        },
        async GET({ query }) {
          const raw = query.get("tenant_id");
          // Absent: every credential; empty: the shared ones; an id: that tenant's.
          const filter = raw === null ? undefined : raw === "" ? null : raw;
          if (typeof filter === "string" && !(await tenantExists(db, filter))) throw notFound("no such tenant");
          return ok({ credentials: await listCredentials(db, filter) });
        },
        async DELETE(ctx) {
          const b = await bodyObject(ctx, ["tenant_id", "provider"]);
          const tenantId = readOwnerTenantId(b, "tenant_id");
          // Any well-formed name: a provider removed from the config may still have a stored credential.
          const provider = readString(b, "provider", { required: true, max: 63 });
          if (!/^[a-z0-9][a-z0-9-]*$/.test(provider)) {
            throw new AdminError("admin.invalid_request", "provider: must be a provider name ([a-z0-9][a-z0-9-]*)");
          }
          if (!(await deleteCredential(db, { tenantId, provider }, store))) throw notFound("no such credential");
          log.info("admin: provider credential deleted", { tenant_id: tenantId ?? "*", provider });
          return ok({ deleted: true, tenant_id: tenantId, provider });
        },
      },
    },
    {
      pattern: ["credentials", "reencrypt"],
      methods: {
        async POST(ctx) {
          await bodyObject(ctx, []);
          if (!deps.ring) throw new AdminError("admin.no_master_key");
          try {
            const result = await reencryptCredentials(db, deps.ring, store);
            log.info("admin: credentials re-encrypted", { ...result, master_key_id: deps.ring.current.id });
            return ok({ ...result, master_key_id: deps.ring.current.id });
          } catch (err) {
            // The message names a master key id and nothing secret; nothing was changed.
            if (err instanceof CredentialDecryptError) throw new AdminError("admin.conflict", `${err.message}; nothing was re-encrypted`);
            throw err;
          }
        },
      },
    },
    {
      pattern: ["tenants", ":tenant_id", "limits"],
      methods: {
        // Limits, Redis fault policy and live counters of a tenant (docs/quotas.md).
        async GET({ params }) {
          const settings = await getTenantQuota(db, params.tenant_id!);
          if (!settings) throw notFound("no such tenant");
          return ok(await tenantLimitsView(params.tenant_id!, settings));
        },
        async PATCH(ctx) {
          const b = await bodyObject(ctx, TENANT_LIMIT_FIELDS);
          if (Object.keys(b).length === 0) throw new AdminError("admin.invalid_request", `body: give at least one of ${TENANT_LIMIT_FIELDS.join(", ")}`);
          return ok(await changeTenantLimits(ctx.params.tenant_id!, readLimitsPatch(b, true)));
        },
        async DELETE(ctx) {
          await bodyObject(ctx, []);
          return ok(await changeTenantLimits(ctx.params.tenant_id!, null));
        },
      },
    },
    {
      pattern: ["keys", ":key_id", "limits"],
      methods: {
        async GET({ params }) {
          const key = await getKeyLimits(db, params.key_id!);
          if (!key) throw notFound("no such key");
          return ok(await keyLimitsView(params.key_id!, key));
        },
        async PATCH(ctx) {
          const b = await bodyObject(ctx, LIMIT_FIELDS);
          if (Object.keys(b).length === 0) throw new AdminError("admin.invalid_request", `body: give at least one of ${LIMIT_FIELDS.join(", ")}`);
          return ok(await changeKeyLimits(ctx.params.key_id!, readLimitsPatch(b, false)));
        },
        async DELETE(ctx) {
          await bodyObject(ctx, []);
          return ok(await changeKeyLimits(ctx.params.key_id!, null));
        },
      },
    },
    {
      pattern: ["usage"],
      query: ["from", "to", "tenant_id", "key_id", "provider", "model", "group_by"],
      methods: {
        // Read-only report over usage_ledger (usage-query.ts): [from, to) and exact-match filters.
        async GET({ query }) {
          const from = readQueryTimestamp(query, "from");
          const to = readQueryTimestamp(query, "to");
          if (to.getTime() <= from.getTime()) throw new AdminError("admin.invalid_request", "to: must be after from");
          if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_DAYS * 86_400_000) {
            throw new AdminError("admin.invalid_request", `to: the range must be at most ${MAX_USAGE_RANGE_DAYS} days`);
          }
          return ok(
            await queryUsage(db, {
              from,
              to,
              groupBy: readQueryChoice(query, "group_by", USAGE_GROUP_BY, "tenant"),
              tenantId: readQueryFilter(query, "tenant_id", 63),
              keyId: readQueryFilter(query, "key_id", 64),
              provider: readQueryFilter(query, "provider", 63),
              model: readQueryFilter(query, "model", 200),
            }),
          );
        },
      },
    },
  ];

  const match = (segments: string[]): { route: Route; params: Record<string, string> } | null => {
    for (const route of routes) {
      if (route.pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const hit = route.pattern.every((p, i) => {
        if (p.startsWith(":")) {
          params[p.slice(1)] = segments[i]!;
          return true;
        }
        return p === segments[i];
      });
      if (hit) return { route, params };
    }
    return null;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<string> => {
    // Authentication before anything else, unknown paths included: without the token nothing
    // about the API (routes, ids, validation) can be probed.
    if (!tokenMatches(bearerToken(req.headers.authorization))) {
      log.warn("admin: unauthorized request", { method: req.method?.slice(0, 16), remote: req.socket.remoteAddress });
      sendError(res, "admin.unauthorized", undefined, { "www-authenticate": 'Bearer realm="leash-admin"' });
      return "unauthorized";
    }
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://admin.invalid");
    } catch {
      sendError(res, "admin.not_found");
      return "unmatched";
    }
    const segments = pathSegments(url.pathname, ADMIN_PREFIX);
    const found = segments ? match(segments) : null;
    if (!found) {
      sendError(res, "admin.not_found", "No such endpoint.");
      return "unmatched";
    }
    const template = "/" + found.route.pattern.join("/");
    const method = req.method ?? "";
    const handler = found.route.methods[method];
    if (!handler) {
      const allow = Object.keys(found.route.methods).join(", ");
      sendError(res, "admin.method_not_allowed", `Use ${allow} on ${template}.`, { allow });
      return template;
    }
    for (const name of url.searchParams.keys()) {
      if (!(found.route.query ?? []).includes(name)) {
        sendError(res, "admin.invalid_request", `${quote(name)}: unknown query parameter`);
        return template;
      }
    }
    let body: Promise<unknown> | undefined;
    const ctx: Context = {
      params: found.params,
      query: url.searchParams,
      body: () => (body ??= readJsonBody(req, maxBody)),
    };
    try {
      const reply = await handler(ctx);
      sendJson(res, reply.status, reply.body);
    } catch (err) {
      const code = classify(err);
      if (code === "admin.payload_too_large") {
        // The rest of the body is not read: close the connection instead of draining it.
        sendError(res, code, (err as Error).message, { connection: "close" });
        return template;
      }
      if (err instanceof AdminError) sendError(res, code, err.message);
      else {
        // Internals (SQL, stack, driver messages) go to the log only.
        log.error("admin: request failed", { method, route: template, code, error: err });
        sendError(res, code);
      }
    }
    return template;
  };

  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    handle(req, res)
      .catch((err: unknown) => {
        log.error("admin: handler failed", { error: err });
        sendError(res, "admin.internal");
      })
      .then((route) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log.info("admin request", { method: req.method?.slice(0, 16), route: route ?? "error", status: res.statusCode, duration_ms: Math.round(ms * 10) / 10 });
      });
  });
  // Bounded waits: a slow client cannot hold an admin connection open indefinitely.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  return server;
}
