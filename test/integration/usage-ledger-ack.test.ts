// The usage ledger acknowledges a row only once it is durable: record() stays pending while the row
// waits in memory and resolves when its INSERT has committed. A sidecar killed at any moment has
// therefore acknowledged nothing it could still lose (the filter resends what was not acknowledged).
//
//   LEASH_TEST_DATABASE_URL  default postgres://leash:leash@127.0.0.1:5432/leash_test
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Db } from "../../sidecar-services/src/db.ts";
import { silentLogger } from "../../sidecar-services/src/logger.ts";
import { createUsageLedger, type LedgerRow } from "../../sidecar-services/src/usage-ledger.ts";
import { createTestSchema, type TestSchema } from "../support/pg-schema.ts";

const RUN = randomBytes(4).toString("hex");

function row(id: string): LedgerRow {
  return {
    request_id: id, tenant_id: "acme", key_id: "", provider: "mock", api: "openai", model: "m", status: 200,
    prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0, streamed: false, estimated: false,
    duration_ms: 10, upstream_first_byte_ms: 5, started_at_ms: Date.now(), cost_usd: null, price_version: "test",
  };
}

describe("usage ledger acknowledgement", () => {
  let schema: TestSchema;
  let db: Db;
  let dir: string;
  before(async () => {
    schema = await createTestSchema("ledgerack", RUN);
    db = await schema.openMigrated();
    dir = mkdtempSync(join(tmpdir(), "leash-ledger-ack-"));
  });
  after(async () => {
    await schema?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("record() resolves only after the row's INSERT, never while it sits in memory", async () => {
    // A flush timer that never fires in this test: only flush() writes.
    const ledger = createUsageLedger({ db, log: silentLogger, spoolDir: join(dir, "spool"), flushIntervalMs: 3_600_000 });
    try {
      let acknowledged = false;
      const ack = ledger.record(row("ack-1")).then(() => { acknowledged = true; });
      // Give every already-resolved promise a chance to run: a premature acknowledgement shows here.
      await new Promise<void>((r) => setImmediate(r));
      assert.equal(acknowledged, false, "acknowledged while the row was only in memory");
      assert.equal((await db.query("SELECT 1 FROM usage_ledger WHERE request_id = 'ack-1'")).rows.length, 0);
      await ledger.flush();
      await ack;
      assert.equal((await db.query("SELECT 1 FROM usage_ledger WHERE request_id = 'ack-1'")).rows.length, 1);
    } finally {
      await ledger.close();
    }
  });
});
