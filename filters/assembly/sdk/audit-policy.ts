// Whether the tenant's audit trail is on for the current request: `audit.enabled` in the tenant
// policy the auth module leaves in filter state `leash.policy` (the sidecar puts the section there
// only when it is on, docs/audit-trail.md). Read by the usage module (it captures the bodies) and
// the redact module (it hands over the response as rewritten).
import { getPropertyString } from "./host";
import { parseJson, JsonKind } from "./json";

/** Filter state the redact module writes with its rewritten response, for the audit. */
export const AUDIT_RESPONSE: string = "leash.audit.response";
/** Set by the redact module when it rewrites this response ("1"): the usage module must not use its own (unredacted) copy. */
export const AUDIT_RESPONSE_BY_REDACT: string = "leash.audit.response_by_redact";
/** "1" when the redact module cut its copy at AUDIT_RESPONSE_MAX. */
export const AUDIT_RESPONSE_TRUNCATED: string = "leash.audit.response_truncated";
/** Bound of the redact module's copy (the sidecar caps each body at 1 MiB anyway). */
export const AUDIT_RESPONSE_MAX: i32 = 1 << 20;

/**
 * The last policy string seen and its answer: a VM serves a few tenants, each with one policy
 * string, so a parse per distinct string change is enough. Per VM, not per stream.
 */
let lastText: string = "";
let lastAnswer: bool = false;

/** audit.enabled of the request's tenant policy; false without a policy or when it does not parse. */
export function auditEnabled(): bool {
  return auditEnabledIn(getPropertyString(["leash.policy"]));
}

/**
 * auditEnabled() for a policy the caller already read from leash.policy on this stream (the auth
 * module writes it before any later module's request headers run): one property read, a host
 * call, less.
 */
export function auditEnabledIn(text: string | null): bool {
  if (text == null || text.length == 0) return false;
  // Cheap pre-check: most policies have no audit section at all.
  if (!text.includes("\"audit\"")) return false;
  if (text == lastText) return lastAnswer;
  let on = false;
  const parsed = parseJson(text);
  if (parsed.value != null && parsed.value!.isObject()) {
    const section = parsed.value!.get("audit");
    if (section != null && section.isObject()) {
      const e = section.get("enabled");
      on = e != null && e.kind == JsonKind.Bool && e.b;
    }
  }
  lastText = text;
  lastAnswer = on;
  return on;
}
