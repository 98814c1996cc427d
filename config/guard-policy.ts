// The guard modules' vocabulary, shared by the YAML config (modules.redact / modules.injection), the
// sidecar's per-tenant policy (tenants.module_settings, checked on write) and the CLI. Entity names
// must equal the AssemblyScript detectors' names (filters/assembly/detect/finding.ts, NAMES);
// test/unit/guard-policy.test.ts compares the two lists.

/** PII entity names, in EntityKind order. */
export const PII_ENTITIES: readonly string[] = ["email", "phone", "card", "ssn", "iban", "ipv4", "ipv6"];

/** Secret entity names, in EntityKind order. Default action: block (a leaked key is an incident). */
export const SECRET_ENTITIES: readonly string[] = [
  "openai_key", "anthropic_key", "aws_access_key", "github_token", "stripe_key", "slack_token",
  "google_api_key", "jwt", "private_key", "connection_password", "generic_secret",
];

/** Every entity name, in EntityKind order. */
export const ENTITY_NAMES: readonly string[] = [...PII_ENTITIES, ...SECRET_ENTITIES];

/**
 * What the redact module does with a found entity: replace it with a typed numbered placeholder
 * ([EMAIL_1]), with a short hash ([EMAIL_3f9a…]), refuse the request (400 guard.pii_blocked /
 * guard.secret_blocked), or leave it.
 */
export type RedactAction = "mask" | "hash" | "block" | "allow";
export const REDACT_ACTIONS: readonly RedactAction[] = ["mask", "hash", "block", "allow"];

/** What the injection module does above its threshold: add a header and log, or refuse (guard.prompt_injection). */
export type InjectionAction = "flag" | "block";
export const INJECTION_ACTIONS: readonly InjectionAction[] = ["flag", "block"];

/** The built-in action of an entity: PII masked, secrets blocked. */
export function defaultRedactAction(entity: string): RedactAction {
  return SECRET_ENTITIES.includes(entity) ? "block" : "mask";
}

/** Every entity with its built-in action, in EntityKind order. */
export function defaultEntityActions(): Record<string, RedactAction> {
  const out: Record<string, RedactAction> = {};
  for (const name of ENTITY_NAMES) out[name] = defaultRedactAction(name);
  return out;
}

/** A tenant's guard policy as stored in tenants.module_settings and sent in AuthorizeResponse.module_policy. */
export interface TenantGuardPolicy {
  /**
   * Entity actions overriding the module's configured ones; `responses` turns response redaction
   * on/off; `enabled: false` turns the redact module off for the tenant.
   */
  redact?: { enabled?: boolean; entities?: Record<string, RedactAction>; responses?: boolean };
  /** Overrides of the injection module's action and threshold. */
  injection?: { action?: InjectionAction; threshold?: number };
}

/** Keys of module_settings that are guard policy (other keys are left to other modules). */
export const GUARD_POLICY_KEYS: readonly string[] = ["redact", "injection"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Problems with the guard sections of a module_settings object, as "path: message" strings; []
 * when valid. Sections other than redact and injection are not looked at.
 */
export function guardPolicyProblems(settings: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const redact: unknown = settings.redact;
  if (redact !== undefined) {
    if (!isObject(redact)) problems.push("redact: must be an object");
    else {
      for (const k of Object.keys(redact)) {
        if (k !== "enabled" && k !== "entities" && k !== "responses") {
          problems.push(`redact.${k}: unknown key (allowed: enabled, entities, responses)`);
        }
      }
      for (const flag of ["enabled", "responses"]) {
        if (redact[flag] !== undefined && typeof redact[flag] !== "boolean") problems.push(`redact.${flag}: must be true or false`);
      }
      const entities: unknown = redact.entities;
      if (entities !== undefined) {
        if (!isObject(entities)) problems.push("redact.entities: must be an object of entity: action");
        else {
          for (const [name, action] of Object.entries(entities)) {
            if (!ENTITY_NAMES.includes(name)) {
              problems.push(`redact.entities.${name}: unknown entity (known: ${ENTITY_NAMES.join(", ")})`);
            } else if (typeof action !== "string" || !(REDACT_ACTIONS as readonly string[]).includes(action)) {
              problems.push(`redact.entities.${name}: action must be one of ${REDACT_ACTIONS.join(", ")}`);
            }
          }
        }
      }
    }
  }
  const injection: unknown = settings.injection;
  if (injection !== undefined) {
    if (!isObject(injection)) problems.push("injection: must be an object");
    else {
      for (const k of Object.keys(injection)) {
        if (k !== "action" && k !== "threshold") problems.push(`injection.${k}: unknown key (allowed: action, threshold)`);
      }
      if (injection.action !== undefined
        && (typeof injection.action !== "string" || !(INJECTION_ACTIONS as readonly string[]).includes(injection.action))) {
        problems.push(`injection.action: must be one of ${INJECTION_ACTIONS.join(", ")}`);
      }
      const t: unknown = injection.threshold;
      if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > 1)) {
        problems.push("injection.threshold: must be a number in 0..1");
      }
    }
  }
  return problems;
}

/**
 * The compact JSON the auth filter hands to the guard modules (filter state `leash.policy`): only
 * the guard sections, "" when the tenant has none (the modules then use their plugin config).
 * Assumes guardPolicyProblems() found nothing (checked on write).
 */
export function modulePolicyJson(settings: Record<string, unknown> | null | undefined): string {
  if (!isObject(settings)) return "";
  const out: Record<string, unknown> = {};
  for (const key of GUARD_POLICY_KEYS) if (isObject(settings[key])) out[key] = settings[key];
  return Object.keys(out).length === 0 ? "" : JSON.stringify(out);
}
