// AES-256-GCM sealing of provider credentials (aead.ts). The additional authenticated data names the row's owner —
// tenant (or "*" for the shared default) and provider — so a ciphertext copied to another tenant or
// provider fails authentication instead of leaking that credential to the wrong tenant.
import { open, seal, type Sealed } from "./aead.ts";
import type { KeyRing } from "./master-key.ts";

export { AUTH_TAG_BYTES, NONCE_BYTES } from "./aead.ts";

/** A sealed value as stored in provider_credentials. */
export type SealedCredential = Sealed;

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
  return seal(ring, credentialAad(owner), Buffer.from(plaintext, "utf8"));
}

/**
 * Decrypts a sealed value of `owner`. Throws CredentialDecryptError when the ring lacks its key or
 * authentication fails (wrong key, altered bytes, or a row belonging to another owner).
 */
export function openCredential(ring: KeyRing, owner: CredentialOwner, sealed: SealedCredential): string {
  const r = open(ring, credentialAad(owner), sealed);
  if (!r.ok) throw new CredentialDecryptError(r.reason, sealed.masterKeyId);
  return r.plaintext.toString("utf8");
}

/** Listing hint: "sk-…abcd" style, at most the last 4 characters, and nothing for short values. */
export function credentialHint(plaintext: string): string {
  // Below 16 characters, 4 of them would be a real part of the secret; show nothing.
  if (plaintext.length < 16) return "…";
  const prefix = /^[A-Za-z]{2,4}-/.exec(plaintext)?.[0] ?? "";
  return `${prefix}…${plaintext.slice(-4)}`;
}
