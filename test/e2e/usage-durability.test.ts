// No usage row is lost when the sidecar goes away mid-load: it is stopped (SIGTERM), or killed
// outright (SIGKILL: a crash, nothing flushed), and started again while requests flow. Requests the auth module could still admit (cached answers) are
// served and metered; their reports fail while the sidecar is down, wait in the usage module's
// queue, and are delivered after the restart. In the end the ledger holds exactly one row per
// request the provider served.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { waitFor } from "../integration/envoy-harness.ts";

let gw: Gateway;
before(async () => {
  gw = await startGateway();
});
after(async () => { await gw?.stop(); });

describe("usage through a sidecar restart", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) it(`${signal}: ledger rows = requests the provider served, none lost, none doubled`, async () => {
    // A tenant per case: its ledger rows and the mock's requests are this case's alone.
    const tenant: Tenant = await gw.newTenant();
    const marker = `durability-${signal} `;
    const total = 300;
    let next = 0;
    let done = 0;
    const statuses = new Map<number, number>();
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const res = await fetch(`${gw.url}/mock/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: `${marker}${i}` }] }),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        done++;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    await waitFor("a third of the load", async () => (done >= total / 3 ? true : undefined), 30_000);
    await gw.sidecar.stop(signal);
    await gw.sidecar.start();
    await load;

    const served = gw.mock.requests.filter((r) => r.body.includes(marker)).map((r) => String(r.headers["x-request-id"]));
    assert.ok(served.length > total / 3, `only ${served.length} requests served`);
    assert.equal(served.length, statuses.get(200) ?? 0, "the mock served a request the client did not get");
    const rows = await waitFor("every served request in the ledger", async () => {
      const { rows } = await gw.db.query<{ request_id: string }>("SELECT request_id FROM usage_ledger WHERE tenant_id = $1", [tenant.id]);
      return rows.length >= served.length ? rows : undefined;
    }, 20_000);
    const ids = rows.map((r) => r.request_id);
    assert.equal(new Set(ids).size, ids.length, "a request has two ledger rows");
    assert.deepEqual([...ids].sort(), [...served].sort());
  });
});
