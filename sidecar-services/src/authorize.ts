// The Authorize decision, independent of gRPC: key → tenant → policy → provider credential.
//
// Order of checks: authentication first (missing → malformed → unknown or wrong secret → revoked →
// expired), then the tenant (disabled), then the route (provider not allowed → unknown provider).
// An unauthenticated caller therefore always gets a 401 and learns nothing about tenants or routes;
// and the secret is verified before the key's state is revealed, so knowing a key id (it is not
// secret) does not tell whether that key exists, was revoked or has expired. The secret check does
// the same work for every well-formed key (one HMAC, two constant-time compares; see matchSecret).
import { redactHashKey, withRedactHashKey } from "./redact-hash-key.ts";
import { hashSecret, matchSecret, parseApiKey, type SecretMatch } from "./api-key.ts";
import type { Queryable } from "./db.ts";
import { DENIALS, DependencyError, type DenialCode } from "./errors.ts";
import { lookupKey } from "./key-lookup.ts";
import type { KvStore } from "./kv-store.ts";
import type { KeyRing } from "./master-key.ts";
import { createCredentialResolver, type ProviderTable } from "./provider-credentials.ts";
import type { RequestLog } from "./request-log.ts";
import { lookupTenantPolicy } from "./tenant-lookup.ts";

/** AuthorizeRequest as decoded by proto-loader (keepCase, defaults on: every field present). */
export interface AuthorizeRequest {
  api_key: string;
  provider: string;
  request_id: string;
  method: string;
  path: string;
}

/** AuthorizeResponse in proto field names; `decision` is the enum name (proto-loader enums: String). */
export interface AuthorizeResponse {
  decision: "ALLOW" | "DENY";
  /** Registry code on DENY, "" on ALLOW. */
  code: DenialCode | "";
  message: string;
  /** HTTP status on DENY, 0 on ALLOW. */
  http_status: number;
  tenant_id: string;
  key_id: string;
  upstream_auth_header: string;
  upstream_auth_value: string;
  /**
   * How long the filter may reuse this answer for the same key (ms): the configured
   * `sidecar.auth_cache_ttl_ms`, shortened on ALLOW to the time left before the key expires and,
   * when the previous secret of a rotation was used, before its grace ends.
   */
  cache_ttl_ms: number;
  /** On ALLOW, the tenant's allowed models (empty = any; "x*" = prefix); empty on DENY. */
  allowed_models: string[];
  /** On ALLOW, the tenant's guard policy as compact JSON ("" = module defaults); "" on DENY. */
  module_policy: string;
}

/** Dependencies of {@link createAuthorizer}. */
export interface AuthorizerDeps {
  db: Queryable;
  store: KvStore;
  /** HMAC key of stored secrets. */
  pepper: string;
  /** Providers of the config with their env credentials. */
  providers: ProviderTable;
  /** Master keys of stored provider credentials; null when none is configured. */
  ring: KeyRing | null;
  requestLog: RequestLog;
  /** `sidecar.auth_cache_ttl_ms`: the longest cache_ttl_ms answered. Default 1000. */
  cacheTtlMs?: number;
  /**
   * Whether the redact module is in the chain: then every ALLOW carries the tenant's hash key in
   * module_policy (redact.hash_key, see redact-hash-key.ts). Default false.
   */
  redactHashKeys?: boolean;
  /** Epoch ms clock for expiry, rotation grace and the per-minute counter. Default Date.now. */
  now?: () => number;
  /**
   * Hashes a presented secret (HMAC-SHA256 with the pepper). Injectable so tests can count the
   * work done per request; default {@link hashSecret} with `pepper`.
   */
  hashSecret?: (secret: string) => Buffer;
}

/** Default of `sidecar.auth_cache_ttl_ms`. */
export const DEFAULT_AUTH_CACHE_TTL_MS = 1000;

/** Expiry of a per-minute counter: the minute itself plus slack for late readers. */
const COUNTER_TTL_SECONDS = 120;

/** Store key of the request counter of `tenantId` in minute `epochMinute` (full key: `leash:req:…`). */
export function requestCounterKey(tenantId: string, epochMinute: number): string {
  return `req:${tenantId}:${epochMinute}`;
}

/**
 * cache_ttl_ms of an ALLOW: the configured TTL, never past the key's expiry, nor past the end of the
 * rotation grace when the previous secret was the one presented (its answer must stop being reused
 * exactly when that secret stops working).
 */
export function allowCacheTtlMs(
  configuredMs: number,
  nowMs: number,
  expiresAt: number | null,
  match: SecretMatch,
  previousSecretExpiresAt: number | null,
): number {
  let ttl = configuredMs;
  if (expiresAt !== null) ttl = Math.min(ttl, expiresAt - nowMs);
  if (match === "previous" && previousSecretExpiresAt !== null) ttl = Math.min(ttl, previousSecretExpiresAt - nowMs);
  return Math.max(0, Math.floor(ttl));
}

/** Returns the Authorize function. It throws DependencyError / CredentialUnavailableError when it cannot decide. */
export function createAuthorizer(deps: AuthorizerDeps): (req: AuthorizeRequest) => Promise<AuthorizeResponse> {
  const now = deps.now ?? Date.now;
  const hash = deps.hashSecret ?? ((secret: string) => hashSecret(deps.pepper, secret));
  const cacheTtlMs = deps.cacheTtlMs ?? DEFAULT_AUTH_CACHE_TTL_MS;
  const resolveCredential = createCredentialResolver({ db: deps.db, store: deps.store, ring: deps.ring });

  const deny = (code: DenialCode, keyId = "", tenantId = ""): AuthorizeResponse => {
    const d = DENIALS[code];
    return {
      decision: "DENY",
      code,
      message: d.message,
      http_status: d.httpStatus,
      tenant_id: tenantId,
      key_id: keyId,
      upstream_auth_header: "",
      upstream_auth_value: "",
      // Denials are as stable as approvals; the filter may reuse them for the configured time.
      cache_ttl_ms: cacheTtlMs,
      allowed_models: [],
      module_policy: "",
    };
  };

  // `keyId` is what request_log records: the presented key id even when the answer withholds it
  // (an unauthenticated key id is the caller's claim, not an identity the filter should log as such).
  const decide = async (req: AuthorizeRequest): Promise<{ res: AuthorizeResponse; keyId: string }> => {
    if (req.api_key === "") return { res: deny("auth.missing_key"), keyId: "" };
    const parsed = parseApiKey(req.api_key);
    if (!parsed) return { res: deny("auth.invalid_key"), keyId: "" };

    // Hashed before the lookup and whatever it finds: one HMAC for every well-formed key.
    const presented = hash(parsed.secret);
    const record = await lookupKey(deps.db, deps.store, parsed.keyId);
    const t = now();
    const previousValid = record?.previousSecretExpiresAt != null && record.previousSecretExpiresAt > t;
    const match = matchSecret(presented, record?.secretHash ?? null, record?.previousSecretHash ?? null, previousValid);
    if (!record || match === "none") return { res: deny("auth.invalid_key"), keyId: parsed.keyId };

    const keyId = parsed.keyId;
    const tenantId = record.tenantId;
    if (record.status !== "active") return { res: deny("auth.key_revoked", keyId, tenantId), keyId };
    if (record.expiresAt !== null && record.expiresAt <= t) return { res: deny("auth.key_expired", keyId, tenantId), keyId };

    const tenant = await lookupTenantPolicy(deps.db, deps.store, tenantId);
    // A missing tenant cannot happen while the foreign key holds; answer as for an unknown key.
    if (!tenant) return { res: deny("auth.invalid_key"), keyId };
    if (tenant.status !== "active") return { res: deny("auth.tenant_disabled", keyId, tenantId), keyId };

    try {
      await deps.store.incr(requestCounterKey(tenantId, Math.floor(t / 60_000)), COUNTER_TTL_SECONDS);
    } catch (err) {
      throw new DependencyError("store", err);
    }

    if (tenant.allowedProviders.length > 0 && !tenant.allowedProviders.includes(req.provider)) {
      return { res: deny("auth.provider_not_allowed", keyId, tenantId), keyId };
    }
    const provider = deps.providers.get(req.provider);
    if (!provider) return { res: deny("gateway.unknown_provider", keyId, tenantId), keyId };

    const credential = await resolveCredential(tenantId, req.provider, provider);
    const res: AuthorizeResponse = {
      decision: "ALLOW",
      code: "",
      message: "",
      http_status: 0,
      tenant_id: tenantId,
      key_id: keyId,
      upstream_auth_header: credential.header,
      upstream_auth_value: credential.value,
      cache_ttl_ms: allowCacheTtlMs(cacheTtlMs, t, record.expiresAt, match, record.previousSecretExpiresAt),
      allowed_models: tenant.allowedModels,
      module_policy: deps.redactHashKeys ? withRedactHashKey(tenant.modulePolicy, redactHashKey(deps.pepper, tenantId)) : tenant.modulePolicy,
    };
    return { res, keyId };
  };

  return async (req) => {
    const { res, keyId } = await decide(req);
    deps.requestLog.record({
      request_id: req.request_id,
      tenant_id: res.tenant_id || null,
      key_id: keyId || null,
      provider: req.provider,
      decision: res.decision,
      code: res.code || null,
    });
    return res;
  };
}
