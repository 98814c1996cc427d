// Upstream credentials: which header carries the provider API key, and where the key comes from.
// Precedence on ALLOW: the tenant's own stored credential for the provider, else the shared stored
// one (tenant_id NULL), else the environment variable named by the provider's `api_key_env`
// (read once at startup), else none. Stored credentials are decrypted per request from their
// cached ciphertext; plaintext is never cached or logged.
import type { ProviderApi, ProviderConfig } from "../../config/types.ts";
import { openCredential, type CredentialOwner } from "./credential-cipher.ts";
import { lookupSealedCredential } from "./credential-store.ts";
import type { Queryable } from "./db.ts";
import { CredentialUnavailableError } from "./errors.ts";
import type { KvStore } from "./kv-store.ts";
import type { KeyRing } from "./master-key.ts";

/** Header to inject upstream; `header` "" means inject nothing. */
export interface UpstreamCredential {
  header: string;
  value: string;
}

/** A provider Authorize accepts: its wire format and its credential from the environment. */
export interface KnownProvider {
  api: ProviderApi;
  /** From `api_key_env`; `header` "" when the provider has none configured or the variable is empty. */
  envCredential: UpstreamCredential;
}

/** Providers of the config by name; a name absent from the map is unknown (gateway.unknown_provider). */
export type ProviderTable = ReadonlyMap<string, KnownProvider>;

/** The empty credential: inject nothing. */
export const NO_CREDENTIAL: UpstreamCredential = { header: "", value: "" };

/** How each wire format expects its API key. */
export function credentialFor(api: ProviderApi, key: string): UpstreamCredential {
  switch (api) {
    case "openai":
      return { header: "authorization", value: `Bearer ${key}` };
    case "anthropic":
      return { header: "x-api-key", value: key };
  }
}

/** Builds the provider table; providers without `api_key_env`, or with it unset/empty, get no env credential. */
export function buildProviderTable(providers: readonly ProviderConfig[], env: Record<string, string | undefined>): ProviderTable {
  const out = new Map<string, KnownProvider>();
  for (const p of providers) {
    const key = p.api_key_env ? env[p.api_key_env] : undefined;
    out.set(p.name, { api: p.api, envCredential: key ? credentialFor(p.api, key) : NO_CREDENTIAL });
  }
  return out;
}

/** Providers whose `api_key_env` is configured but empty in the environment (misconfiguration hint). */
export function providersMissingCredentials(
  providers: readonly ProviderConfig[],
  env: Record<string, string | undefined>,
): string[] {
  return providers.filter((p) => p.api_key_env !== "" && !env[p.api_key_env]).map((p) => p.name);
}

/** Dependencies of {@link createCredentialResolver}. */
export interface CredentialResolverDeps {
  db: Queryable;
  store: KvStore;
  /** Master keys; null when none is configured (a stored credential then cannot be used). */
  ring: KeyRing | null;
}

/**
 * Returns the function that picks the upstream credential of `tenantId` for a known provider.
 * Throws DependencyError (database/store down) or CredentialUnavailableError (a stored credential
 * exists but cannot be decrypted: no ring, its key missing from the ring, or tampered with) — in
 * that case the request fails closed rather than going upstream with a weaker credential.
 */
export function createCredentialResolver(
  deps: CredentialResolverDeps,
): (tenantId: string, providerName: string, provider: KnownProvider) => Promise<UpstreamCredential> {
  return async (tenantId, providerName, provider) => {
    const own: CredentialOwner = { tenantId, provider: providerName };
    const shared: CredentialOwner = { tenantId: null, provider: providerName };
    // Both lookups at once: usually cache hits, and the pair costs one round trip instead of two.
    const [tenantSealed, sharedSealed] = await Promise.all([
      lookupSealedCredential(deps.db, deps.store, own),
      lookupSealedCredential(deps.db, deps.store, shared),
    ]);
    const owner = tenantSealed ? own : sharedSealed ? shared : null;
    const sealed = tenantSealed ?? sharedSealed;
    if (!owner || !sealed) return provider.envCredential;
    if (!deps.ring) throw new CredentialUnavailableError("no master key configured", owner);
    try {
      return credentialFor(provider.api, openCredential(deps.ring, owner, sealed));
    } catch (err) {
      throw new CredentialUnavailableError(err instanceof Error ? err.message : String(err), owner);
    }
  };
}
