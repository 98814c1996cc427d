// bench/chain-vm.ts run as a user would (a child process, a few hundred requests): the whole
// module chain of build/release/leash.wasm forwards every request in the fake host (the bench
// refuses to report otherwise), the sidecar's answers reach it, and the JSON names both builds.
// Timings are never asserted. Needs `npm run build`.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "leash-chain-vm-"));
after(() => rmSync(out, { recursive: true, force: true }));

describe("bench/chain-vm.ts", () => {
  it("runs the five modules as one chain beside a baseline build and writes its figures", () => {
    const wasm = join(ROOT, "build", "release", "leash.wasm");
    const run = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "bench", "chain-vm.ts"), "--iterations", "200", "--rounds", "1", `--baseline=${wasm}`, "--out", out], { cwd: ROOT, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /chain − baseline/);
    const files = readdirSync(out).filter((f) => f.startsWith("chain-vm-") && f.endsWith(".json"));
    assert.equal(files.length, 1);
    const result = JSON.parse(readFileSync(join(out, files[0]), "utf8"));
    assert.equal(result.wasm, wasm);
    assert.equal(result.baseline, wasm);
    // 3 builds × 1 round × (200 + 2000 warm-up) requests, each reported once by the usage module.
    assert.ok(result.sidecarCalls.authorize >= 2, JSON.stringify(result.sidecarCalls));
    assert.ok(result.sidecarCalls.reserve >= 2, JSON.stringify(result.sidecarCalls));
    assert.ok(result.sidecarCalls.reports > 0 && result.sidecarCalls.reports <= 2 * 2200, JSON.stringify(result.sidecarCalls));
    for (const row of result.rounds) assert.ok(row.p50 > 0 && row.p50 <= row.p95 && row.p95 <= row.p99, JSON.stringify(row));
  });

  it("counts the host calls of one request, and the modules' memory stops growing (garbage is collected)", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "bench", "chain-vm.ts"), "--iterations", "2000", "--rounds", "3", "--count-calls", "--out", out], { cwd: ROOT, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const file = readdirSync(out).filter((f) => f.startsWith("chain-vm-") && f.endsWith(".json")).sort().at(-1)!;
    const result = JSON.parse(readFileSync(join(out, file), "utf8"));
    const calls: Array<{ call: string; perRequest: number }> = result.hostCalls["chain of five modules"];
    const perRequest = (call: string): number => calls.find((c) => c.call === call)?.perRequest ?? 0;
    // The request headers are read at once (no request header one by one); every response carries
    // quota's headers.
    assert.ok(perRequest("proxy_get_header_map_pairs") >= 1, JSON.stringify(calls));
    assert.deepEqual(calls.filter((c) => c.call.startsWith("proxy_get_header_map_value 0 ")), []);
    assert.equal(perRequest("proxy_replace_header_map_value 2 x-ratelimit-remaining-requests"), 1);
    assert.ok(perRequest("proxy_get_header_map_value 2 :status") === 1, JSON.stringify(calls));
    // Linear memory only grows: after the first round (4000 requests with the warm-up) it must not
    // grow in the next two (another 8000). Without collection each request's garbage stays.
    const memory = result.rounds.filter((r: { module: string }) => r.module === "chain of five modules").map((r: { memoryBytes: number }) => r.memoryBytes);
    assert.equal(memory.length, 3);
    assert.equal(memory[2], memory[0], `wasm memory by round: ${memory.join(", ")}`);
  });
});
