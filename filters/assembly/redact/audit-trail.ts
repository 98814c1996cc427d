// What the redact module leaves for the audit trail and the ledger (docs/audit-trail.md): its
// guard decision, and — when the tenant's audit is on — the response as it rewrote it. Kept out of
// filter.ts so the scanning path stays as it is; filter.ts calls in at three points.
import { setProperty, setPropertyBytes } from "../sdk/host";
import { publishGuardDecision } from "../sdk/guard-decision";
import { AUDIT_RESPONSE, AUDIT_RESPONSE_BY_REDACT, AUDIT_RESPONSE_TRUNCATED, AUDIT_RESPONSE_MAX } from "../sdk/audit-policy";
import { BoundedBytes } from "../sdk/bounded-bytes";
import { RedactState } from "../detect/redactor";
import { ENTITY_KINDS, EntityKind, entityName } from "../detect/finding";

// A summary is assembled in one reused buffer and copied out once: it is published on every request
// with an entity, and building it by concatenation allocated a dozen strings. Bound: "redact:" and
// a decision word, then at most ENTITY_KINDS entries of a name (under 24 characters), "=", up to
// 10 digits and ",", then ")".
const SUMMARY_MAX: i32 = 64 + ENTITY_KINDS * 36;
const summary: StaticArray<u16> = new StaticArray<u16>(SUMMARY_MAX);
let used: i32 = 0;

function putUnit(c: i32): void { summary[used++] = <u16>c; }

function putString(s: string): void {
  for (let i = 0; i < s.length; i++) putUnit(<i32>s.charCodeAt(i));
}

/** `redact:<decision>(name=count,...)` over the non-zero kinds in `counts`, in EntityKind order: names only, never values. */
function summaryOf(decision: string, counts: StaticArray<i32>): string {
  used = 0;
  putString("redact:");
  putString(decision);
  putUnit(0x28); // (
  let first = true;
  for (let k = 0; k < ENTITY_KINDS; k++) {
    const n = counts[k];
    if (n <= 0) continue;
    if (!first) putUnit(0x2c); // ,
    first = false;
    putString(entityName(<EntityKind>k));
    putUnit(0x3d); // =
    putString(n.toString());
  }
  putUnit(0x29); // )
  return String.UTF16.decodeUnsafe(changetype<usize>(summary), <usize>used << 1);
}

/** `redact:blocked(openai_key=1)`: the kinds that made the module refuse the request. */
export function publishBlocked(state: RedactState): void {
  publishGuardDecision("redact", summaryOf("blocked", state.blocked));
}

/**
 * `redact:masked(email=2,phone=1)`: every entity replaced so far in the request and its response
 * (masked or hashed). Nothing is published while there is none. Called again when the response
 * adds entities, so the final value covers both directions.
 */
export function publishMasked(state: RedactState): void {
  if (state.total() == 0) return;
  publishGuardDecision("redact", summaryOf("masked", state.found));
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
