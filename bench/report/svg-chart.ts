// Overhead vs rate as an SVG drawn here (no charting dependency): one panel per size and
// percentile (P50, P99), one line per target. The y axis is logarithmic because peers and Leash
// differ by orders of magnitude; overheads at or below the floor (noise, or negative) are drawn
// on the floor as hollow markers. Invalid points are left out, which breaks the line there.

import type { BenchResult, SummaryRow } from "./result-types.ts";
import type { TargetName } from "../targets/types.ts";

const COLORS: Record<TargetName, string> = {
  direct: "#888888",
  "envoy-bare": "#1f77b4",
  "leash-auth": "#d62728",
  "leash-quota": "#e377c2",
  "leash-usage": "#ff7f0e",
  "leash-redact": "#17becf",
  "leash-injection": "#bcbd22",
  "leash-auth-control": "#aec7e8",
  "leash-full": "#8c564b",
  "leash-full-filters": "#e7969c",
  "leash-full-separate": "#c49c94",
  "leash-full-no-redact": "#9edae5",
  "leash-full-no-injection": "#dbdb8d",
  "leash-full-no-quota": "#f7b6d2",
  "leash-full-no-usage": "#ffbb78",
  "leash-full-baseline": "#7f7f7f",
  litellm: "#2ca02c",
  portkey: "#9467bd",
};

const FLOOR_MS: number = 0.01;
const PANEL_W: number = 440;
const PANEL_H: number = 260;
const MARGIN = { left: 60, right: 20, top: 30, bottom: 40 } as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function panel(rows: readonly SummaryRow[], rates: readonly number[], targets: readonly TargetName[], percentile: "p50" | "p99", title: string, x0: number, y0: number, maxLog: number): string {
  const plotW: number = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH: number = PANEL_H - MARGIN.top - MARGIN.bottom;
  const minLog: number = Math.log10(FLOOR_MS);
  const px = (i: number): number => x0 + MARGIN.left + (rates.length === 1 ? plotW / 2 : (i * plotW) / (rates.length - 1));
  const py = (v: number): number => {
    const lg: number = Math.log10(Math.max(v, FLOOR_MS));
    return y0 + MARGIN.top + plotH - ((lg - minLog) / (maxLog - minLog)) * plotH;
  };
  const parts: string[] = [];
  parts.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + 18}" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(`<rect x="${x0 + MARGIN.left}" y="${y0 + MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/>`);
  for (let lg = Math.ceil(minLog); lg <= maxLog; lg++) {
    const y: number = py(10 ** lg);
    parts.push(`<line x1="${x0 + MARGIN.left}" y1="${y}" x2="${x0 + MARGIN.left + plotW}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${x0 + MARGIN.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${10 ** lg >= 1 ? (10 ** lg).toFixed(0) : (10 ** lg).toString()}</text>`);
  }
  parts.push(`<text x="${x0 + 14}" y="${y0 + MARGIN.top + plotH / 2}" font-size="11" transform="rotate(-90 ${x0 + 14} ${y0 + MARGIN.top + plotH / 2})" text-anchor="middle">overhead ms (log)</text>`);
  rates.forEach((rate: number, i: number) => {
    parts.push(`<text x="${px(i)}" y="${y0 + MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${rate}</text>`);
  });
  parts.push(`<text x="${x0 + MARGIN.left + plotW / 2}" y="${y0 + PANEL_H - 6}" text-anchor="middle" font-size="11">requests/s</text>`);
  for (const target of targets) {
    if (target === "direct") continue;
    const color: string = COLORS[target];
    let path: string = "";
    let penDown: boolean = false;
    rates.forEach((rate: number, i: number) => {
      const row: SummaryRow | undefined = rows.find((r: SummaryRow) => r.target === target && r.rate === rate);
      if (row === undefined || !row.valid || row.overheadMs === null) {
        penDown = false;
        return;
      }
      const v: number = row.overheadMs[percentile];
      path += `${penDown ? "L" : "M"}${px(i).toFixed(1)},${py(v).toFixed(1)} `;
      penDown = true;
      const hollow: boolean = v <= FLOOR_MS;
      parts.push(`<circle cx="${px(i).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3.5" fill="${hollow ? "white" : color}" stroke="${color}"><title>${target} ${rate}/s ${percentile}: ${v.toFixed(3)} ms</title></circle>`);
    });
    if (path !== "") parts.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2"/>`);
  }
  return parts.join("\n");
}

export function renderChart(result: BenchResult): string {
  const rows: SummaryRow[] = result.summary.filter((r: SummaryRow) => !r.stream);
  const sizes: string[] = [...new Set(rows.map((r: SummaryRow) => r.size))];
  const rates: number[] = [...new Set(rows.map((r: SummaryRow) => r.rate))].sort((a: number, b: number) => a - b);
  const targets: TargetName[] = result.targets.filter((t) => t.status === "ok").map((t) => t.name);
  let maxValue: number = 1;
  for (const r of rows) if (r.valid && r.overheadMs !== null) maxValue = Math.max(maxValue, r.overheadMs.p99, r.overheadMs.p50);
  const maxLog: number = Math.ceil(Math.log10(maxValue));
  const legendH: number = 40;
  const width: number = PANEL_W * 2;
  const height: number = legendH + PANEL_H * Math.max(sizes.length, 1) + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">Overhead over direct vs rate — ${escapeXml(result.startedAt)}</text>`,
  ];
  let lx: number = 10;
  for (const target of targets.filter((t: TargetName) => t !== "direct")) {
    parts.push(`<line x1="${lx}" y1="32" x2="${lx + 18}" y2="32" stroke="${COLORS[target]}" stroke-width="3"/>`);
    parts.push(`<text x="${lx + 22}" y="36" font-size="12">${target}</text>`);
    lx += 30 + target.length * 7;
  }
  parts.push(`<text x="${width - 10}" y="36" font-size="11" text-anchor="end">hollow: ≤ ${FLOOR_MS} ms; gaps: invalid points</text>`);
  sizes.forEach((size: string, i: number) => {
    const sizeRows: SummaryRow[] = rows.filter((r: SummaryRow) => r.size === size);
    const y0: number = legendH + i * PANEL_H;
    parts.push(panel(sizeRows, rates, targets, "p50", `${size} prompt, P50 overhead`, 0, y0, maxLog));
    parts.push(panel(sizeRows, rates, targets, "p99", `${size} prompt, P99 overhead`, PANEL_W, y0, maxLog));
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
