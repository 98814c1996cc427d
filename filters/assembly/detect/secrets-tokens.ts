// Prefixed keys: a literal prefix followed by a body of a known alphabet and length, forming a whole
// "run" of [A-Za-z0-9_-] (see isTokenChar). Facts on formats: provider docs and gitleaks' public rules.

import { EntityKind } from "./finding";
import { codeAt } from "./text-at";
import { isAlnum, isDigit, isUpper, isTokenChar, hasAt, isPrefixOf } from "./secrets-chars";
import { looksRandom } from "./entropy";
import { hasPlaceholderMarker } from "./secrets-placeholder";

export enum Alpha { Alnum, UpperAlnum, Token, Word, AlnumDash }

export function inAlpha(c: i32, a: Alpha): bool {
  switch (a) {
    case Alpha.Alnum: return isAlnum(c);
    case Alpha.UpperAlnum: return isUpper(c) || isDigit(c);
    case Alpha.Token: return isTokenChar(c);
    case Alpha.Word: return isAlnum(c) || c == 0x5f;
    default: return isAlnum(c) || c == 0x2d;
  }
}

// Extra per-rule checks beyond prefix, alphabet and length.
export enum Check { None, OpenAiLegacy, AwsId, SlackBody }

export class TokenRule {
  constructor(
    public prefix: string, public kind: EntityKind, public alpha: Alpha,
    public minBody: i32, public maxBody: i32, public check: Check) {}
}

// Order matters: longer prefixes first (sk-proj- before sk-). Body lengths are the documented or
// observed ones with headroom where providers say lengths may grow.
export const TOKEN_RULES: Array<TokenRule> = [
  // Anthropic: sk-ant-api03- / sk-ant-admin01- then 93 chars of [A-Za-z0-9_-] ending in "AA" (95).
  new TokenRule("sk-ant-api03-", EntityKind.AnthropicKey, Alpha.Token, 80, 128, Check.None),
  new TokenRule("sk-ant-admin01-", EntityKind.AnthropicKey, Alpha.Token, 80, 128, Check.None),
  // OpenAI project / service-account / admin keys: ~156-164 chars of [A-Za-z0-9_-] today.
  new TokenRule("sk-proj-", EntityKind.OpenAiKey, Alpha.Token, 40, 250, Check.None),
  new TokenRule("sk-svcacct-", EntityKind.OpenAiKey, Alpha.Token, 40, 250, Check.None),
  new TokenRule("sk-admin-", EntityKind.OpenAiKey, Alpha.Token, 40, 250, Check.None),
  new TokenRule("sk-None-", EntityKind.OpenAiKey, Alpha.Token, 40, 250, Check.None),
  // Legacy user keys: sk- + 48 alphanumerics, or any sk- key carrying the T3BlbkFJ marker
  // (base64 of "OpenAI") that OpenAI embeds in its keys.
  new TokenRule("sk-", EntityKind.OpenAiKey, Alpha.Token, 40, 250, Check.OpenAiLegacy),
  // AWS access key ids: 4-letter type prefix + 16 upper-case alphanumerics.
  new TokenRule("AKIA", EntityKind.AwsAccessKey, Alpha.UpperAlnum, 16, 16, Check.AwsId),
  new TokenRule("ASIA", EntityKind.AwsAccessKey, Alpha.UpperAlnum, 16, 16, Check.AwsId),
  new TokenRule("ABIA", EntityKind.AwsAccessKey, Alpha.UpperAlnum, 16, 16, Check.AwsId),
  new TokenRule("ACCA", EntityKind.AwsAccessKey, Alpha.UpperAlnum, 16, 16, Check.AwsId),
  // GitHub: classic tokens are prefix + 36 alphanumerics (GitHub reserves the right to grow them);
  // fine-grained PATs are github_pat_ + 22 + "_" + 59.
  new TokenRule("ghp_", EntityKind.GithubToken, Alpha.Alnum, 36, 251, Check.None),
  new TokenRule("gho_", EntityKind.GithubToken, Alpha.Alnum, 36, 251, Check.None),
  new TokenRule("ghu_", EntityKind.GithubToken, Alpha.Alnum, 36, 251, Check.None),
  new TokenRule("ghs_", EntityKind.GithubToken, Alpha.Alnum, 36, 251, Check.None),
  new TokenRule("ghr_", EntityKind.GithubToken, Alpha.Alnum, 36, 251, Check.None),
  new TokenRule("github_pat_", EntityKind.GithubToken, Alpha.Word, 70, 244, Check.None),
  // Stripe secret and restricted keys (publishable pk_ keys are public by design). Up to 255 total.
  new TokenRule("sk_live_", EntityKind.StripeKey, Alpha.Alnum, 20, 247, Check.None),
  new TokenRule("sk_test_", EntityKind.StripeKey, Alpha.Alnum, 20, 247, Check.None),
  new TokenRule("rk_live_", EntityKind.StripeKey, Alpha.Alnum, 20, 247, Check.None),
  new TokenRule("rk_test_", EntityKind.StripeKey, Alpha.Alnum, 20, 247, Check.None),
  // Slack: xoxb-<team digits>-<digits>-<alnum>, xoxp-…, xoxa-2-…; the body starts with a digit.
  new TokenRule("xoxb-", EntityKind.SlackToken, Alpha.AlnumDash, 20, 250, Check.SlackBody),
  new TokenRule("xoxp-", EntityKind.SlackToken, Alpha.AlnumDash, 20, 250, Check.SlackBody),
  new TokenRule("xoxa-", EntityKind.SlackToken, Alpha.AlnumDash, 20, 250, Check.SlackBody),
  new TokenRule("xoxs-", EntityKind.SlackToken, Alpha.AlnumDash, 20, 250, Check.SlackBody),
  new TokenRule("xoxr-", EntityKind.SlackToken, Alpha.AlnumDash, 20, 250, Check.SlackBody),
  new TokenRule("xoxe-", EntityKind.SlackToken, Alpha.AlnumDash, 20, 250, Check.SlackBody),
  // Slack app-level tokens: xapp-1-A…-<digits>-<64 hex>.
  new TokenRule("xapp-", EntityKind.SlackToken, Alpha.AlnumDash, 20, 250, Check.SlackBody),
  // Google API keys: AIza + 35 of [A-Za-z0-9_-].
  new TokenRule("AIza", EntityKind.GoogleApiKey, Alpha.Token, 35, 35, Check.None),
];

/** Longest run a token rule can still be growing into (prefix + maxBody), for the hold-back. */
export const MAX_TOKEN_RUN: i32 = 262;

/** Result of a successful match (module-level, reused: one match is consumed before the next). */
export class TokenMatch { kind: EntityKind = EntityKind.OpenAiKey; end: i32 = 0; }

/**
 * Tries every rule at st, inside the run ending at runEnd. The body is the maximal stretch of the
 * rule's alphabet (so a match ends at a boundary, like \b in a regex); returns false if none fits.
 */
export function matchToken(text: string, st: i32, runEnd: i32, m: TokenMatch): bool {
  if (runEnd - st < 4) return false;
  const c0 = codeAt(text, st);
  // Cheap first-letter filter: every prefix starts with one of these.
  if (c0 != 0x73 && c0 != 0x41 && c0 != 0x67 && c0 != 0x72 && c0 != 0x78) return false; // s A g r x
  const c1 = codeAt(text, st + 1);
  for (let r = 0; r < TOKEN_RULES.length; r++) {
    const rule = TOKEN_RULES[r];
    // Two inline compares reject almost every rule before the full prefix comparison.
    if (rule.prefix.charCodeAt(0) != c0 || rule.prefix.charCodeAt(1) != c1 || !hasAt(text, st, rule.prefix)) continue;
    const b = st + rule.prefix.length;
    let e = b;
    while (e < runEnd && e - b <= rule.maxBody && inAlpha(codeAt(text, e), rule.alpha)) e++;
    const n = e - b;
    if (n < rule.minBody || n > rule.maxBody) continue;
    if (!checkBody(text, b, e, rule.check)) continue;
    if (hasPlaceholderMarker(text, b, e) || !looksRandom(text, b, e)) continue;
    m.kind = rule.kind;
    m.end = e;
    return true;
  }
  return false;
}

function checkBody(text: string, b: i32, e: i32, check: Check): bool {
  if (check == Check.OpenAiLegacy) {
    if (e - b == 48) {
      let alnum = true;
      for (let i = b; i < e; i++) if (!isAlnum(codeAt(text, i))) { alnum = false; break; }
      if (alnum) return true;
    }
    for (let i = b; i + 8 <= e; i++) if (hasAt(text, i, "T3BlbkFJ")) return true;
    return false;
  }
  // AWS's documentation key (AKIAIOSFODNN7EXAMPLE) and its relatives are examples, not leaks.
  if (check == Check.AwsId) return !hasAt(text, e - 7, "EXAMPLE");
  if (check == Check.SlackBody) return isDigit(codeAt(text, b));
  return true;
}

/**
 * For streaming: could the run text[st..end) (ending at the end of the text) still become, or
 * still be changed into, a token match as more characters arrive? True while it is a prefix of a
 * rule's prefix, or has a rule's prefix and a body that is all in the alphabet and not yet over the
 * maximum length (a complete key can still grow past its boundary and stop matching).
 */
export function tokenMayGrow(text: string, st: i32, end: i32): bool {
  for (let r = 0; r < TOKEN_RULES.length; r++) {
    const rule = TOKEN_RULES[r];
    if (isPrefixOf(text, st, end, rule.prefix)) return true;
    if (!hasAt(text, st, rule.prefix)) continue;
    const b = st + rule.prefix.length;
    if (end - b > rule.maxBody) continue;
    let ok = true;
    for (let i = b; i < end; i++) if (!inAlpha(codeAt(text, i), rule.alpha)) { ok = false; break; }
    if (ok) return true;
  }
  return isPrefixOf(text, st, end, "eyJ") || hasAt(text, st, "eyJ");
}
