-- Issue 5 (audit trail) and the guard decisions of each request.
--
-- usage_ledger.guard_decisions: what the guard modules did to the request, a short, bounded text
-- ("redact:email=2,card=1;injection:flagged" style), never a body or an entity value.
--
-- audit_log: for tenants whose policy asks for it, the request and response bodies as the provider
-- and the client saw them (after redaction), with the guard decisions. The bodies are sealed with
-- AES-256-GCM under the sidecar's master key ring (the one that seals provider credentials); the
-- additional authenticated data binds each row to its tenant and request id, so a row copied to
-- another tenant does not open. Plain columns hold only what retention, export and lookup need.
--
-- Partitioned by month of started_at like the ledger (retention drops whole months; the writer
-- creates each month's partition before its first insert), keyed like the ledger so a replayed
-- report never stores a body twice.
ALTER TABLE usage_ledger ADD COLUMN guard_decisions text NOT NULL DEFAULT '';

CREATE TABLE audit_log (
  request_id      text        NOT NULL,
  tenant_id       text        NOT NULL,
  key_id          text        NOT NULL DEFAULT '',
  provider        text        NOT NULL,
  model           text        NOT NULL DEFAULT '',
  status          integer     NOT NULL,
  guard_decisions text        NOT NULL DEFAULT '',
  started_at      timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  -- Id of the ring key that sealed the row, then the AES-256-GCM nonce, tag and ciphertext of the
  -- JSON {"request_body":…,"response_body":…,"truncated":…}.
  master_key_id   text        NOT NULL,
  nonce           bytea       NOT NULL,
  auth_tag        bytea       NOT NULL,
  ciphertext      bytea       NOT NULL,
  PRIMARY KEY (request_id, started_at)
) PARTITION BY RANGE (started_at);

CREATE INDEX audit_log_tenant_started_idx ON audit_log (tenant_id, started_at);
