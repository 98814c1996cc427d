// The bodies of an audited request (the tenant's policy has audit.enabled, sdk/audit-policy.ts),
// as the usage module sends them in its report (UsageReport fields 31-34, docs/audit-trail.md).
//
// Request: the body as forwarded to the provider. The usage module is last in the chain, so on the
// request path it sees the body after the redact module rewrote it.
// Response: the body as the client got it. On the response path the usage module runs first, that
// is before the redact module rewrites it: when the redact module claims the response
// (leash.audit.response_by_redact), its rewritten copy (leash.audit.response) is the one used, and
// this module's own copy is dropped — even when the redact module never published (an abandoned
// stream): then the response is left empty and flagged truncated, never taken unredacted.
// A request a guard refused never reaches this module's body callback: its entry holds the
// decision (guard_decisions) and the status, no request body (see docs/audit-trail.md, "Refused
// requests").
import { getProperty } from "../sdk/host";
import { BoundedBytes } from "../sdk/bounded-bytes";
import { AUDIT_RESPONSE, AUDIT_RESPONSE_BY_REDACT, AUDIT_RESPONSE_TRUNCATED } from "../sdk/audit-policy";
import { UsageReport } from "./report-pb";

export class AuditCapture {
  request: BoundedBytes;
  response: BoundedBytes;

  constructor(public max: i32) {
    this.request = new BoundedBytes(max);
    this.response = new BoundedBytes(max);
  }

  /** Puts the entry in `r` (called in onLog, when every module's filter state is readable). */
  fill(r: UsageReport): void {
    r.audit = true;
    r.auditRequestBody = this.request.toBuffer();
    let truncated = this.request.truncated;
    if (getProperty([AUDIT_RESPONSE_BY_REDACT]) != null) {
      const redacted = getProperty([AUDIT_RESPONSE]);
      if (redacted == null) {
        r.auditResponseBody = new ArrayBuffer(0);
        truncated = true;
      } else {
        const b = redacted;
        r.auditResponseBody = b.byteLength > this.max ? b.slice(0, this.max) : b;
        if (b.byteLength > this.max || getProperty([AUDIT_RESPONSE_TRUNCATED]) != null) truncated = true;
      }
    } else {
      r.auditResponseBody = this.response.toBuffer();
      if (this.response.truncated) truncated = true;
    }
    r.auditTruncated = truncated;
  }
}
