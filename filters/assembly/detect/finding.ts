// What the detectors report: a typed span of an AssemblyScript string (UTF-16 code-unit indices,
// start inclusive, end exclusive). The guard modules decide what to do with it (mask, hash, block).
// This file is the contract between the detectors (pii.ts, secrets.ts) and the redaction engine.

/** Entity types. The config/policy name of each is entityName(); placeholders use entityLabel(). */
export enum EntityKind {
  // PII
  Email = 0,
  Phone = 1,
  Card = 2,
  Ssn = 3,
  Iban = 4,
  Ipv4 = 5,
  Ipv6 = 6,
  // Secrets
  OpenAiKey = 7,
  AnthropicKey = 8,
  AwsAccessKey = 9,
  GithubToken = 10,
  StripeKey = 11,
  SlackToken = 12,
  GoogleApiKey = 13,
  Jwt = 14,
  PrivateKey = 15,
  ConnectionPassword = 16,
  GenericSecret = 17,
}

/** Number of EntityKind values (kinds are 0..ENTITY_KINDS-1, usable as bit positions in a u32 set). */
export const ENTITY_KINDS: i32 = 18;

const NAMES: Array<string> = [
  "email", "phone", "card", "ssn", "iban", "ipv4", "ipv6",
  "openai_key", "anthropic_key", "aws_access_key", "github_token", "stripe_key", "slack_token",
  "google_api_key", "jwt", "private_key", "connection_password", "generic_secret",
];

/** The name used in config and tenant policy, e.g. "email", "openai_key". */
export function entityName(kind: EntityKind): string { return NAMES[<i32>kind]; }

// Upper-cased once: a label goes into every placeholder, and toUpperCase allocates.
const LABELS: StaticArray<string> = labels();

function labels(): StaticArray<string> {
  const out = new StaticArray<string>(ENTITY_KINDS);
  for (let k = 0; k < ENTITY_KINDS; k++) out[k] = NAMES[k].toUpperCase();
  return out;
}

/** The placeholder label, e.g. "EMAIL" in [EMAIL_1]. */
export function entityLabel(kind: EntityKind): string { return LABELS[<i32>kind]; }

/** The kind named `name`, or -1. */
export function entityKindOf(name: string): i32 {
  for (let i = 0; i < NAMES.length; i++) if (NAMES[i] == name) return i;
  return -1;
}

/** True for the secret kinds (default action: block). */
export function isSecret(kind: EntityKind): bool { return <i32>kind >= <i32>EntityKind.OpenAiKey; }

/** A bit set of kinds: bit (1 << kind). */
export function kindBit(kind: EntityKind): u32 { return (<u32>1) << <u32>kind; }
export const ALL_KINDS: u32 = (<u32>1 << <u32>ENTITY_KINDS) - 1;

export class Finding {
  constructor(public kind: EntityKind, public start: i32, public end: i32) {}
}
