// The quota module's failure_mode in a real Envoy: with the sidecar stopped, a tenant with limits
// gets 503 quota.sidecar_unavailable (the default, closed) and nothing reaches the provider; once
// the sidecar is back, requests are admitted again. (failure_mode open is covered on the built
// .wasm in test/filters/quota.test.ts.)
//
// The auth module needs the sidecar too, so only a key whose auth decision is still cached
// (sidecar.auth_cache_ttl_ms, 2 s here) reaches the quota module: the outage request follows a
// warm-up at once, and a round whose decision expired first (auth.sidecar_unavailable: the
// precondition did not hold) is run again.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { startGateway, type Gateway, type Tenant } from "./gateway.ts";
import { openaiChat, setTenantLimits, type Outcome } from "./quota-client.ts";
import { httpGet, waitFor } from "../integration/envoy-harness.ts";

const ROUNDS = 3;

let gw: Gateway;
let t: Tenant;
before(async () => {
  // No leases: this file is the per-request path (a lease held when the sidecar stops: quota-lease-outage).
  gw = await startGateway({ authCacheTtlMs: 2000, quota: { leaseTtlMs: 0 } });
  t = await gw.newTenant();
  await setTenantLimits(gw, t.id, { rpm: 100 });
});
after(async () => { await gw?.stop(); });

function ask(text: string): Promise<Outcome> {
  return openaiChat(gw.url, t.key, { messages: [{ role: "user", content: text }] });
}

describe("the sidecar stopped under the gateway", () => {
  it("closed: 503 quota.sidecar_unavailable, nothing upstream; admitted again once the sidecar is back", async () => {
    const marker = `sidecar-down-${randomBytes(4).toString("hex")}`;
    let outcome: Outcome | undefined;
    for (let round = 1; round <= ROUNDS; round++) {
      await waitFor("an allowed request", async () => ((await ask("warm-up")).status === 200 ? true : undefined), 15_000);
      await gw.sidecar.stop();
      outcome = await ask(marker);
      if (outcome.code !== "auth.sidecar_unavailable") break;
      assert.ok(round < ROUNDS, "the auth decision expired before the outage request in every round");
      await gw.sidecar.start();
    }
    assert.equal(`${outcome!.status} ${outcome!.code}`, "503 quota.sidecar_unavailable");
    assert.equal(outcome!.headers.get("retry-after"), "1");
    assert.equal(gw.mock.requests.filter((r) => r.body.includes(marker)).length, 0, "a refused request reached the provider");
    assert.equal((await httpGet(gw.port, "/health")).status, 200, "Envoy is still serving");

    await gw.sidecar.start();
    const back = await waitFor("admitted again", async () => {
      const o = await ask(`${marker} again`);
      return o.status === 200 ? o : undefined;
    }, 15_000);
    assert.equal(back.headers.get("x-ratelimit-limit-requests"), "100");
  });
});
