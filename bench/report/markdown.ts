// The run as markdown: what was measured and how, then the tables. Invalid points are shown as
// "invalid" with the reason listed below the tables, never as numbers.

import type { BenchResult, GoalCheck, ModuleCostRow, RatioRow, SkippedPoint, SummaryRow, SustainedRate, TargetReport, Triple } from "./result-types.ts";
import { errorKindsText, rssBeforeOverload, SUSTAINED_P95_OVERHEAD_MS } from "./summary.ts";

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : "–");
const signed = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? "+" : ""}${v.toFixed(2)}` : "–");
const pct = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : "–");
const mb = (b: number): string => (b > 0 ? (b / 1024 / 1024).toFixed(0) : "–");

function table(header: string[], rows: string[][]): string {
  const lines: string[] = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

function errorsCell(row: SummaryRow): string {
  if (row.errors === 0) return "0";
  return `**${row.errors}** (${errorKindsText(row.errorKinds)})`;
}

function tripleCells(t: Triple | null, format: (v: number) => string): string[] {
  return t === null ? ["", "", ""] : [format(t.p50), format(t.p95), format(t.p99)];
}

function byScenario(a: SummaryRow, b: SummaryRow, order: readonly string[]): number {
  return a.size.localeCompare(b.size, "en", { numeric: true }) || a.rate - b.rate || order.indexOf(a.target) - order.indexOf(b.target);
}

/**
 * Rows for points skipped in every round (a target that failed a lower rate); a point measured in
 * some rounds and skipped in others has its summary row from the measured rounds.
 */
function skippedRows(result: BenchResult, stream: boolean): SummaryRow[] {
  const seen: Set<string> = new Set<string>(result.summary.map((r: SummaryRow) => `${r.target}/${r.scenario}`));
  const rows: Map<string, SummaryRow> = new Map<string, SummaryRow>();
  for (const s of result.skipped.filter((x: SkippedPoint) => x.stream === stream)) {
    const key: string = `${s.target}/${s.scenario}`;
    if (seen.has(key) || rows.has(key)) continue;
    const nan: Triple = { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN };
    rows.set(key, {
      target: s.target,
      scenario: s.scenario,
      size: s.size,
      rate: s.rate,
      stream: s.stream,
      rounds: 0,
      validRounds: 0,
      requests: 0,
      errors: 0,
      errorKinds: {},
      latencyMs: nan,
      overheadMs: null,
      ttftMs: null,
      ttftOverheadMs: null,
      achievedRate: 0,
      targetCpuPercent: Number.NaN,
      dependencyCpuPercent: Number.NaN,
      cpuMsPer1000: Number.NaN,
      generatorCpuPercent: Number.NaN,
      sendLagP99Ms: Number.NaN,
      mockCpuPercent: Number.NaN,
      valid: false,
      invalidReasons: [`skipped: ${s.reason}`],
    });
  }
  return [...rows.values()];
}

function notMeasured(r: SummaryRow): string {
  return r.rounds === 0 ? `skipped (${r.invalidReasons[0].replace(/^skipped: /, "")})` : "invalid";
}

function latencyTable(result: BenchResult): string {
  const order: string[] = result.targets.map((t: TargetReport) => t.name);
  const rows: SummaryRow[] = [...result.summary.filter((r: SummaryRow) => !r.stream), ...skippedRows(result, false)].sort((a, b) => byScenario(a, b, order));
  return table(
    ["size", "rate/s", "target", "rounds", "P50", "P95", "P99", "overhead P50", "overhead P95", "overhead P99", "errors", "sent/s", "target CPU %", "PG+Redis CPU %", "CPU ms/1k req", "gen CPU %", "gen lag P99", "mock CPU %"],
    rows.map((r: SummaryRow): string[] => {
      if (!r.valid) {
        const measured: boolean = r.rounds > 0;
        return [
          r.size,
          String(r.rate),
          r.target,
          `${r.validRounds}/${r.rounds}`,
          notMeasured(r),
          ...["", "", "", "", ""],
          measured ? errorsCell(r) : "",
          measured ? r.achievedRate.toFixed(0) : "",
          pct(r.targetCpuPercent),
          "",
          "",
          pct(r.generatorCpuPercent),
          ms(r.sendLagP99Ms),
          pct(r.mockCpuPercent),
        ];
      }
      return [
        r.size,
        String(r.rate),
        r.target,
        `${r.validRounds}/${r.rounds}`,
        ...tripleCells(r.latencyMs, ms),
        ...tripleCells(r.overheadMs, signed),
        errorsCell(r),
        r.achievedRate.toFixed(0),
        r.target === "direct" ? "" : pct(r.targetCpuPercent),
        r.target.startsWith("leash-") ? pct(r.dependencyCpuPercent) : "",
        r.target === "direct" ? "" : ms(r.cpuMsPer1000),
        pct(r.generatorCpuPercent),
        ms(r.sendLagP99Ms),
        pct(r.mockCpuPercent),
      ];
    }),
  );
}

function streamTable(result: BenchResult): string {
  const order: string[] = result.targets.map((t: TargetReport) => t.name);
  const rows: SummaryRow[] = [...result.summary.filter((r: SummaryRow) => r.stream), ...skippedRows(result, true)].sort((a, b) => byScenario(a, b, order));
  if (rows.length === 0) return "No streaming points in this run.";
  return table(
    ["size", "rate/s", "target", "TTFT P50", "TTFT P95", "TTFT P99", "added P50", "added P95", "added P99", "total P50", "errors"],
    rows.map((r: SummaryRow): string[] =>
      r.valid
        ? [r.size, String(r.rate), r.target, ...tripleCells(r.ttftMs, ms), ...tripleCells(r.ttftOverheadMs, signed), ms(r.latencyMs.p50), errorsCell(r)]
        : [r.size, String(r.rate), r.target, notMeasured(r), "", "", "", "", "", "", r.rounds === 0 ? "" : errorsCell(r)],
    ),
  );
}

function sustainedTable(sustained: readonly SustainedRate[]): string {
  return table(
    ["target", "size", "highest rate sustained", "why not higher"],
    sustained.map((s: SustainedRate) => [s.target, s.size, s.rate === null ? "none" : `${s.rate}/s`, s.note]),
  );
}

function resourceTable(targets: readonly TargetReport[], points: BenchResult["points"]): string {
  return table(
    ["target", "status", "version", "peak RSS (MB) by process", "total peak RSS (MB)", "RSS before first overload (MB)", "what runs"],
    targets.map((t: TargetReport) => [
      t.name,
      t.status === "ok" ? "ok" : `**${t.status}**: ${t.reason.replace(/\|/g, "/").replace(/\n/g, " ").slice(0, 300)}`,
      t.version,
      Object.entries(t.peakRssBytes)
        .map(([role, b]) => `${role} ${mb(b)}`)
        .join(", "),
      t.name === "direct" ? "" : mb(t.totalPeakRssBytes),
      t.name === "direct" ? "" : mb(rssBeforeOverload(points, t.name)),
      t.description,
    ]),
  );
}

function ratioTable(ratios: readonly RatioRow[]): string {
  if (ratios.length === 0) return "No pair of valid points to compare.";
  return table(
    ["scenario", "pct", "target", "vs", "target overhead", "vs overhead", "ratio"],
    ratios.map((r: RatioRow) => [
      r.scenario,
      r.percentile.toUpperCase(),
      r.target,
      r.versus,
      signed(r.targetOverheadMs),
      signed(r.versusOverheadMs),
      r.ratio === null ? `n/a (${r.note})` : `${r.ratio.toFixed(2)}×`,
    ]),
  );
}

/** The status, and which of its percentiles the A/A control says this run cannot resolve. */
function statusCell(r: ModuleCostRow): string {
  const status: string = r.status === "missed" ? "**missed**" : r.status;
  if (r.control === undefined || r.status === "control") return status;
  const aa: string = `A/A ${signed(r.control.p50Ms)} / ${signed(r.control.p99Ms)}`;
  const unresolved: string[] = (r.unresolved ?? []).map((p: string) => p.toUpperCase());
  return unresolved.length === 0
    ? `${status} (${aa}: both goals larger than the A/A difference)`
    : `${status} (${aa}: ${unresolved.join(" and ")} goal within the A/A difference, not resolved by this run)`;
}

function moduleCostTable(rows: readonly ModuleCostRow[]): string {
  if (rows.length === 0) return "No module target with its base in this run (e.g. `--targets leash-auth,leash-quota`).";
  const cell = (v: number | null, goal: number, control: boolean): string =>
    v === null ? "invalid" : control ? `${signed(v)} (noise)` : `${signed(v)} (goal ≤ ${goal.toFixed(2)})`;
  const rounds = (r: ModuleCostRow, pick: (x: { p50Ms: number; p99Ms: number }) => number): string =>
    r.perRound === undefined || r.perRound.length === 0 ? "" : r.perRound.map((x) => signed(pick(x))).join(", ");
  return table(
    ["module", "measured as", "scenario", "added P50 ms", "added P99 ms", "status", "P50 per round", "P99 per round"],
    rows.map((r: ModuleCostRow) => [
      r.module,
      `${r.target} − ${r.base}`,
      r.scenario,
      cell(r.p50Ms, r.goalP50Ms, r.status === "control"),
      cell(r.p99Ms, r.goalP99Ms, r.status === "control"),
      statusCell(r),
      rounds(r, (x) => x.p50Ms),
      rounds(r, (x) => x.p99Ms),
    ]),
  );
}

function goalTable(goals: readonly GoalCheck[]): string {
  return table(
    ["issue 7 target (Leash's full chain: leash-full, else leash-auth)", "measured", "status", "missed by"],
    goals.map((g: GoalCheck) => [g.goal, g.measured, g.status === "missed" ? "**missed**" : g.status, g.by]),
  );
}

function invalidList(rows: readonly SummaryRow[], skipped: readonly SkippedPoint[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    if (r.invalidReasons.length === 0) continue;
    const verdict: string = r.valid ? `figures from ${r.validRounds} of ${r.rounds} rounds` : `invalid (${r.validRounds} of ${r.rounds} rounds valid)`;
    lines.push(`- ${r.target} ${r.scenario}, ${verdict}: ${[...new Set(r.invalidReasons)].join("; ")}`);
  }
  for (const s of skipped) lines.push(`- ${s.target} ${s.scenario} round ${s.round}: skipped, ${s.reason}`);
  return lines.length === 0 ? "None: the generator and the mock kept up at every point." : lines.join("\n");
}

/** The plan's words on the warm-up before round 1, with any errors it ignored. */
function targetWarmup(result: BenchResult): string {
  const w = result.targetWarmup;
  // Runs written before the warm-up existed did not warm their targets.
  if (w === undefined) return "targets not warmed before round 1";
  const failed: string[] = w.targets
    .filter((t) => Object.keys(t.errors).length > 0)
    .map((t) => `${t.target} ${errorKindsText(t.errors)}`);
  return failed.length === 0 ? w.description : `${w.description} (errors during it, ignored: ${failed.join("; ")})`;
}

export function renderMarkdown(result: BenchResult): string {
  const o = result.options;
  const m = result.machine;
  return `# Leash benchmark ${result.startedAt}${result.smoke ? " (smoke)" : ""}

- Command: \`${result.command}\`
- Leash: commit ${result.source.commit}${result.source.dirty ? " with uncommitted changes" : ""}
- Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, Envoy ${m.envoy}
- Placement: ${result.pinning}
- Load: ${result.generator}
- Plan: ${o.rounds} interleaved round(s); ${o.durationMs} ms measured per point after ${o.warmupMs} ms warm-up; sizes ${o.sizes.join(", ")}; rates ${o.rates.join(", ")}/s; streaming at ${o.streamRates.length > 0 ? `${o.streamRates.join(", ")}/s` : "none"}; request timeout ${o.timeoutMs} ms; ${targetWarmup(result)}
- Mock: ${o.mockLatencyMs === 0 ? "zero-latency" : `fixed ${o.mockLatencyMs} ms latency`}, ${o.chunkDelayMs} ms between SSE events
- Figures are medians over the valid rounds ("rounds" = valid/measured) of each round's value, in ms. Overhead = target pN − direct pN in the same round. Latency runs from each request's *scheduled* start.

## Latency and overhead vs direct (non-streaming)

${latencyTable(result)}

## Streaming: time to first token (SSE)

${streamTable(result)}

## Highest sustained rate (P95 overhead < ${SUSTAINED_P95_OVERHEAD_MS} ms, zero errors, valid)

${sustainedTable(result.sustained)}

## Targets and memory

Peak RSS is each process's high-water mark (VmHWM) over the whole run, overload points (thousands of open connections) included; the next column is the largest RSS at the end of the target's points before its first point with errors (memory taken under overload is not given back).

${resourceTable(result.targets, result.points)}

## Overhead ratios

${ratioTable(result.ratios)}

## Module cost (a module's target minus the same gateway without it)

Overhead over direct of the target minus that of its base, per scenario: a difference of percentiles (of the two rows' medians over rounds). The status is against the module's budget at the rate its issue states it (quota: issue 4, 1000 RPS). "Per round" is the same difference within each round (both targets measured minutes apart), in round order: its spread is the noise the status is read against. With \`leash-auth-control\` in the run (\`--targets leash-auth,leash-auth-control,leash-quota\`), the "A/A control" row is the same difference between two identical gateways: what the machine's noise alone makes of it.

${moduleCostTable(result.moduleCosts ?? [])}

## Issue 7 targets

${goalTable(result.goals)}

## Invalid and skipped points

A target's higher rates are skipped in a round once it fails a lower one (over 1 % errors or P95 over 1 s). A row's figures are medians over its valid rounds, and the row is invalid when fewer than half are. A point is invalid when the load side could not keep up (${result.validity.join("; ")}).

${invalidList(result.summary, result.skipped)}
`;
}
