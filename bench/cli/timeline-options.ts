// Command-line flags of bench/timeline.ts: one target, one rate, where its slow requests fall.

import { parseArgs } from "node:util";
import { resolve } from "node:path";

import { parseSize } from "../load/payload.ts";
import { BENCH_DIR } from "../targets/paths.ts";
import { TARGET_NAMES, type TargetName } from "../targets/types.ts";
import { integer, parseDuration, parseOptionalDuration } from "./options.ts";

export interface TimelineOptions {
  target: TargetName;
  /** Requests per second of the recorded run. */
  rate: number;
  durationMs: number;
  sizeBytes: number;
  /** Unmeasured load before the recorded run (0: none), at `warmupRate`. */
  warmupMs: number;
  warmupRate: number;
  /** A request slower than this, in ms, is slow. */
  slowMs: number;
  /** Slow requests scheduled less than this many ms apart are one episode. */
  episodeGapMs: number;
  timeoutMs: number;
  pin: boolean;
  install: boolean;
  mockLatencyMs: number;
  outDir: string;
}

export const TIMELINE_USAGE: string = `usage: node --import tsx bench/timeline.ts [flags]
  --target leash-auth     one of ${TARGET_NAMES.join(", ")} (default leash-auth)
  --rate 1000             requests per second of the recorded run (default 1000)
  --duration 20s          recorded time (default 20s)
  --size 1k               request body size (default 1k)
  --warmup 15s            unmeasured load before it (default 0: none, the target starts cold)
  --warmup-rate 250       rate of the warm-up (default: --rate)
  --slow-ms 3             a request slower than this is slow (default 3)
  --episode-gap-ms 5      slow requests closer than this form one episode (default 5)
  --timeout 10s           bound on one request
  --pin on|off            taskset pinning as in bench/run.ts (default on)
  --no-install            do not install a missing peer
  --mock-latency-ms 0     the mock's fixed delay before every response
  --out bench/results     where timeline-<timestamp>.json goes`;

function positive(name: string, text: string): number {
  const n: number = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a number above 0, got "${text}"`);
  return n;
}

export function parseTimelineOptions(argv: readonly string[]): TimelineOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      target: { type: "string", default: "leash-auth" },
      rate: { type: "string", default: "1000" },
      duration: { type: "string", default: "20s" },
      size: { type: "string", default: "1k" },
      warmup: { type: "string", default: "0" },
      "warmup-rate": { type: "string" },
      "slow-ms": { type: "string", default: "3" },
      "episode-gap-ms": { type: "string", default: "5" },
      timeout: { type: "string", default: "10s" },
      pin: { type: "string", default: "on" },
      "no-install": { type: "boolean", default: false },
      "mock-latency-ms": { type: "string", default: "0" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${TIMELINE_USAGE}\n`);
    process.exit(0);
  }
  if (!(TARGET_NAMES as readonly string[]).includes(values.target)) {
    throw new Error(`unknown target "${values.target}" (known: ${TARGET_NAMES.join(", ")})`);
  }
  if (values.pin !== "on" && values.pin !== "off") throw new Error(`--pin must be on or off, got "${values.pin}"`);
  const rate: number = integer("--rate", values.rate, 1, 50_000);
  return {
    target: values.target as TargetName,
    rate,
    durationMs: parseDuration(values.duration),
    sizeBytes: parseSize(values.size),
    warmupMs: parseOptionalDuration(values.warmup),
    warmupRate: values["warmup-rate"] !== undefined ? integer("--warmup-rate", values["warmup-rate"], 1, 50_000) : rate,
    slowMs: positive("--slow-ms", values["slow-ms"]),
    episodeGapMs: positive("--episode-gap-ms", values["episode-gap-ms"]),
    timeoutMs: parseDuration(values.timeout),
    pin: values.pin === "on",
    install: !values["no-install"],
    mockLatencyMs: integer("--mock-latency-ms", values["mock-latency-ms"], 0, 60_000),
    outDir: resolve(values.out ?? `${BENCH_DIR}/results`),
  };
}
