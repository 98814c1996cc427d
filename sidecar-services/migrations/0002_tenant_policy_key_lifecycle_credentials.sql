-- Issue 3: tenant policy and status, key expiry / rotation / limits, and provider credentials
-- encrypted at rest. Only additions: every column added to an existing table has a default or is
-- nullable, so rows written by 0001 stay valid and an older sidecar keeps working during a rollout.

-- Tenants: a disabled tenant is refused (auth.tenant_disabled) without touching its keys, so
-- re-enabling it restores every key as it was.
ALTER TABLE tenants
  ADD COLUMN status            text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- Provider names from the gateway config; empty = every configured provider.
  ADD COLUMN allowed_providers text[]      NOT NULL DEFAULT '{}',
  -- Model names; empty = any model; an entry ending in "*" matches by prefix ("gpt-4o*").
  ADD COLUMN allowed_models    text[]      NOT NULL DEFAULT '{}',
  -- Per-module settings (opaque to this migration; read by later modules such as quotas).
  ADD COLUMN module_settings   jsonb       NOT NULL DEFAULT '{}',
  ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now();

-- API keys: expiry is by time (expires_at <= now), not a status, so `status` keeps its two values.
ALTER TABLE api_keys
  ADD COLUMN expires_at                 timestamptz,
  -- Optional per-key limits, e.g. {"rpm": 60}; opaque until the quota module reads them.
  ADD COLUMN limits                     jsonb NOT NULL DEFAULT '{}',
  -- Rotation keeps the key id and replaces the secret; the old secret's hash stays valid until
  -- previous_secret_expires_at (the grace period), then is ignored.
  ADD COLUMN previous_secret_hash       bytea,
  ADD COLUMN previous_secret_expires_at timestamptz,
  ADD COLUMN rotated_at                 timestamptz,
  ADD CONSTRAINT api_keys_previous_secret_pair
    CHECK ((previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL));

-- Provider credentials (the provider API keys the gateway injects upstream), per tenant or shared
-- (tenant_id NULL = the default for every tenant without its own). Stored only as AES-256-GCM
-- ciphertext under a master key that never enters the database; the additional authenticated
-- data binds each ciphertext to its (tenant, provider), so a row copied elsewhere fails to decrypt.
CREATE TABLE provider_credentials (
  id            bigserial PRIMARY KEY,
  tenant_id     text REFERENCES tenants (id),
  provider      text NOT NULL,
  ciphertext    bytea NOT NULL,
  -- 96-bit random nonce, fresh for every encryption.
  nonce         bytea NOT NULL CHECK (length(nonce) = 12),
  -- 128-bit GCM authentication tag.
  auth_tag      bytea NOT NULL CHECK (length(auth_tag) = 16),
  -- Which master key of the key ring sealed it (rotation re-encrypts rows under the current one).
  master_key_id text NOT NULL,
  -- Display hint for listings, e.g. "sk-…abcd" (at most the last 4 characters), never the key.
  hint          text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- UNIQUE (tenant_id, provider) treats NULLs as distinct, so the shared row needs its own index.
CREATE UNIQUE INDEX provider_credentials_tenant_provider_key
  ON provider_credentials (tenant_id, provider) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX provider_credentials_shared_provider_key
  ON provider_credentials (provider) WHERE tenant_id IS NULL;
