// A secret detector for tests: finds credentials in text that must never hold any (logs, metrics,
// spans, ledger rows). Two kinds of evidence:
//   - known values: the exact secrets a test handed out (tenant keys, provider credentials, the
//     gateway's pepper, master key and admin token), and for Leash keys their secret part alone,
//     also JSON-escaped and base64-encoded, since a log may quote or encode what it leaks;
//   - patterns: anything shaped like a Leash key, an OpenAI or Anthropic key, a bearer token, a
//     private key block, an AWS access key id or a GitHub token, whoever it belongs to.
// Findings show where and what kind, with the value cut short so a failing test does not leak it
// to CI logs in full.

/** One hit. */
export interface SecretFinding {
  /** Where the text came from (the caller's label). */
  source: string;
  /** "known:<label>" or "pattern:<name>". */
  kind: string;
  /** Offset in the text. */
  index: number;
  /** The match, cut to its first 8 characters. */
  excerpt: string;
}

/** A secret the test knows, with a label for findings. */
export interface KnownSecret {
  label: string;
  value: string;
}

const PATTERNS: ReadonlyArray<{ name: string; re: RegExp }> = [
  { name: "leash_key", re: /lsh_[a-z0-9]{12}_[A-Za-z0-9]{32}/g },
  { name: "anthropic_key", re: /sk-ant-[A-Za-z0-9_-]{20,}/g },
  { name: "openai_key", re: /sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g },
  { name: "bearer_token", re: /[Bb]earer\s+[A-Za-z0-9._~+/=-]{16,}/g },
  { name: "private_key", re: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/g },
  { name: "aws_access_key_id", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { name: "github_token", re: /\bgh[pousr]_[A-Za-z0-9]{36}\b/g },
];

/** Forms a known value may take in a log line. */
function variants(value: string): string[] {
  const out = new Set<string>([value, JSON.stringify(value).slice(1, -1), Buffer.from(value).toString("base64")]);
  // A Leash key's secret part is what must stay hidden (its key id is public and logged on purpose).
  const leash = /^lsh_[a-z0-9]{12}_([A-Za-z0-9]{32})$/.exec(value);
  if (leash) out.add(leash[1]!);
  return [...out].filter((v) => v.length >= 8);
}

/** Every finding in `text`. */
export function scanForSecrets(source: string, text: string, known: readonly KnownSecret[] = []): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const k of known) {
    for (const v of variants(k.value)) {
      for (let i = text.indexOf(v); i >= 0; i = text.indexOf(v, i + 1)) {
        findings.push({ source, kind: `known:${k.label}`, index: i, excerpt: v.slice(0, 8) + "…" });
      }
    }
  }
  for (const p of PATTERNS) {
    for (const m of text.matchAll(p.re)) {
      findings.push({ source, kind: `pattern:${p.name}`, index: m.index ?? 0, excerpt: m[0].slice(0, 8) + "…" });
    }
  }
  return findings;
}

/** A readable report of findings (for assertion messages). */
export function describeFindings(findings: readonly SecretFinding[]): string {
  return findings.map((f) => `${f.source} @${f.index}: ${f.kind} (${f.excerpt})`).join("\n");
}
