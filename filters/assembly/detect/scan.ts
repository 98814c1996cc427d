// All detectors behind one call: PII (pii.ts) and secrets (secrets.ts), with overlaps resolved so
// the redactor gets sorted, disjoint spans.
import { EntityKind, Finding, isSecret } from "./finding";
import { findPii, piiHoldStart, PII_KINDS } from "./pii";
import { findSecrets, secretHoldStart } from "./secrets";

/**
 * Tie-break for same-length overlaps: the kind whose validator says more wins (a checksummed card
 * over a phone reading of the same digits; a named key format over the generic secret rule).
 */
function specificity(kind: EntityKind): i32 {
  switch (kind) {
    case EntityKind.Card: return 6;
    case EntityKind.Iban: return 5;
    case EntityKind.Ssn: return 4;
    case EntityKind.Ipv6: return 3;
    case EntityKind.Ipv4: return 2;
    case EntityKind.Email: return 1;
    case EntityKind.Phone: return 0;
  }
  return 100 - <i32>kind; // secrets: EntityKind lists the specific formats before the generic rule
}

/** Which of two overlapping findings is kept: a secret over PII, then the longer, the more specific, the earlier. */
function beats(a: Finding, b: Finding): bool {
  const sa = isSecret(a.kind);
  const sb = isSecret(b.kind);
  if (sa != sb) return sa;
  const la = a.end - a.start;
  const lb = b.end - b.start;
  if (la != lb) return la > lb;
  const pa = specificity(a.kind);
  const pb = specificity(b.kind);
  if (pa != pb) return pa > pb;
  return a.start < b.start;
}

function byStart(a: Finding, b: Finding): i32 {
  if (a.start != b.start) return a.start - b.start;
  if (a.end != b.end) return b.end - a.end;
  return <i32>a.kind - <i32>b.kind;
}

/**
 * Sorts `found` by start and drops overlaps in place (deterministic: see beats()), so that the
 * result is sorted and disjoint.
 */
export function resolveOverlaps(found: Array<Finding>): void {
  if (found.length < 2) return;
  found.sort(byStart);
  let kept = 0;
  for (let i = 0; i < found.length; i++) {
    const f = found[i];
    if (kept > 0 && f.start < found[kept - 1].end) {
      // Replacing the last kept span cannot create an overlap further back: f starts after it.
      if (beats(f, found[kept - 1])) found[kept - 1] = f;
      continue;
    }
    found[kept++] = f;
  }
  found.length = kept;
}

/** Clears `out`, then fills it with the entities of `kinds` in `text`, sorted and disjoint. */
export function findEntities(text: string, kinds: u32, out: Array<Finding>): void {
  out.length = 0;
  if ((kinds & PII_KINDS) != 0) findPii(text, kinds, out);
  if ((kinds & ~PII_KINDS) != 0) findSecrets(text, kinds, out);
  resolveOverlaps(out);
}

/** Earliest index at which an entity of `kinds` may still be in progress at the end of `text`. */
export function holdStart(text: string, kinds: u32): i32 {
  let hold = (kinds & PII_KINDS) != 0 ? piiHoldStart(text, kinds) : text.length;
  if ((kinds & ~PII_KINDS) != 0) {
    const s = secretHoldStart(text);
    if (s < hold) hold = s;
  }
  return hold;
}
