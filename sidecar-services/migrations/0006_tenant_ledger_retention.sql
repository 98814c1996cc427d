-- Per-tenant retention of the usage ledger, enforced by the sidecar's retention job
-- (src/ledger-retention.ts). NULL = the gateway default (sidecar.ledger_retention_days);
-- 0 = keep forever; otherwise the number of days a row is kept after its started_at.
-- A column rather than a key in module_settings: the job reads it for every tenant at once, and
-- the CHECK keeps a bad value from ever reaching it. (Numbered 0006: 0004/0005 belong to other work.)
ALTER TABLE tenants
  ADD COLUMN retention_days integer CHECK (retention_days BETWEEN 0 AND 3650);
