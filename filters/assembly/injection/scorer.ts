// Scores a token stream (tokens.ts) in [0, 1].
//
// 1. Every pattern (patterns.ts) is tried at every entry that carries its first concept. Each
//    pattern counts once, with its weight, and of the patterns that start on the same word only
//    the strongest counts ("ignore all previous instructions" is one phrase, not two).
// 2. Structural evidence counts as three more signals of the hidden-instructions family: words
//    addressed to the model inside an HTML comment, a run of Unicode tag characters (invisible
//    ASCII), invisible characters inside words.
// 3. Distinct signals combine as independent evidence (noisy-OR): score = 1 - Π(1 - weight). One
//    strong phrase decides alone; two weaker, different ones ("Note to the AI:" and "when
//    summarizing, also…") add up; repeating one phrase a thousand times does not.
//
// A match whose first word is inside quotation marks, in a text that talks about injection
// (META: "prompt injection", "example", "detect"…), counts half: "how do I detect 'ignore all
// previous instructions'?" is a question about attacks. An attacker can quote too; they then need
// a second signal to pass the default threshold, and the README lists this as a known limit.
//
// Cost: each entry is tried against the patterns whose first slot it matches, and each try looks
// at most (sum of the pattern's gaps + slots) entries ahead, so the work is linear in the prompt.
import { Tokens, IN_QUOTE, IN_COMMENT } from "./tokens";
import { Pattern, patterns, patternStarts, Family, FAMILIES, FAMILY_NAMES } from "./patterns";
import { EOS, NEG, REPORTED, META, AI, IGNORE, INSTR, YOU, REVEAL } from "./concepts";

export const QUOTED_DISCUSSION_FACTOR: f64 = 0.5;
export const COMMENT_WEIGHT: f64 = 0.55;
export const TAG_RUN_WEIGHT: f64 = 0.6;
export const TAG_RUN_MIN: i32 = 8;
export const INVISIBLE_WEIGHT: f64 = 0.3;
export const INVISIBLE_MIN: i32 = 3;

export class Score {
  score: f64 = 0;
  /** Strongest signal per family (index = Family). */
  family: StaticArray<f64> = new StaticArray<f64>(FAMILIES);
  /** Name of the pattern or signal behind each family's value ("" when none). */
  reason: StaticArray<string> = new StaticArray<string>(FAMILIES);
  /** Weight each signal counted with (patterns first, then the structural signals). */
  signal: StaticArray<f64>;

  constructor(signals: i32) {
    this.signal = new StaticArray<f64>(signals);
    for (let f = 0; f < FAMILIES; f++) this.reason[f] = "";
  }

  note(index: i32, f: Family, weight: f64, reason: string): void {
    if (weight > unchecked(this.signal[index])) unchecked(this.signal[index] = weight);
    if (weight > unchecked(this.family[<i32>f])) {
      unchecked(this.family[<i32>f] = weight);
      unchecked(this.reason[<i32>f] = reason);
    }
  }

  /** "override:ignore_prior_instructions,hidden:note_to_ai" (each family's strongest), for logs. */
  reasons(): string {
    let out = "";
    for (let f = 0; f < FAMILIES; f++) {
      if (this.family[f] == 0) continue;
      if (out.length > 0) out += ",";
      out += FAMILY_NAMES[f] + ":" + this.reason[f];
    }
    return out;
  }
}

export function scoreTokens(t: Tokens): Score {
  const list = patterns();
  const starts = patternStarts();
  const words = starts.words;
  const n = list.length;
  const s = new Score(n + 3);
  // Read once: the loops below would otherwise go through Tokens' getter and fields per entry.
  const count = t.n;
  const mask = t.mask;
  const flags = t.flags;
  let meta = false;
  for (let i = 0; i < count; i++) if ((unchecked(mask[i]) & META) != 0) { meta = true; break; }

  for (let i = 0; i < count; i++) {
    const m = unchecked(mask[i]);
    // Patterns that start on the same word describe the same phrase: only the strongest counts.
    let best = -1;
    let bestWeight: f64 = 0;
    const hits = m & starts.any;
    // The patterns that start with one of this word's concepts, in table order (ties go to the
    // first): the union of each concept's set, read one u64 of the pattern set at a time.
    for (let w = 0; hits != 0 && w < words; w++) {
      let cand: u64 = 0;
      for (let c = hits; c != 0; c &= c - 1) cand |= unchecked(starts.bits[<i32>ctz(c) * words + w]);
      for (; cand != 0; cand &= cand - 1) {
        const p = (w << 6) + <i32>ctz(cand);
        const pat = unchecked(list[p]);
        if (pat.weight <= bestWeight || unchecked(s.signal[p]) >= pat.weight) continue;
        if (pat.negatable && negatedBefore(t, i)) continue;
        if (!matchFrom(t, pat, 1, i)) continue;
        best = p;
        bestWeight = pat.weight;
      }
    }
    if (best >= 0) {
      const pat = unchecked(list[best]);
      let w = bestWeight;
      if (meta && (unchecked(flags[i]) & IN_QUOTE) != 0) w *= QUOTED_DISCUSSION_FACTOR;
      s.note(best, pat.family, w, pat.name);
    }
    if ((unchecked(flags[i]) & IN_COMMENT) != 0 && (m & (AI | IGNORE | INSTR | YOU | REVEAL)) != 0) {
      s.note(n, Family.Hidden, COMMENT_WEIGHT, "html_comment");
    }
  }
  if (t.longestTagRun >= TAG_RUN_MIN) s.note(n + 1, Family.Hidden, TAG_RUN_WEIGHT, "tag_characters");
  if (t.invisibleInWords >= INVISIBLE_MIN) s.note(n + 2, Family.Hidden, INVISIBLE_WEIGHT, "invisible_characters");

  let keep: f64 = 1;
  for (let k = 0; k < s.signal.length; k++) keep *= 1 - unchecked(s.signal[k]);
  s.score = 1 - keep;
  return s;
}

/** Whether slots k.. of `p` match after entry `prev` (tries every candidate within each gap). */
function matchFrom(t: Tokens, p: Pattern, k: i32, prev: i32): bool {
  if (k >= p.slots.length) return true;
  const want = unchecked(p.slots[k]);
  const limit = unchecked(t.pos[prev]) + unchecked(p.gaps[k]) + 1;
  const count = t.n;
  for (let j = prev + 1; j < count; j++) {
    if (unchecked(t.pos[j]) > limit) return false;
    const m = unchecked(t.mask[j]);
    if ((m & want) != 0 && matchFrom(t, p, k + 1, j)) return true;
    if ((m & p.forbid) != 0) return false;
  }
  return false;
}

/** A negation or a reported request within the 3 words before entry `i`, in the same sentence. */
function negatedBefore(t: Tokens, i: i32): bool {
  const from = unchecked(t.pos[i]) - 3;
  for (let j = i - 1; j >= 0; j--) {
    if (unchecked(t.pos[j]) < from) return false;
    const m = unchecked(t.mask[j]);
    if ((m & EOS) != 0) return false;
    if ((m & (NEG | REPORTED)) != 0) return true;
  }
  return false;
}
