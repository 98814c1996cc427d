// The key of the redact module's `hash` action, per tenant. A hash placeholder ([EMAIL:3f9a…]) lets
// a tenant correlate values without seeing them; unkeyed, anyone could confirm a guess (hash a
// candidate address and compare). The key is derived from the pepper, so nothing new is stored and
// every replica derives the same key, and it differs per tenant, so tenants cannot correlate each
// other's values. It travels to the filter inside AuthorizeResponse.module_policy (redact.hash_key),
// never to the client; Envoy's access log does not include that filter state.
import { createHmac } from "node:crypto";

/** 64 hex characters: HMAC-SHA256(pepper, "leash.redact.hash:" + tenant id). */
export function redactHashKey(pepper: string, tenantId: string): string {
  return createHmac("sha256", pepper).update(`leash.redact.hash:${tenantId}`).digest("hex");
}

/** `policyJson` (the tenant's guard sections, "" for none) with redact.hash_key set to `key`. */
export function withRedactHashKey(policyJson: string, key: string): string {
  const policy: Record<string, unknown> = policyJson === "" ? {} : (JSON.parse(policyJson) as Record<string, unknown>);
  const redact = policy.redact;
  policy.redact = { ...(typeof redact === "object" && redact !== null ? redact : {}), hash_key: key };
  return JSON.stringify(policy);
}
