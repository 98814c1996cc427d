// What the redact module leaves for the audit trail and the ledger (docs/audit-trail.md): its
// guard decision, and — when the tenant's audit is on — the response as it rewrote it. Kept out of
// filter.ts so the scanning path stays as it is; filter.ts calls in at three points.
import { setProperty, setPropertyBytes } from "../sdk/host";
import { publishGuardDecision } from "../sdk/guard-decision";
import { AUDIT_RESPONSE, AUDIT_RESPONSE_BY_REDACT, AUDIT_RESPONSE_TRUNCATED, AUDIT_RESPONSE_MAX } from "../sdk/audit-policy";
import { BoundedBytes } from "../sdk/bounded-bytes";
import { RedactState } from "../detect/redactor";
import { ENTITY_KINDS, EntityKind, entityName } from "../detect/finding";

/** `name=count,...` of the non-zero kinds in `counts`, in EntityKind order: names only, never values. */
function kindCounts(counts: StaticArray<i32>): string {
  let out = "";
  for (let k = 0; k < ENTITY_KINDS; k++) {
    if (counts[k] <= 0) continue;
    if (out.length > 0) out += ",";
    out += entityName(<EntityKind>k) + "=" + counts[k].toString();
  }
  return out;
}

/** `redact:blocked(openai_key=1)`: the kinds that made the module refuse the request. */
export function publishBlocked(state: RedactState): void {
  publishGuardDecision("redact", "redact:blocked(" + kindCounts(state.blocked) + ")");
}

/**
 * `redact:masked(email=2,phone=1)`: every entity replaced so far in the request and its response
 * (masked or hashed). Nothing is published while there is none. Called again when the response
 * adds entities, so the final value covers both directions.
 */
export function publishMasked(state: RedactState): void {
  if (state.total() == 0) return;
  publishGuardDecision("redact", "redact:masked(" + kindCounts(state.found) + ")");
}

/**
 * The response as this module passed it on, for the audit trail, bounded by AUDIT_RESPONSE_MAX.
 * Only created when the tenant's audit is on; published once, when the response ends.
 */
export class ResponseCopy {
  bytes: BoundedBytes = new BoundedBytes(AUDIT_RESPONSE_MAX);
  published: bool = false;

  /**
   * Marks the response as this module's to hand over: from now on the usage module must use what
   * is published here (or nothing), never its own copy taken before the rewrite.
   */
  claim(): void { setProperty(AUDIT_RESPONSE_BY_REDACT, "1"); }

  add(ptr: usize, n: i32): void { this.bytes.add(ptr, n); }

  addBuffer(b: ArrayBuffer): void { this.bytes.addBuffer(b); }

  /** Writes the copy as filter state (once). */
  publish(): void {
    if (this.published) return;
    this.published = true;
    setPropertyBytes(AUDIT_RESPONSE, this.bytes.toBuffer());
    if (this.bytes.truncated) setProperty(AUDIT_RESPONSE_TRUNCATED, "1");
  }
}
