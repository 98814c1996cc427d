// Command-line flags of bench/run.ts and the two presets: the full run (issue 7's grid) and the
// smoke run (seconds, Leash and its baselines only, to prove the harness works).

import { parseArgs } from "node:util";
import { resolve } from "node:path";

import { parseSize } from "../load/payload.ts";
import { BASELINE_BUILD, BASELINE_BUILD_MISSING, BENCH_DIR } from "../targets/paths.ts";
import { GRID_TARGETS, TARGET_NAMES, type TargetName } from "../targets/types.ts";

export interface BenchOptions {
  smoke: boolean;
  targets: TargetName[];
  /** Requests per second of the non-streaming points. */
  rates: number[];
  /** Request body sizes in bytes. */
  sizes: number[];
  /** Rates of the streaming (SSE) points, run with the smallest size. Empty: no streaming points. */
  streamRates: number[];
  /** Measured time of one point. */
  durationMs: number;
  /** Load at the point's rate before it is measured (connections, JIT, caches); discarded. */
  warmupMs: number;
  /**
   * Load on each target, once, after all have started and before round 1: at the lowest
   * non-streaming rate with the smallest body, so round 1 does not measure JIT and first-use
   * warm-up (see bench/README.md, "Warming the targets"); not measured. 0: off.
   */
  targetWarmupMs: number;
  rounds: number;
  outDir: string;
  /** Pin the load side and the targets to separate cores with taskset. */
  pin: boolean;
  /** Install missing peers (LiteLLM, Portkey) before the run. */
  install: boolean;
  /** The mock's fixed delay before every response (0: zero-latency mode). */
  mockLatencyMs: number;
  /** The mock's delay between SSE events. */
  chunkDelayMs: number;
  /** Bound on one request. */
  timeoutMs: number;
  /** Keep the scratch directory (configs, Envoy access logs, sidecar and peer logs) for inspection. */
  keepLogs: boolean;
}

export const USAGE: string = `usage: node --import tsx bench/run.ts [flags]
  --smoke                 seconds-long check: direct, envoy-bare, leash-auth at one low rate
  --targets a,b           any of ${TARGET_NAMES.join(", ")} (default: ${GRID_TARGETS.join(", ")}; smoke: the first three)
  --rates 250,1000        requests per second (default 50,250,1000,2000,5000: issue 7's four and one the peers sustain; smoke 50)
  --sizes 1k,8k           request body sizes (default 1k,8k; smoke 1k)
  --stream-rates 250      rates of the streaming points, smallest size (default: the lowest rate; "none" for none)
  --duration 10s          measured time per point (default 10s; smoke 1500ms)
  --warmup 2s             unmeasured load before each point (default 2s; smoke 300ms)
  --target-warmup 15s     unmeasured load on each target before round 1, lowest rate, smallest size (default 15s; smoke 300ms; 0 = off)
  --rounds 3              interleaved rounds; figures are medians over rounds (default 3; smoke 1)
  --out bench/results     where <timestamp>.json/.md/.svg go
  --pin on|off            taskset pinning (default on when taskset and 2+ cores exist)
  --no-install            do not install missing peers; report them as not installed
  --mock-latency-ms 0     the mock's fixed delay before every response
  --chunk-delay-ms 2      the mock's delay between SSE events
  --timeout 10s           bound on one request
  --keep-logs             keep the scratch dir (configs, access logs, process logs) and print its path`;

/** "10s", "1.5s", "500ms", "2m" → milliseconds. */
export function parseDuration(text: string): number {
  const match: RegExpMatchArray | null = text.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m)$/);
  if (match === null) throw new Error(`duration must look like 500ms, 10s or 2m, got "${text}"`);
  const value: number = Number(match[1]);
  const ms: number = match[2] === "ms" ? value : match[2] === "s" ? value * 1000 : value * 60_000;
  if (ms < 100 || ms > 30 * 60_000) throw new Error(`duration must be from 100ms to 30m, got "${text}"`);
  return Math.round(ms);
}

/** A duration that may be "0" (off). */
export function parseOptionalDuration(text: string): number {
  return text.trim() === "0" ? 0 : parseDuration(text);
}

function parseRates(text: string): number[] {
  if (text.trim() === "none") return [];
  return text.split(",").map((part: string): number => {
    const rate: number = Number(part.trim());
    if (!Number.isInteger(rate) || rate < 1 || rate > 50_000) throw new Error(`rates must be integers from 1 to 50000, got "${part}"`);
    return rate;
  });
}

/**
 * Issue 7's rates (250 to 5000/s), and 50/s: on this project's machine LiteLLM is overloaded from
 * 250/s on, so without a lower rate no run holds a point where its overhead, and the ratio
 * against it, can be read.
 */
const DEFAULT_RATES: string = "50,250,1000,2000,5000";

/** Issue 7's comparison, and leash-full-baseline too when there is a baseline build to run. */
function defaultTargets(): string {
  return TARGET_NAMES.filter((n: TargetName) => GRID_TARGETS.includes(n) || (n === "leash-full-baseline" && BASELINE_BUILD !== null)).join(",");
}

function parseTargets(text: string): TargetName[] {
  const names: string[] = text.split(",").map((s: string) => s.trim()).filter((s: string) => s !== "");
  for (const name of names) {
    if (!(TARGET_NAMES as readonly string[]).includes(name)) throw new Error(`unknown target "${name}" (known: ${TARGET_NAMES.join(", ")})`);
  }
  if (names.includes("leash-full-baseline") && BASELINE_BUILD === null) {
    throw new Error(BASELINE_BUILD_MISSING);
  }
  // direct is the baseline every overhead is computed against: always measured.
  const wanted: Set<string> = new Set<string>(["direct", ...names]);
  return TARGET_NAMES.filter((n: TargetName) => wanted.has(n));
}

export function integer(name: string, text: string, min: number, max: number): number {
  const n: number = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      smoke: { type: "boolean", default: false },
      targets: { type: "string" },
      rates: { type: "string" },
      sizes: { type: "string" },
      "stream-rates": { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      "target-warmup": { type: "string" },
      rounds: { type: "string" },
      out: { type: "string" },
      pin: { type: "string", default: "on" },
      "no-install": { type: "boolean", default: false },
      "mock-latency-ms": { type: "string", default: "0" },
      "chunk-delay-ms": { type: "string", default: "2" },
      timeout: { type: "string" },
      "keep-logs": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const smoke: boolean = values.smoke;
  const rates: number[] = parseRates(values.rates ?? (smoke ? "50" : DEFAULT_RATES));
  if (rates.length === 0) throw new Error("--rates needs at least one rate");
  const sizes: number[] = (values.sizes ?? (smoke ? "1k" : "1k,8k")).split(",").map(parseSize);
  if (values.pin !== "on" && values.pin !== "off") throw new Error(`--pin must be on or off, got "${values.pin}"`);
  return {
    smoke,
    targets: parseTargets(values.targets ?? (smoke ? "direct,envoy-bare,leash-auth" : defaultTargets())),
    rates: [...new Set(rates)].sort((a: number, b: number) => a - b),
    sizes: [...new Set(sizes)].sort((a: number, b: number) => a - b),
    streamRates: values["stream-rates"] !== undefined ? parseRates(values["stream-rates"]) : [Math.min(...rates)],
    durationMs: parseDuration(values.duration ?? (smoke ? "1500ms" : "10s")),
    warmupMs: parseDuration(values.warmup ?? (smoke ? "300ms" : "2s")),
    targetWarmupMs: parseOptionalDuration(values["target-warmup"] ?? (smoke ? "300ms" : "15s")),
    rounds: integer("--rounds", values.rounds ?? (smoke ? "1" : "3"), 1, 20),
    outDir: resolve(values.out ?? `${BENCH_DIR}/results`),
    pin: values.pin === "on",
    install: !values["no-install"],
    mockLatencyMs: integer("--mock-latency-ms", values["mock-latency-ms"], 0, 60_000),
    chunkDelayMs: integer("--chunk-delay-ms", values["chunk-delay-ms"], 0, 1000),
    timeoutMs: parseDuration(values.timeout ?? (smoke ? "5s" : "10s")),
    keepLogs: values["keep-logs"],
  };
}
