// Shannon entropy and "does this look random" checks for candidate secret values.

import { lower } from "./secrets-chars";
import { codeAt } from "./text-at";

// One counter per ASCII code plus one shared bucket for everything else. Module-level and reused:
// entropy runs once per candidate value, and allocating per call would churn the GC on hot paths.
const COUNTS: StaticArray<i32> = new StaticArray<i32>(129);

// c * log2(c) for the counts a value can have (values are capped well below this), so entropy
// needs one log2 per call instead of one per distinct character: it runs on every candidate.
const TABLE_MAX: i32 = 1024;
const CLOGC: StaticArray<f64> = cLogC();

function cLogC(): StaticArray<f64> {
  const t = new StaticArray<f64>(TABLE_MAX + 1);
  for (let c = 1; c <= TABLE_MAX; c++) t[c] = <f64>c * Math.log2(<f64>c);
  return t;
}

/** Shannon entropy of text[start..end) in bits per character (0 for an empty range).
 *  H = log2(n) - (1/n) * sum(c * log2(c)) over the character counts c. */
export function shannonEntropy(text: string, start: i32, end: i32): f64 {
  const n = end - start;
  if (n <= 0) return 0;
  for (let i = 0; i < 129; i++) unchecked(COUNTS[i] = 0);
  for (let i = start; i < end; i++) {
    const c = codeAt(text, i);
    const b = c < 128 ? c : 128;
    unchecked(COUNTS[b] = COUNTS[b] + 1);
  }
  let sum: f64 = 0;
  for (let i = 0; i < 129; i++) {
    const k = unchecked(COUNTS[i]);
    if (k == 0) continue;
    sum += k <= TABLE_MAX ? unchecked(CLOGC[k]) : <f64>k * Math.log2(<f64>k);
  }
  return Math.log2(<f64>n) - sum / <f64>n;
}

/**
 * Minimum entropy (bits/char) for a random-looking value of length n: min(0.6 * log2(n), 3.0).
 * Why these numbers: entropy of a short string is capped by log2(n) (all characters distinct), so a
 * fixed threshold would reject every short value. Sampling 20 000 uniformly random strings, the
 * 1st percentile is ~0.64 * log2(n) for hex (the worst common alphabet: 1.91 bits at n=8, 2.66 at
 * n=16, 3.27 at n=32) and higher for base62 and upper-case alphanumerics; the 3.0 cap sits below
 * the 1st percentile of random hex at n >= 32 (3.27). Repetitive fill (aaaa1111 = 1.0,
 * abababab = 1.0) falls well below. Entropy alone cannot tell English identifiers from keys
 * (production_database = 3.68): the callers add structural checks (character classes, prefixes).
 */
export function minEntropy(n: i32): f64 {
  if (n <= 1) return 0;
  const t = 0.6 * Math.log2(<f64>n);
  return t < 3.0 ? t : 3.0;
}

/** Longest stretch of one repeated character in text[start..end) (case-insensitive). */
export function longestRepeat(text: string, start: i32, end: i32): i32 {
  let best = 0;
  let run = 0;
  let prev = -1;
  for (let i = start; i < end; i++) {
    const c = lower(codeAt(text, i));
    run = c == prev ? run + 1 : 1;
    prev = c;
    if (run > best) best = run;
  }
  return best;
}

/** Number of adjacent pairs that repeat or count up by one (aa, ab, 12): keyboard and alphabet fill. */
export function sequentialPairs(text: string, start: i32, end: i32): i32 {
  let k = 0;
  for (let i = start + 1; i < end; i++) {
    const d = lower(codeAt(text, i)) - lower(codeAt(text, i - 1));
    if (d == 0 || d == 1) k++;
  }
  return k;
}

/**
 * True when text[start..end) looks like random key material rather than fill or a placeholder:
 * no character repeated 6+ times in a row (a random base62 key of 48 has ~1e-7 chance of that),
 * fewer than half of its adjacent pairs sequential, and entropy >= minEntropy(length).
 */
export function looksRandom(text: string, start: i32, end: i32): bool {
  const n = end - start;
  if (n <= 0) return false;
  if (longestRepeat(text, start, end) >= 6) return false;
  if (n >= 4 && sequentialPairs(text, start, end) * 2 >= n - 1) return false;
  return shannonEntropy(text, start, end) >= minEntropy(n);
}
