// Host calls per request of a module in the fake host: which proxy-wasm imports one request makes,
// and how often (FakeHostOptions.countCalls). Deterministic, unlike a timing, so a change that
// saves a host call shows as exactly that.
import type { FakeHost } from "../../test/host/index.ts";

export interface CallCount {
  call: string;
  perRequest: number;
}

/**
 * Runs `warm` requests, then `n` counted ones, and returns the calls per request (by function and
 * by function and key), most frequent first. `counts` must be the map the host was loaded with.
 */
export function hostCallsPerRequest(host: FakeHost, counts: Map<string, number>, request: (host: FakeHost) => void, warm: number, n: number): CallCount[] {
  for (let i = 0; i < warm; i++) request(host);
  counts.clear();
  for (let i = 0; i < n; i++) request(host);
  return [...counts].map(([call, c]) => ({ call, perRequest: c / n })).sort((a, b) => b.perRequest - a.perRequest || a.call.localeCompare(b.call));
}

/** The calls as a markdown table; `total` first: every import call of a request. */
export function callTable(rows: CallCount[]): string {
  const byFunction = rows.filter((r) => !r.call.includes(" "));
  const total = byFunction.reduce((a, r) => a + r.perRequest, 0);
  const lines = ["| host call (and key) | per request |", "|---|---:|", `| all | ${fmt(total)} |`];
  for (const r of byFunction) {
    lines.push(`| ${r.call} | ${fmt(r.perRequest)} |`);
    for (const k of rows) if (k.call.startsWith(r.call + " ")) lines.push(`| &nbsp;&nbsp;${k.call.slice(r.call.length + 1)} | ${fmt(k.perRequest)} |`);
  }
  return lines.join("\n");
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
