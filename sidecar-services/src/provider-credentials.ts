// Provider credentials the filter injects upstream on ALLOW. Resolved once at startup from the
// environment so a request never touches process.env, and so the startup log can say which
// providers lack a credential (by name only).
import type { ProviderApi, ProviderConfig } from "../../config/types.ts";

/** Header to inject upstream; `header` "" means inject nothing. */
export interface UpstreamCredential {
  header: string;
  value: string;
}

/** Per-provider credential, keyed by provider name; a provider absent from the map is unknown. */
export type ProviderCredentials = ReadonlyMap<string, UpstreamCredential>;

const NONE: UpstreamCredential = { header: "", value: "" };

/** How each wire format expects its API key. */
function credentialFor(api: ProviderApi, key: string): UpstreamCredential {
  switch (api) {
    case "openai":
      return { header: "authorization", value: `Bearer ${key}` };
    case "anthropic":
      return { header: "x-api-key", value: key };
  }
}

/** Builds the credential table; providers without `api_key_env`, or with it unset/empty, get none. */
export function resolveProviderCredentials(
  providers: readonly ProviderConfig[],
  env: Record<string, string | undefined>,
): ProviderCredentials {
  const out = new Map<string, UpstreamCredential>();
  for (const p of providers) {
    const key = p.api_key_env ? env[p.api_key_env] : undefined;
    out.set(p.name, key ? credentialFor(p.api, key) : NONE);
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
