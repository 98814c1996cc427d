// Secret detectors: findSecrets (spans of keys, tokens, private keys and passwords in a string) and
// secretHoldStart (how much of a streamed text's tail must be held back because a secret may be in
// progress there). Pure functions over AssemblyScript strings: no host calls, no exceptions, every
// scanner linear in the text length (there is no regex engine; each rule is a hand-written scanner).
// Rule shapes: README.md, section "Secrets".

import { EntityKind, Finding, kindBit } from "./finding";
import { codeAt, unitAt } from "./text-at";
import { isTokenChar } from "./secrets-chars";
import { TokenMatch, matchToken, tokenMayGrow, MAX_TOKEN_RUN } from "./secrets-tokens";
import { matchJwt, jwtHoldStart } from "./secrets-jwt";
import { scanPem, pemHoldStart } from "./secrets-pem";
import { scanConnectionPasswords, scanSlackWebhooks, urlHoldStart } from "./secrets-url";
import { genericAt, genericHoldStart } from "./secrets-generic";

const SECRET_KINDS: u32 = kindBit(EntityKind.OpenAiKey) | kindBit(EntityKind.AnthropicKey) |
  kindBit(EntityKind.AwsAccessKey) | kindBit(EntityKind.GithubToken) | kindBit(EntityKind.StripeKey) |
  kindBit(EntityKind.SlackToken) | kindBit(EntityKind.GoogleApiKey) | kindBit(EntityKind.Jwt) |
  kindBit(EntityKind.PrivateKey) | kindBit(EntityKind.ConnectionPassword) | kindBit(EntityKind.GenericSecret);

/**
 * Appends to out, in text order and without overlaps, the secrets of the kinds whose bit
 * (1 << kind) is set in kinds. Every rule runs whatever kinds says, so a span that a disabled
 * specific rule recognizes (an OpenAI key after "api_key=") is not reported as generic_secret
 * instead: turning a kind off really turns it off.
 */
export function findSecrets(text: string, kinds: u32, out: Array<Finding>): void {
  if ((kinds & SECRET_KINDS) == 0 || text.length == 0) return;
  all.length = 0;
  // One pass over the text reads its token runs (prefixed keys and JWTs start one), runs the
  // keyword rule at each ':' and '=', and notes whether the literals that the PEM, URL and webhook
  // rules search for can occur at all ("-----BEGIN " needs "--", "://" needs ":/",
  // "hooks.slack.com/" needs ".sl"): most prose has none, and each search is a pass of its own.
  const n = text.length;
  tokens.length = 0;
  generic.length = 0;
  let dashes = false;
  let scheme = false;
  let hook = false;
  let next = 0;
  let runStart = -1;
  // Runs that start before this are skipped: they lie inside a JWT already found.
  let runsFrom = 0;
  const data = changetype<usize>(text);
  for (let i = 0; i < n; i++) {
    const c = unitAt(data, i); // safe: i < n
    if (isTokenChar(c)) {
      if (runStart < 0) runStart = i;
      else if (c == 0x2d && unitAt(data, i - 1) == 0x2d) dashes = true; // safe: runStart < i
      continue;
    }
    if (runStart >= 0) {
      if (runStart >= runsFrom && mayBeToken(data, runStart, i)) runsFrom = tokenRun(text, runStart, i, tokens);
      runStart = -1;
    }
    // Every other character this pass looks for is at most '=': one compare settles the rest.
    if (c > 0x3d) continue;
    if (c == 0x3a || c == 0x3d) {
      if (c == 0x3a && codeAt(text, i + 1) == 0x2f) scheme = true;
      if (i >= next) next = genericAt(text, i, generic);
    } else if (c == 0x2e) {
      if (codeAt(text, i + 1) == 0x73 && codeAt(text, i + 2) == 0x6c) hook = true;
    }
  }
  if (runStart >= 0 && runStart >= runsFrom && mayBeToken(data, runStart, n)) tokenRun(text, runStart, n, tokens);
  if (dashes) scanPem(text, all);
  for (let i = 0; i < tokens.length; i++) all.push(tokens[i]);
  if (hook) scanSlackWebhooks(text, all);
  if (scheme) scanConnectionPasswords(text, all);
  // In the order the rules ran before they shared this pass: sort() then meets the same ties.
  for (let i = 0; i < generic.length; i++) all.push(generic[i]);
  all.sort(byStartThenPriority);
  let lastEnd = 0;
  for (let i = 0; i < all.length; i++) {
    const f = all[i];
    if (f.start < lastEnd) continue;
    lastEnd = f.end;
    if ((kinds & kindBit(f.kind)) != 0) out.push(f);
  }
}

// Specific key formats say more than "a password in a URL" (https://x:ghs_…@github.com is a
// GitHub token), which says more than "a random value after a keyword".
function priority(kind: EntityKind): i32 {
  if (kind == EntityKind.GenericSecret) return 2;
  return kind == EntityKind.ConnectionPassword ? 1 : 0;
}

// Earlier start first; on the same start, the more specific rule, then the longer span.
function byStartThenPriority(a: Finding, b: Finding): i32 {
  if (a.start != b.start) return a.start - b.start;
  const pa = priority(a.kind);
  const pb = priority(b.kind);
  if (pa != pb) return pa - pb;
  return b.end - a.end;
}

/** The first two characters can begin a key prefix (sk rk AK AS AB AC AI gh gi xo xa) or a JWT (ey). */
@inline function mayStartToken(c0: i32, c1: i32): bool {
  switch (c0) {
    case 0x73: case 0x72: return c1 == 0x6b;                                               // s r: k
    case 0x41: return c1 == 0x4b || c1 == 0x53 || c1 == 0x42 || c1 == 0x43 || c1 == 0x49; // A: K S B C I
    case 0x67: return c1 == 0x68 || c1 == 0x69;                                            // g: h i
    case 0x78: return c1 == 0x6f || c1 == 0x61;                                            // x: o a
    case 0x65: return c1 == 0x79;                                                          // e: y
    default: return false;
  }
}

function isEscapeLetter(c: i32): bool { return c == 0x6e || c == 0x72 || c == 0x74 || c == 0x62 || c == 0x66; }

const M: TokenMatch = new TokenMatch();
/** Every rule's findings of the current text, before overlaps are dropped (reused: findSecrets runs on every string). */
const all: Array<Finding> = new Array<Finding>();
/** The token rules' and the keyword rule's findings of the current text (reused). */
const tokens: Array<Finding> = new Array<Finding>();
const generic: Array<Finding> = new Array<Finding>();

/** Where a prefixed key may start inside the run text[s..e): the run start, past leading - and _
 *  (markdown _emphasis_), or past the letter of a raw JSON escape ("\nsk-…" seen undecoded). */
function tokenStart(text: string, s: i32, e: i32, escaped: bool): i32 {
  let st = s;
  if (escaped) st++;
  while (st < e && (codeAt(text, st) == 0x5f || codeAt(text, st) == 0x2d)) st++;
  return st;
}

function runIsEscaped(text: string, s: i32): bool {
  return s > 0 && codeAt(text, s - 1) == 0x5c && isEscapeLetter(codeAt(text, s));
}

/**
 * Whether the token run [s, e) of the string at `data` can hold a prefixed key or a JWT: at least
 * four characters, and a first two that can begin one, or a leading '_'/'-' (markdown emphasis),
 * or a backslash before it (an undecoded JSON escape). Settles almost every run of ordinary text.
 */
@inline function mayBeToken(data: usize, s: i32, e: i32): bool {
  if (e - s < 4) return false;
  // Safe: s + 1 < e, and s - 1 is read only when s > 0.
  const c0 = unitAt(data, s);
  return c0 == 0x5f || c0 == 0x2d || mayStartToken(c0, unitAt(data, s + 1)) || (s > 0 && unitAt(data, s - 1) == 0x5c);
}

/**
 * Prefixed keys and JWTs in the token run text[s..e) (maximal: findSecrets reads each run once,
 * so the scan is linear). Returns where the next run may start: past a JWT found here (it spans
 * several runs joined by dots, and ends where a run ends), else e.
 */
function tokenRun(text: string, s: i32, e: i32, out: Array<Finding>): i32 {
  const tries = runIsEscaped(text, s) ? 2 : 1;
  for (let t = 0; t < tries; t++) {
    const st = tokenStart(text, s, e, t == 1);
    // Two compares settle almost every run of ordinary text.
    if (st + 1 >= e || !mayStartToken(codeAt(text, st), codeAt(text, st + 1))) continue;
    if (matchToken(text, st, e, M)) { out.push(new Finding(M.kind, st, M.end)); return e; }
    const j = matchJwt(text, st, e);
    if (j > 0) { out.push(new Finding(EntityKind.Jwt, st, j)); return j; }
  }
  return e;
}

/**
 * For streaming: the earliest index i such that a secret may be in progress in text[i..] (its
 * start seen, and more characters could make it match or change where it ends); text.length when
 * none. Ordinary prose gives text.length or the start of its last word (a word that may still grow
 * into a key prefix, a keyword or a URL scheme). Bounded except for a private key block whose END
 * has not arrived: the caller caps how much it holds.
 */
export function secretHoldStart(text: string): i32 {
  const n = text.length;
  let hold = tokenHoldStart(text);
  const j = jwtHoldStart(text);
  if (j < hold) hold = j;
  const p = pemHoldStart(text);
  if (p < hold) hold = p;
  const u = urlHoldStart(text);
  if (u < hold) hold = u;
  const g = genericHoldStart(text);
  if (g < hold) hold = g;
  return hold < n ? hold : n;
}

/** The last run, if a prefixed key may still be forming in it. */
function tokenHoldStart(text: string): i32 {
  const n = text.length;
  let s = n;
  while (s > 0 && n - s <= MAX_TOKEN_RUN + 2 && isTokenChar(codeAt(text, s - 1))) s--;
  if (s == n || n - s > MAX_TOKEN_RUN + 2) return n;
  const tries = runIsEscaped(text, s) ? 2 : 1;
  for (let t = 0; t < tries; t++) {
    const st = tokenStart(text, s, n, t == 1);
    if (st < n && tokenMayGrow(text, st, n)) return s;
  }
  return n;
}
