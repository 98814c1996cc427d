-- The usage ledger: one row per finished request, written by the sidecar's batched ledger writer
-- (src/usage-ledger.ts) from RecordUsage reports.
--
-- Partitioned by month of started_at so that the table stays fast as it grows and retention is a
-- DROP TABLE of old partitions instead of a huge DELETE. A partitioned table's primary key must
-- contain the partition key, hence (request_id, started_at): the writer always takes started_at
-- from the report itself (never from the clock), so the same report always maps to the same key and
-- `INSERT … ON CONFLICT DO NOTHING` makes every replay harmless.
--
-- There is deliberately no DEFAULT partition: a row landing there would forbid creating its month's
-- partition later. The writer creates each month's partition (usage_ledger_pYYYYMM) before the
-- first insert into it, so a missing partition is a retryable error, never a lost row.
-- No foreign keys: the ledger must outlive deleted tenants and keys, and accept refused requests.
CREATE TABLE usage_ledger (
  request_id             text        NOT NULL,
  tenant_id              text        NOT NULL DEFAULT '',
  key_id                 text        NOT NULL DEFAULT '',
  provider               text        NOT NULL,
  api                    text        NOT NULL DEFAULT '',
  model                  text        NOT NULL DEFAULT '',
  status                 integer     NOT NULL,
  prompt_tokens          bigint      NOT NULL,
  completion_tokens      bigint      NOT NULL,
  cached_tokens          bigint      NOT NULL,
  -- NULL = the model is not in the price table (reported, never priced at zero).
  cost_usd               numeric(18, 9),
  -- `version` of the price table the cost was computed with.
  price_version          text        NOT NULL,
  streamed               boolean     NOT NULL,
  -- Completion tokens counted by the gateway because the provider reported no usage.
  estimated              boolean     NOT NULL,
  duration_ms            integer     NOT NULL,
  upstream_first_byte_ms integer     NOT NULL,
  started_at             timestamptz NOT NULL,
  recorded_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, started_at)
) PARTITION BY RANGE (started_at);

-- Declared on the parent: every partition gets it (per-tenant reports over a time range).
CREATE INDEX usage_ledger_tenant_started_idx ON usage_ledger (tenant_id, started_at);
