// bench/procs/quiet.ts: before each point the bench waits until every target and the mock are idle,
// not only the target measured last (a grid's LiteLLM backlog outlived the next point and landed in
// the one after). Real processes: a busy one keeps the set from going quiet and is named as the
// busiest; once it has stopped, the set goes quiet.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, describe, it } from "node:test";
import { everyProcess, waitQuiet } from "../../bench/procs/quiet.ts";

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** A node process that spins until killed (busy) or sleeps until killed (idle); resolves once it runs. */
async function child(busy: boolean): Promise<ChildProcess> {
  const code = busy ? "console.log('up'); for (;;) {}" : "console.log('up'); setInterval(() => {}, 1 << 30);";
  const c = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(c);
  await once(c.stdout!, "data");
  return c;
}

describe("bench: waiting for every process to go idle", () => {
  it("names every target's roles and the mock", () => {
    const roots = everyProcess([{ name: "leash-full", processes: { envoy: [11], sidecar: [12] } }, { name: "litellm", processes: { litellm: [13, 14] } }], 10);
    assert.deepEqual(roots, { mock: [10], "leash-full/envoy": [11], "leash-full/sidecar": [12], "litellm/litellm": [13, 14] });
  });

  it("is not quiet while any target other than the last one measured is busy, and names it; quiet once it stops", async () => {
    const idle = await child(false);
    const busy = await child(true);
    const roots = everyProcess([{ name: "measured-last", processes: { gateway: [idle.pid!] } }, { name: "earlier", processes: { gateway: [busy.pid!] } }], idle.pid!);
    const opts = { thresholdPercent: 10, windowMs: 100, maxMs: 400 };
    const busyResult = await waitQuiet(roots, opts);
    assert.equal(busyResult.quiet, false);
    assert.equal(busyResult.busiest, "earlier/gateway");
    busy.kill("SIGKILL");
    await once(busy, "exit");
    const quietResult = await waitQuiet(roots, { ...opts, maxMs: 5000 });
    assert.equal(quietResult.quiet, true);
  });
});
