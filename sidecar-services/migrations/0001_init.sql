-- Tenants, their API keys, and the record of Authorize decisions.

CREATE TABLE tenants (
  id         text PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  key_id       text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  -- HMAC-SHA256(pepper, secret); the secret itself is never stored.
  secret_hash  bytea NOT NULL,
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id);

-- No foreign keys: the log must accept rows for denied (unknown) keys and outlive deleted tenants.
CREATE TABLE request_log (
  id         bigserial PRIMARY KEY,
  request_id text,
  tenant_id  text,
  key_id     text,
  provider   text,
  decision   text NOT NULL,
  code       text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX request_log_tenant_created_idx ON request_log (tenant_id, created_at);
