// Streaming redaction: text arrives in chunks (SSE deltas) and an entity may be split across them.
// Each push() releases, redacted, everything before the earliest point where an entity may still
// be in progress (scan.holdStart: a trailing word, digit run, hex/colon run, IBAN start or secret
// prefix) and holds the rest. Released text is final: the held tail is rescanned with the next
// chunk, and some released characters are kept as context because the detectors look back a
// little (boundary checks, the keyword before a solid SSN).
import { Finding } from "./finding";
import { findEntities, holdStart } from "./scan";
import { RedactPolicy, RedactState, applyRedactions } from "./redactor";
import { SSN_CONTEXT_WINDOW } from "./ssn";

/** Default bound on held text: past it the held text is scanned and released as it is. */
export const DEFAULT_HOLD_CAP: i32 = 4096;
/**
 * Released characters kept for the detectors' look-behind: leftBoundary reads two, the solid-SSN
 * rule looks for its keyword ("social security", 15 characters, and the character before it) up to
 * SSN_CONTEXT_WINDOW characters back.
 */
const CONTEXT: i32 = SSN_CONTEXT_WINDOW + 24;

export class StreamRedactor {
  private held: string = "";
  private context: string = "";
  private found: Array<Finding> = new Array<Finding>();

  /**
   * `state` carries placeholder numbering and counts (share it with the rest of the request).
   * `cap` bounds the held text: an entity longer than the cap is still redacted when it lies whole
   * inside the released text, but one still in progress when the cap is hit is released unfinished
   * (its start redacted only if it already matched) — the price of bounded memory and latency.
   */
  constructor(public policy: RedactPolicy, public state: RedactState, public cap: i32 = DEFAULT_HOLD_CAP) {}

  /** Characters held back now. */
  get pending(): i32 { return this.held.length; }

  /** Adds `chunk`; returns the redacted text that is safe to release now (possibly ""). */
  push(chunk: string): string {
    return this.release(this.context + this.held + chunk, false);
  }

  /** Releases everything still held (end of stream), redacted. */
  finish(): string {
    const out = this.release(this.context + this.held, true);
    this.context = "";
    return out;
  }

  private release(text: string, all: bool): string {
    const base = this.context.length;
    const kinds = this.policy.kinds();
    let cut = all ? text.length : holdStart(text, kinds);
    if (cut < base) cut = base;
    if (text.length - cut > this.cap) cut = text.length;
    const found = this.found;
    findEntities(text, kinds, found);
    for (let i = found.length - 1; i >= 0; i--) {
      const f = found[i];
      // Defensive: never cut through an entity (the hold rule should already prevent it).
      if (f.start < cut && f.end > cut && f.start >= base) cut = f.start;
      // Only after a cap release: the rest of an entity whose start went out unredacted.
      if (f.start < base && f.end > base) found[i] = new Finding(f.kind, base, f.end);
    }
    const out = cut > base ? applyRedactions(text, base, cut, found, this.policy, this.state) : "";
    const ctxStart = cut - CONTEXT > 0 ? cut - CONTEXT : 0;
    this.context = text.substring(ctxStart, cut);
    this.held = text.substring(cut);
    return out;
  }
}
