// Tenant API key format and secret hashing. Pure functions (no I/O) so they can be unit-tested and
// reused by the CLI.
//
//   lsh_<key_id>_<secret>
//   key_id: 12 chars [a-z0-9]  — public identifier, the database primary key, safe to log
//   secret: 32 chars base62    — ~190 bits of entropy, never stored, never logged
//
// Only HMAC-SHA256(pepper, secret) is stored. A plain hash would suffice against guessing (the
// secret has full entropy), the pepper additionally makes a stolen database dump useless without
// the sidecar's environment.
import crypto from "node:crypto";

export const KEY_PREFIX = "lsh_";
export const KEY_ID_LENGTH = 12;
export const SECRET_LENGTH = 32;
/** Exact length of a well-formed key: cheap first filter before the regex sees hostile input. */
export const KEY_LENGTH = KEY_PREFIX.length + KEY_ID_LENGTH + 1 + SECRET_LENGTH;

const KEY_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const KEY_PATTERN = /^lsh_([a-z0-9]{12})_([A-Za-z0-9]{32})$/;
const KEY_ID_PATTERN = /^[a-z0-9]{12}$/;

/** The two halves of a well-formed key. */
export interface ParsedApiKey {
  /** Public identifier (12 chars [a-z0-9]). */
  keyId: string;
  /** Secret part (32 chars base62). */
  secret: string;
}

/**
 * Parses a presented key strictly. Anything that is not exactly the documented shape — wrong
 * length, NUL bytes, replacement characters from invalid UTF-8, SQL fragments — yields null, so
 * no hostile byte ever reaches a query or a log line.
 */
export function parseApiKey(raw: string): ParsedApiKey | null {
  if (raw.length !== KEY_LENGTH) return null;
  const m = KEY_PATTERN.exec(raw);
  return m ? { keyId: m[1]!, secret: m[2]! } : null;
}

/** True for a syntactically valid key id (used by admin helpers on operator input). */
export function isKeyId(value: string): boolean {
  return KEY_ID_PATTERN.test(value);
}

/** Formats a key from its parts. */
export function formatApiKey(keyId: string, secret: string): string {
  return `${KEY_PREFIX}${keyId}_${secret}`;
}

/**
 * Uniformly random string over `alphabet`. Rejection sampling instead of `byte % n` because 256 is
 * not a multiple of 36 or 62 and the modulo would bias the first characters of the alphabet.
 */
export function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A freshly minted key: the full key (shown once) and its parts. */
export interface GeneratedApiKey extends ParsedApiKey {
  /** `lsh_<keyId>_<secret>`; hand it to the tenant, it cannot be recovered later. */
  key: string;
}

/** Mints a new random key. */
export function generateApiKey(): GeneratedApiKey {
  const keyId = randomString(KEY_ID_ALPHABET, KEY_ID_LENGTH);
  const secret = randomString(SECRET_ALPHABET, SECRET_LENGTH);
  return { keyId, secret, key: formatApiKey(keyId, secret) };
}

/** The stored form of a secret: HMAC-SHA256 keyed with the deployment's pepper (32 bytes). */
export function hashSecret(pepper: string, secret: string): Buffer {
  return crypto.createHmac("sha256", pepper).update(secret, "utf8").digest();
}

/**
 * Checks a presented secret against a stored hash in constant time, so response timing does not
 * reveal how many leading bytes matched. The length check first is not a timing leak: every valid
 * stored hash has the same 32-byte length, and timingSafeEqual throws on unequal lengths.
 */
export function verifySecret(pepper: string, secret: string, storedHash: Uint8Array): boolean {
  const presented = hashSecret(pepper, secret);
  if (storedHash.length !== presented.length) return false;
  return crypto.timingSafeEqual(presented, storedHash);
}

/** Which stored secret a presented one matched. */
export type SecretMatch = "current" | "previous" | "none";

/**
 * Stands in for a stored hash that is absent (unknown key id, no previous secret) or malformed.
 * Random per process: no presented secret can be made to match it.
 */
const DUMMY_HASH: Buffer = crypto.randomBytes(32);

function comparable(hash: Uint8Array | null): Uint8Array {
  return hash !== null && hash.length === DUMMY_HASH.length ? hash : DUMMY_HASH;
}

/**
 * Compares the HMAC of a presented secret (from {@link hashSecret}) with a key's current and
 * previous stored hashes. It always runs exactly two 32-byte timingSafeEqual comparisons, whatever
 * exists: an unknown key (both null), a key without a rotation grace and a key inside one cost the
 * same, so timing reveals neither existence nor how many bytes matched. The previous secret counts
 * only while `previousValid` (its grace has not ended); it is compared either way.
 */
export function matchSecret(
  presented: Uint8Array,
  current: Uint8Array | null,
  previous: Uint8Array | null,
  previousValid: boolean,
): SecretMatch {
  const wellFormed = (h: Uint8Array | null): h is Uint8Array => h !== null && h.length === DUMMY_HASH.length;
  // A malformed presented hash is compared against fresh random bytes: same work, never equal.
  const p = wellFormed(presented) ? presented : crypto.randomBytes(DUMMY_HASH.length);
  // Both comparisons run before either result is used (no short-circuit).
  const currentEqual = crypto.timingSafeEqual(p, comparable(current));
  const previousEqual = crypto.timingSafeEqual(p, comparable(previous));
  if (wellFormed(current) && currentEqual) return "current";
  if (wellFormed(previous) && previousValid && previousEqual) return "previous";
  return "none";
}
