// AES-256-GCM sealing of provider credentials. Each value gets a fresh random 96-bit nonce (the
// size GCM is defined for; random nonces stay far below the 2^32-messages-per-key bound at any
// realistic number of credentials), and the additional authenticated data names the row's owner —
// tenant (or "*" for the shared default) and provider — so a ciphertext copied to another tenant or
// provider fails authentication instead of leaking that credential to the wrong tenant.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { KeyRing } from "./master-key.ts";

/** Nonce length in bytes (96 bits). */
export const NONCE_BYTES = 12;
/** GCM tag length in bytes (128 bits). */
export const AUTH_TAG_BYTES = 16;

/** A sealed value as stored in provider_credentials. */
export interface SealedCredential {
  ciphertext: Buffer;
  nonce: Buffer;
  authTag: Buffer;
  /** Id of the ring key that sealed it. */
  masterKeyId: string;
}

/** Who a credential belongs to; bound into the ciphertext as additional authenticated data. */
export interface CredentialOwner {
  /** Tenant id, or null for the shared default credential. */
  tenantId: string | null;
  /** Provider name from the gateway config. */
  provider: string;
}

/** Why a sealed value could not be opened; the value itself is never part of the message. */
export class CredentialDecryptError extends Error {
  constructor(
    readonly reason: "unknown_master_key" | "authentication_failed",
    readonly masterKeyId: string,
  ) {
    super(
      reason === "unknown_master_key"
        ? `credential sealed with master key ${masterKeyId}, which is not in the key ring`
        : `credential failed authentication under master key ${masterKeyId} (wrong key, or the row was altered or moved)`,
    );
    this.name = "CredentialDecryptError";
  }
}

/**
 * The AAD. Tenant ids ([a-z0-9-]) and provider names ([a-z0-9-]) cannot contain "*" or NUL, so
 * distinct owners always give distinct AADs.
 */
export function credentialAad(owner: CredentialOwner): Buffer {
  return Buffer.from(`leash/provider-credential/v1\0${owner.tenantId ?? "*"}\0${owner.provider}`, "utf8");
}

/** Encrypts `plaintext` for `owner` under the ring's current key. */
export function sealCredential(ring: KeyRing, owner: CredentialOwner, plaintext: string): SealedCredential {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", ring.current.key, nonce, { authTagLength: AUTH_TAG_BYTES });
  cipher.setAAD(credentialAad(owner));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { ciphertext, nonce, authTag: cipher.getAuthTag(), masterKeyId: ring.current.id };
}

/**
 * Decrypts a sealed value of `owner`. Throws CredentialDecryptError when the ring lacks its key or
 * authentication fails (wrong key, altered bytes, or a row belonging to another owner).
 */
export function openCredential(ring: KeyRing, owner: CredentialOwner, sealed: SealedCredential): string {
  const key = ring.get(sealed.masterKeyId);
  if (!key) throw new CredentialDecryptError("unknown_master_key", sealed.masterKeyId);
  if (sealed.nonce.length !== NONCE_BYTES || sealed.authTag.length !== AUTH_TAG_BYTES) {
    throw new CredentialDecryptError("authentication_failed", sealed.masterKeyId);
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, sealed.nonce, { authTagLength: AUTH_TAG_BYTES });
    decipher.setAAD(credentialAad(owner));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8");
  } catch {
    // OpenSSL's message ("Unsupported state or unable to authenticate data") says nothing more.
    throw new CredentialDecryptError("authentication_failed", sealed.masterKeyId);
  }
}

/** Listing hint: "sk-…abcd" style, at most the last 4 characters, and nothing for short values. */
export function credentialHint(plaintext: string): string {
  // Below 16 characters, 4 of them would be a real part of the secret; show nothing.
  if (plaintext.length < 16) return "…";
  const prefix = /^[A-Za-z]{2,4}-/.exec(plaintext)?.[0] ?? "";
  return `${prefix}…${plaintext.slice(-4)}`;
}
