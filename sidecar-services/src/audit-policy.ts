// A tenant's audit-trail policy: the "audit" section of tenants.module_settings,
//   {"enabled": true, "retention_days": 90}
// enabled: the gateway records the tenant's request and response bodies (after redaction) in the
// audit trail; retention_days: how long its entries are kept (the retention job deletes older ones).
// The section is optional; without it nothing is recorded and DEFAULT_AUDIT_RETENTION_DAYS applies
// to entries left from an earlier policy.

export interface AuditPolicy {
  enabled: boolean;
  retentionDays: number;
}

export const DEFAULT_AUDIT_RETENTION_DAYS = 30;
/** Ten years: beyond it, a retention is a typo. */
export const MAX_AUDIT_RETENTION_DAYS = 3650;

/** Problems with an "audit" section, for the admin API's 400 (empty = valid). */
export function auditSettingsProblems(section: unknown): string[] {
  if (section === undefined) return [];
  if (typeof section !== "object" || section === null || Array.isArray(section)) return ["audit: must be an object"];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(section)) {
    if (k === "enabled") {
      if (typeof v !== "boolean") problems.push("audit.enabled: must be true or false");
    } else if (k === "retention_days") {
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_AUDIT_RETENTION_DAYS) {
        problems.push(`audit.retention_days: must be an integer in 1..${MAX_AUDIT_RETENTION_DAYS}`);
      }
    } else problems.push(`audit.${k}: unknown field (expected enabled, retention_days)`);
  }
  return problems;
}

/** The policy in a tenant's module_settings (defaults for what is absent or invalid). */
export function auditPolicyOf(moduleSettings: Record<string, unknown> | null | undefined): AuditPolicy {
  const s = moduleSettings?.audit as { enabled?: unknown; retention_days?: unknown } | undefined;
  const days = s?.retention_days;
  return {
    enabled: s?.enabled === true,
    retentionDays: Number.isInteger(days) && (days as number) >= 1 && (days as number) <= MAX_AUDIT_RETENTION_DAYS ? (days as number) : DEFAULT_AUDIT_RETENTION_DAYS,
  };
}

/**
 * `guardPolicy` (the compact module_policy JSON, "" when none) with `"audit":{"enabled":true}`
 * added when the tenant's audit is on: the filters read audit.enabled from filter state
 * leash.policy (filters/assembly/sdk/audit-policy.ts). Nothing is added when it is off, so a
 * tenant without audit keeps the exact policy string it had (the guards cache by string).
 * retention_days stays in the sidecar: the data plane has no use for it.
 */
export function withAuditPolicy(guardPolicy: string, moduleSettings: Record<string, unknown> | null | undefined): string {
  if (!auditPolicyOf(moduleSettings).enabled) return guardPolicy;
  const out = guardPolicy === "" ? {} : JSON.parse(guardPolicy) as Record<string, unknown>;
  out.audit = { enabled: true };
  return JSON.stringify(out);
}
