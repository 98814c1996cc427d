// Turns findings into redacted text under a per-kind policy, and keeps the per-request state:
// placeholder numbering shared by every string of one request or stream (the same value gets the
// same [EMAIL_1] wherever it appears, so the model can still tell two addresses apart) and the
// counts per kind that drive metrics and block decisions. The value itself is never reported.
import { ALL_KINDS, EntityKind, ENTITY_KINDS, Finding, entityLabel, isSecret, kindBit } from "./finding";
import { findEntities } from "./scan";
import { hmacSha256, toHex, utf8 } from "./sha256";

export enum Action {
  /** Leave the value (the kind is not even detected). */
  Allow = 0,
  /** Replace with a numbered typed placeholder: [EMAIL_1]. */
  Mask = 1,
  /** Replace with a keyed hash: [EMAIL:<12 hex of HMAC-SHA256(salt, value)>]. */
  Hash = 2,
  /** Count it as blocking (the caller refuses the request); the text gets a placeholder as for Mask. */
  Block = 3,
}

/** Hex characters of the hash placeholder (48 bits: enough to correlate, too few to brute-force back a value's context). */
export const HASH_HEX_CHARS: i32 = 12;

export class RedactPolicy {
  actions: StaticArray<u8> = new StaticArray<u8>(ENTITY_KINDS);
  salt: StaticArray<u8> = new StaticArray<u8>(0);

  /** The default policy: PII masked, secrets blocked. */
  static defaults(): RedactPolicy {
    const p = new RedactPolicy();
    for (let k = 0; k < ENTITY_KINDS; k++) p.actions[k] = isSecret(<EntityKind>k) ? <u8>Action.Block : <u8>Action.Mask;
    return p;
  }

  set(kind: EntityKind, action: Action): void { this.actions[<i32>kind] = <u8>action; }
  get(kind: EntityKind): Action { return <Action>this.actions[<i32>kind]; }
  setSalt(salt: string): void { this.salt = utf8(salt); }

  /** The kinds to detect: every kind whose action is not Allow. */
  kinds(): u32 {
    let set: u32 = 0;
    for (let k = 0; k < ENTITY_KINDS; k++) if (this.actions[k] != <u8>Action.Allow) set |= kindBit(<EntityKind>k);
    return set;
  }
}

export class RedactState {
  /** Entities redacted, per kind (all actions). */
  found: StaticArray<i32> = new StaticArray<i32>(ENTITY_KINDS);
  /** Entities whose action is Block, per kind. */
  blocked: StaticArray<i32> = new StaticArray<i32>(ENTITY_KINDS);
  private next: StaticArray<i32> = new StaticArray<i32>(ENTITY_KINDS);
  // One map per kind, made on first use: keyed by the value alone, so no "kind + value" string is
  // built per entity, and a request without entities allocates none.
  private numbers: StaticArray<Map<string, i32> | null> = new StaticArray<Map<string, i32> | null>(ENTITY_KINDS);

  /** The placeholder number of `value` for `kind`: 1, 2, … in order of first appearance. */
  numberFor(kind: EntityKind, value: string): i32 {
    let map = this.numbers[<i32>kind];
    if (map == null) {
      map = new Map<string, i32>();
      this.numbers[<i32>kind] = map;
    }
    if (map.has(value)) return map.get(value);
    const n = ++this.next[<i32>kind];
    map.set(value, n);
    return n;
  }

  /** Kinds seen with action Block (bit set); non-zero means the request must be refused. */
  blockedKinds(): u32 {
    let set: u32 = 0;
    for (let k = 0; k < ENTITY_KINDS; k++) if (this.blocked[k] > 0) set |= kindBit(<EntityKind>k);
    return set;
  }

  /** Kinds seen at all (bit set). */
  foundKinds(): u32 {
    let set: u32 = 0;
    for (let k = 0; k < ENTITY_KINDS; k++) if (this.found[k] > 0) set |= kindBit(<EntityKind>k);
    return set;
  }

  /** Entities redacted, all kinds. */
  total(): i32 {
    let n = 0;
    for (let k = 0; k < ENTITY_KINDS; k++) n += this.found[k];
    return n;
  }
}

// The redacted text is assembled here (UTF-16 units, reused, grown as needed) and copied out once,
// instead of a substring per piece, a string per placeholder and a join: a long prompt can hold
// hundreds of entities.
let units: StaticArray<u16> = new StaticArray<u16>(1024);
let used: i32 = 0;

function room(extra: i32): void {
  const need = used + extra;
  if (need <= units.length) return;
  let cap = units.length * 2;
  while (cap < need) cap *= 2;
  const next = new StaticArray<u16>(cap);
  // Safe: `used` units are within the old buffer and the new one is larger.
  memory.copy(changetype<usize>(next), changetype<usize>(units), <usize>used << 1);
  units = next;
}

/** Appends text[s, e). */
function appendRange(text: string, s: i32, e: i32): void {
  if (e <= s) return;
  room(e - s);
  // Safe: [s, e) lies within text (findings and bounds come from it) and room() made space.
  memory.copy(changetype<usize>(units) + (<usize>used << 1), changetype<usize>(text) + (<usize>s << 1), <usize>(e - s) << 1);
  used += e - s;
}

function appendString(s: string): void { appendRange(s, 0, s.length); }

function appendUnit(c: i32): void {
  room(1);
  unchecked(units[used++] = <u16>c);
}

/** Appends n (>= 1) in decimal. */
function appendNumber(n: i32): void {
  let digits = 1;
  for (let v = n / 10; v > 0; v /= 10) digits++;
  room(digits);
  let v = n;
  for (let k = digits - 1; k >= 0; k--) {
    unchecked(units[used + k] = <u16>(0x30 + v % 10));
    v /= 10;
  }
  used += digits;
}

/** Appends the replacement of text[start, end), a finding of `kind` (records it in `state`). */
function appendReplacement(kind: EntityKind, text: string, start: i32, end: i32, policy: RedactPolicy, state: RedactState): void {
  const action = policy.get(kind);
  state.found[<i32>kind]++;
  if (action == Action.Block) state.blocked[<i32>kind]++;
  const value = text.substring(start, end);
  appendUnit(0x5b); // [
  appendString(entityLabel(kind));
  if (action == Action.Hash) {
    appendUnit(0x3a); // :
    appendString(toHex(hmacSha256(policy.salt, utf8(value)), HASH_HEX_CHARS / 2));
  } else {
    appendUnit(0x5f); // _
    appendNumber(state.numberFor(kind, value));
  }
  appendUnit(0x5d); // ]
}

/**
 * Redacts text[from, to) given `findings` (sorted, disjoint, as findEntities returns them; those
 * outside [from, to) or with action Allow are skipped).
 */
export function applyRedactions(text: string, from: i32, to: i32, findings: Array<Finding>, policy: RedactPolicy, state: RedactState): string {
  used = 0;
  let pos = from;
  let replaced = false;
  for (let i = 0; i < findings.length; i++) {
    const f = findings[i];
    if (f.start < pos || f.end > to || policy.get(f.kind) == Action.Allow) continue;
    appendRange(text, pos, f.start);
    appendReplacement(f.kind, text, f.start, f.end, policy, state);
    pos = f.end;
    replaced = true;
  }
  if (!replaced) return from == 0 && to == text.length ? text : text.substring(from, to);
  appendRange(text, pos, to);
  return String.UTF16.decodeUnsafe(changetype<usize>(units), <usize>used << 1);
}

const scratch: Array<Finding> = new Array<Finding>();

/**
 * Detects the policy's kinds in `text` and returns it redacted; counts and numbering go to `state`.
 * `only` narrows the kinds looked for to those a prefilter (prefilter.ts) left possible.
 */
export function redactText(text: string, policy: RedactPolicy, state: RedactState, only: u32 = ALL_KINDS): string {
  findEntities(text, policy.kinds() & only, scratch);
  return applyRedactions(text, 0, text.length, scratch, policy, state);
}
