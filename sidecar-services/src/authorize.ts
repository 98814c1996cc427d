// The Authorize decision, independent of gRPC: key → tenant → provider credential.
//
// Order of checks: authentication first (missing → malformed → unknown → wrong secret → revoked),
// then the provider. An unauthenticated caller therefore always gets a 401 and learns nothing
// about routes; and the secret is verified before the revoked status is revealed, so knowing a
// key id (it is not secret) does not tell whether that key was revoked.
import { parseApiKey, verifySecret } from "./api-key.ts";
import type { Queryable } from "./db.ts";
import { DENIALS, DependencyError, type DenialCode } from "./errors.ts";
import { lookupKey } from "./key-lookup.ts";
import type { KvStore } from "./kv-store.ts";
import type { ProviderCredentials } from "./provider-credentials.ts";
import type { RequestLog } from "./request-log.ts";

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
}

/** Dependencies of {@link createAuthorizer}. */
export interface AuthorizerDeps {
  db: Queryable;
  store: KvStore;
  /** HMAC key of stored secrets. */
  pepper: string;
  /** Known providers and their upstream credentials. */
  credentials: ProviderCredentials;
  requestLog: RequestLog;
  /** Epoch ms clock for the per-minute counter. Default Date.now. */
  now?: () => number;
}

/** Expiry of a per-minute counter: the minute itself plus slack for late readers. */
const COUNTER_TTL_SECONDS = 120;

/** Store key of the request counter of `tenantId` in minute `epochMinute` (full key: `leash:req:…`). */
export function requestCounterKey(tenantId: string, epochMinute: number): string {
  return `req:${tenantId}:${epochMinute}`;
}

function deny(code: DenialCode, keyId = "", tenantId = ""): AuthorizeResponse {
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
  };
}

/** Returns the Authorize function. It throws DependencyError when the database or store fails. */
export function createAuthorizer(deps: AuthorizerDeps): (req: AuthorizeRequest) => Promise<AuthorizeResponse> {
  const now = deps.now ?? Date.now;

  // `keyId` is what request_log records: the presented key id even when the answer withholds it
  // (an unauthenticated key id is the caller's claim, not an identity the filter should log as such).
  const decide = async (req: AuthorizeRequest): Promise<{ res: AuthorizeResponse; keyId: string }> => {
    if (req.api_key === "") return { res: deny("auth.missing_key"), keyId: "" };
    const parsed = parseApiKey(req.api_key);
    if (!parsed) return { res: deny("auth.invalid_key"), keyId: "" };

    const record = await lookupKey(deps.db, deps.store, parsed.keyId);
    if (!record || !verifySecret(deps.pepper, parsed.secret, record.secretHash)) {
      return { res: deny("auth.invalid_key"), keyId: parsed.keyId };
    }
    const keyId = parsed.keyId;
    if (record.status !== "active") return { res: deny("auth.key_revoked", keyId, record.tenantId), keyId };

    try {
      await deps.store.incr(requestCounterKey(record.tenantId, Math.floor(now() / 60_000)), COUNTER_TTL_SECONDS);
    } catch (err) {
      throw new DependencyError("store", err);
    }

    const credential = deps.credentials.get(req.provider);
    if (!credential) return { res: deny("gateway.unknown_provider", keyId, record.tenantId), keyId };
    const res: AuthorizeResponse = {
      decision: "ALLOW",
      code: "",
      message: "",
      http_status: 0,
      tenant_id: record.tenantId,
      key_id: keyId,
      upstream_auth_header: credential.header,
      upstream_auth_value: credential.value,
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
