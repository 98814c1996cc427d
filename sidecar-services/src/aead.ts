// AES-256-GCM sealing under the master key ring, shared by everything the sidecar keeps encrypted
// at rest (provider credentials, the audit trail). Each value gets a fresh random 96-bit nonce (the
// size GCM is defined for; random nonces stay far below the 2^32-messages-per-key bound), and the
// caller's additional authenticated data binds the ciphertext to its owner, so a sealed value
// moved to another row fails authentication instead of opening for the wrong owner.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { KeyRing } from "./master-key.ts";

/** Nonce length in bytes (96 bits). */
export const NONCE_BYTES = 12;
/** GCM tag length in bytes (128 bits). */
export const AUTH_TAG_BYTES = 16;

/** A sealed value as stored. */
export interface Sealed {
  ciphertext: Buffer;
  nonce: Buffer;
  authTag: Buffer;
  /** Id of the ring key that sealed it. */
  masterKeyId: string;
}

/** Why a sealed value did not open. */
export type OpenFailure = "unknown_master_key" | "authentication_failed";

/** Encrypts `plaintext` under the ring's current key, bound to `aad`. */
export function seal(ring: KeyRing, aad: Buffer, plaintext: Buffer): Sealed {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", ring.current.key, nonce, { authTagLength: AUTH_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, nonce, authTag: cipher.getAuthTag(), masterKeyId: ring.current.id };
}

/** Decrypts a sealed value bound to `aad`, or says why it cannot. */
export function open(ring: KeyRing, aad: Buffer, sealed: Sealed): { ok: true; plaintext: Buffer } | { ok: false; reason: OpenFailure } {
  const key = ring.get(sealed.masterKeyId);
  if (!key) return { ok: false, reason: "unknown_master_key" };
  if (sealed.nonce.length !== NONCE_BYTES || sealed.authTag.length !== AUTH_TAG_BYTES) return { ok: false, reason: "authentication_failed" };
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, sealed.nonce, { authTagLength: AUTH_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.authTag);
    return { ok: true, plaintext: Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]) };
  } catch {
    // OpenSSL's message ("Unsupported state or unable to authenticate data") says nothing more.
    return { ok: false, reason: "authentication_failed" };
  }
}
