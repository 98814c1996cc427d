// What one proxy-wasm host call costs in real Envoy (its V8 runtime), by kind: each probe module
// (bench/vm/host-call-probe.ts) makes one kind of call --calls times per request, loaded as the only
// filter of the leash-injection target; the Envoy CPU per request of a probe minus that of the
// same module making no calls ("none", the baseline, in the same run), divided by --calls, is the
// cost of one call. Every probe runs in every round, in rotating order; the table gives the median
// over rounds and each round's figure. The same rounds measure what the filters themselves cost:
// envoy-bare (no wasm filter), the call-free probe alone (one filter), and all five modules replaced
// by call-free probes: as five filters in one VM (leash-full-filters) and as one filter running the
// five in the module chain (leash-full's layout); and leash-full as shipped (this checkout's build
// and sidecar), whose difference from the call-free chain is the modules' own work and host calls.
//
//   node --import tsx bench/host-calls.ts [--calls 200] [--rate 200] [--duration 10s] [--rounds 3] [--kinds header,header-pairs]
//
// Not a test: it prints a table, writes bench/results/host-calls-<timestamp>.json, asserts nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { integer, parseDuration } from "./cli/options.ts";
import { loadTarget, type LoadSettings } from "./measure.ts";
import { interrupted, onCleanup, runEntry } from "./procs/cleanup.ts";
import { planPinning, pinSelf, type PinPlan } from "./procs/pinning.ts";
import { sampleGroup, usageBetween, type GroupSample } from "./procs/proc-stats.ts";
import { BENCH_DIR } from "./targets/paths.ts";
import { startMock, type RunningMock } from "./targets/mock.ts";
import { startTarget } from "./targets/start.ts";
import type { RunningTarget } from "./targets/types.ts";
import { buildPassThroughChain, buildProbes, PROBE_CALLS } from "./vm/host-call-probe.ts";
import { median } from "./vm/pass-through.ts";

const MODULE_ROOT_IDS: readonly string[] = ["auth", "redact", "injection", "quota", "usage"];

interface Options { calls: number; rate: number; durationMs: number; rounds: number; outDir: string; kinds: string[] }

const USAGE = `usage: node --import tsx bench/host-calls.ts [flags]
  --calls 200        host calls of one kind per request
  --rate 200         requests per second
  --duration 10s     measured time per probe per round
  --rounds 3         rounds (every probe in each, rotating order)
  --kinds a,b        only these probes (and "none", the baseline); default all
  --out bench/results`;

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      calls: { type: "string", default: "200" },
      rate: { type: "string", default: "200" },
      duration: { type: "string", default: "10s" },
      rounds: { type: "string", default: "3" },
      kinds: { type: "string" },
      out: { type: "string", default: join(BENCH_DIR, "results") },
    },
  });
  return {
    calls: integer("--calls", values.calls!, 1, 100_000),
    rate: integer("--rate", values.rate!, 1, 5000),
    durationMs: parseDuration(values.duration!),
    rounds: integer("--rounds", values.rounds!, 1, 20),
    outDir: resolve(values.out!),
    kinds: probeKinds(values.kinds),
  };
}

/** The probes to run: all, or "none" plus the ones named (each must exist). */
function probeKinds(list: string | undefined): string[] {
  if (list === undefined) return Object.keys(PROBE_CALLS);
  const named = list.split(",").map((k) => k.trim()).filter((k) => k !== "");
  const unknown = named.filter((k) => !(k in PROBE_CALLS));
  if (unknown.length > 0) throw new Error(`--kinds: no probe ${unknown.join(", ")} (known: ${Object.keys(PROBE_CALLS).join(", ")})`);
  return ["none", ...named.filter((k) => k !== "none")];
}

const log = (line: string): void => { process.stderr.write(`${line}\n`); };

/** Envoy CPU ms per request of `target` over one measured load at `settings`. */
async function envoyCpuPerRequest(target: RunningTarget, settings: LoadSettings): Promise<{ ms: number; errors: number }> {
  const before: GroupSample = sampleGroup({ envoy: target.processes.envoy });
  const run = await loadTarget(target, settings);
  const after: GroupSample = sampleGroup({ envoy: target.processes.envoy });
  const errors = Object.values(run.errors).reduce((a: number, b: number) => a + b, 0);
  return { ms: usageBetween(before, after).envoy.cpuMs / Math.max(run.ok + errors, 1), errors };
}

/**
 * What wasm filters that do nothing cost Envoy per request: the first one, each further one (five
 * filters in one shared VM), and each further module in the module chain (five in one filter).
 */
function filterLines(zero: readonly number[], one: readonly number[], five: readonly number[], chained: readonly number[], shipped: readonly number[]): string[] {
  const us = (ms: number): string => (ms * 1000).toFixed(1);
  const first = zero.map((z: number, i: number) => one[i] - z);
  const further = one.map((o: number, i: number) => (five[i] - o) / 4);
  const furtherChained = one.map((o: number, i: number) => (chained[i] - o) / 4);
  const work = shipped.map((s: number, i: number) => s - chained[i]);
  return [
    "Filters that do nothing (Envoy CPU µs per request, median over rounds; per round in brackets)",
    "| filters | Envoy CPU per request | per round |",
    "| --- | --- | --- |",
    `| 0 (envoy-bare) | ${us(median(zero))} | ${zero.map(us).join(", ")} |`,
    `| 1 (call-free probe) | ${us(median(one))} | ${one.map(us).join(", ")} |`,
    `| 5 filters, one VM (leash-full-filters, every module a call-free probe) | ${us(median(five))} | ${five.map(us).join(", ")} |`,
    `| 1 filter running 5 modules (leash-full: the module chain, every module a call-free probe) | ${us(median(chained))} | ${chained.map(us).join(", ")} |`,
    `| 1 filter running the 5 shipped modules (leash-full as shipped: this checkout's build, with its sidecar) | ${us(median(shipped))} | ${shipped.map(us).join(", ")} |`,
    `the first filter: ${us(median(first))} µs (${first.map(us).join(", ")}); each further filter: ${us(median(further))} µs (${further.map(us).join(", ")}); each further module in the chain: ${us(median(furtherChained))} µs (${furtherChained.map(us).join(", ")}); the shipped modules' work and host calls over the call-free chain: ${us(median(work))} µs (${work.map(us).join(", ")})`,
  ];
}

async function main(opts: Options): Promise<void> {
  const startedAt = new Date().toISOString();
  const kinds = opts.kinds;
  log(`host-calls: building ${kinds.length} probes (${opts.calls} calls per request)…`);
  const dirs = await buildProbes(kinds, opts.calls);
  const chainDir = await buildPassThroughChain(MODULE_ROOT_IDS);
  const pin: PinPlan = planPinning(true);
  pinSelf(pin);
  const workDir = mkdtempSync(join(tmpdir(), "leash-host-calls-"));
  onCleanup(`work dir ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  const mock: RunningMock = await startMock({ pin, workDir, latencyMs: 0, chunkDelayMs: 2 });
  const targets = new Map<string, RunningTarget>();
  for (const kind of kinds) {
    const dir = join(workDir, kind);
    mkdirSync(dir, { recursive: true });
    targets.set(kind, await startTarget("leash-injection", { mockUrl: mock.url, pin, workDir: dir, installPeers: false, wasmDir: dirs.get(kind)! }));
  }
  // Filter counts: "filters-1" is the call-free probe ("none") itself.
  for (const [entry, name, wasmDir] of [["filters-0", "envoy-bare", undefined], ["filters-5", "leash-full-filters", chainDir], ["chained-5", "leash-full", chainDir], ["shipped-5", "leash-full", undefined]] as const) {
    const dir = join(workDir, entry);
    mkdirSync(dir, { recursive: true });
    targets.set(entry, await startTarget(name, { mockUrl: mock.url, pin, workDir: dir, installPeers: false, wasmDir }));
  }
  const entries = [...targets.keys()];
  const settings = (durationMs: number): LoadSettings => ({ rate: opts.rate, sizeBytes: 1024, durationMs, timeoutMs: 10_000, signal: interrupted });
  for (const entry of entries) await loadTarget(targets.get(entry)!, settings(3000)); // warm each (V8 compile, first-use costs)

  const perRound = new Map<string, number[]>(entries.map((k) => [k, []]));
  let errors = 0;
  for (let round = 0; round < opts.rounds && !interrupted.aborted; round++) {
    const order = [...entries.slice(round % entries.length), ...entries.slice(0, round % entries.length)];
    for (const kind of order) {
      const r = await envoyCpuPerRequest(targets.get(kind)!, settings(opts.durationMs));
      errors += r.errors;
      perRound.get(kind)!.push(r.ms);
      log(`  round ${round + 1} ${kind.padEnd(22)} Envoy ${(r.ms * 1000).toFixed(1)} µs CPU per request${r.errors > 0 ? `, ${r.errors} errors` : ""}`);
    }
  }
  // Per round: probe − baseline of the same round, per call.
  const base = perRound.get("none")!;
  const rows = kinds.filter((k) => k !== "none").map((kind) => {
    const rounds = perRound.get(kind)!.map((ms: number, i: number) => ((ms - base[i]) * 1000) / opts.calls);
    return { kind, what: PROBE_CALLS[kind].what, microsPerCall: median(rounds), perRound: rounds };
  });
  const lines = [
    `Envoy CPU per host call (µs), ${opts.calls} calls per request at ${opts.rate}/s, ${opts.durationMs / 1000} s per probe per round, ${opts.rounds} rounds; baseline (no calls) ${(median(base) * 1000).toFixed(1)} µs per request`,
    "| call | µs per call (median) | per round | what |",
    "| --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.kind} | ${r.microsPerCall.toFixed(2)} | ${r.perRound.map((x) => x.toFixed(2)).join(", ")} | ${r.what} |`),
    errors > 0 ? `errors: ${errors} (figures include them)` : "errors: none",
    "",
    ...filterLines(perRound.get("filters-0")!, base, perRound.get("filters-5")!, perRound.get("chained-5")!, perRound.get("shipped-5")!),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  mkdirSync(opts.outDir, { recursive: true });
  const file = join(opts.outDir, `host-calls-${startedAt.replace(/[:.]/g, "-")}.json`);
  const json = {
    startedAt, options: { ...opts, outDir: undefined }, pinning: pin.description, baselineMsPerRequest: base, rows, errors,
    filters: { noneMsPerRequest: perRound.get("filters-0"), oneMsPerRequest: base, fiveMsPerRequest: perRound.get("filters-5"), chainedMsPerRequest: perRound.get("chained-5"), shippedMsPerRequest: perRound.get("shipped-5") },
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  log(`host-calls: wrote ${relative(process.cwd(), file) || file}`);
}

await runEntry("host-calls", USAGE, () => parseOptions(process.argv.slice(2)), main);
