// What each guard module did to a request, for the ledger, the audit trail and
// leash_guard_decisions_total (docs/audit-trail.md, "Guard decisions").
//
// A guard publishes one summary as filter state `leash.guard.<module>`, in the form
// `<module>:<decision>(details)` — `redact:masked(email=2)`, `injection:blocked(0.91)` — and
// nothing when it did nothing. The usage module, last in the chain, reads them in onLog and sends
// them joined with ";" (UsageReport.guard_decisions). Filter state is the only channel: every
// module has its own VM. A summary never holds a body or an entity value, only names and counts.
import { getPropertyString, setProperty } from "./host";

export const GUARD_PREFIX: string = "leash.guard.";

/** Guard modules in chain order (the order of the joined summary). */
export const GUARD_MODULES: Array<string> = ["redact", "injection"];

/** The sidecar refuses longer summaries (usage-report.ts MAX_GUARD_DECISIONS_LENGTH). */
export const MAX_GUARD_DECISIONS: i32 = 512;

/** Publishes `module`'s summary for the current request (replacing an earlier one). */
export function publishGuardDecision(module: string, summary: string): void {
  setProperty(GUARD_PREFIX + module, summary);
}

/**
 * The summaries of every guard module on the current stream, joined with ";". A value that is not
 * `<module>:...` for its own module (filter state is writable by any filter) is skipped, and an
 * entry that would pass the sidecar's bound is left out rather than cut mid-entry.
 */
export function readGuardDecisions(): string {
  let out = "";
  for (let i = 0; i < GUARD_MODULES.length; i++) {
    const m = GUARD_MODULES[i];
    const v = getPropertyString([GUARD_PREFIX + m]);
    if (v == null || !v.startsWith(m + ":") || !printable(v)) continue;
    const next = out.length == 0 ? v : out + ";" + v;
    if (next.length > MAX_GUARD_DECISIONS) continue;
    out = next;
  }
  return out;
}

/** Printable ASCII without ';' (the separator): the sidecar refuses control characters. */
function printable(v: string): bool {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c == 0x3b) return false;
  }
  return true;
}
