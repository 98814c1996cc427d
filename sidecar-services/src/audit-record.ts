// One audit-trail entry: the request and response bodies of a request (as the guard modules left
// them), sealed with AES-256-GCM (aead.ts) before they are queued, spooled or stored, so a body is
// never at rest in clear: not in PostgreSQL, not in the usage spool on disk.
import { open, seal, type Sealed } from "./aead.ts";
import type { KeyRing } from "./master-key.ts";

/** What an audit entry holds once opened. */
export interface AuditBodies {
  request_body: string;
  response_body: string;
  /** True when the filter (or the sidecar's cap) cut a body. */
  truncated: boolean;
}

/** A sealed entry as queued with its ledger row (base64, so it survives the JSON spool). */
export interface SealedAudit {
  master_key_id: string;
  nonce: string;
  auth_tag: string;
  ciphertext: string;
}

/** Largest body kept per side, in bytes; the filter caps lower (its audit_max_body_bytes). */
export const MAX_AUDIT_BODY_BYTES = 1_048_576;

/**
 * Tenant ids and request ids cannot contain NUL (validated), so distinct rows always have
 * distinct AADs: an entry copied to another tenant or request fails to open.
 */
export function auditAad(tenantId: string, requestId: string): Buffer {
  return Buffer.from(`leash/audit/v1\0${tenantId}\0${requestId}`, "utf8");
}

/** Cuts `body` to MAX_AUDIT_BODY_BYTES; invalid UTF-8 becomes U+FFFD (the entry is text). */
export function auditText(body: Buffer): { text: string; cut: boolean } {
  const cut = body.length > MAX_AUDIT_BODY_BYTES;
  return { text: (cut ? body.subarray(0, MAX_AUDIT_BODY_BYTES) : body).toString("utf8"), cut };
}

export function sealAudit(ring: KeyRing, tenantId: string, requestId: string, bodies: AuditBodies): SealedAudit {
  const s = seal(ring, auditAad(tenantId, requestId), Buffer.from(JSON.stringify(bodies), "utf8"));
  return {
    master_key_id: s.masterKeyId,
    nonce: s.nonce.toString("base64"),
    auth_tag: s.authTag.toString("base64"),
    ciphertext: s.ciphertext.toString("base64"),
  };
}

/** A stored row's sealed columns. */
export interface StoredAudit {
  master_key_id: string;
  nonce: Buffer;
  auth_tag: Buffer;
  ciphertext: Buffer;
}

/** Opens a stored entry, or says why it cannot (unknown master key; altered or moved row). */
export function openAudit(ring: KeyRing, tenantId: string, requestId: string, row: StoredAudit): AuditBodies | { error: string } {
  const sealed: Sealed = { masterKeyId: row.master_key_id, nonce: row.nonce, authTag: row.auth_tag, ciphertext: row.ciphertext };
  const r = open(ring, auditAad(tenantId, requestId), sealed);
  if (!r.ok) return { error: r.reason };
  const v = JSON.parse(r.plaintext.toString("utf8")) as Partial<AuditBodies>;
  return {
    request_body: typeof v.request_body === "string" ? v.request_body : "",
    response_body: typeof v.response_body === "string" ? v.response_body : "",
    truncated: v.truncated === true,
  };
}
