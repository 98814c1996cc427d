// Probe modules for bench/host-calls.ts: each makes one kind of proxy-wasm host call N times in
// every request's onRequestHeaders, through the SDK as the modules do (or, for "header-raw", the
// bare ABI call with a pre-encoded name and no decoding: the host's share of a header read). Built
// with the project's asconfig.json (release) and registered under the root id "injection", so the
// leash-injection target loads them in place of injection.wasm. buildPassThroughChain() builds the
// call-free probe under each module's root id, so a multi-module target runs that many filters that
// do nothing: what the filters themselves cost Envoy.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BASE = join(ROOT, "bench", ".peers", "host-calls");

/** What each probe calls once per iteration (AssemblyScript statements). */
export const PROBE_CALLS: Readonly<Record<string, { what: string; statement: string }>> = {
  none: { what: "nothing (the baseline: the same module with no calls)", statement: "" },
  clock: { what: "proxy_get_current_time_nanoseconds (nowNanos)", statement: "sink += nowNanos();" },
  header: { what: "request header read through the SDK (getRequestHeader: encode name, call, decode)", statement: 'const h = getRequestHeader("content-type"); if (h != null) sink += <u64>h.length;' },
  "header-pairs": { what: "all request headers at once (getHeaders: proxy_get_header_map_pairs, decoded to strings)", statement: "sink += <u64>getHeaders(HeaderMap.RequestHeaders).length;" },
  "header-raw": { what: "proxy_get_header_map_value with a pre-encoded name, no decoding (the host's share)", statement: "resetOut(); if (raw.proxy_get_header_map_value(0, changetype<usize>(NAME), <usize>NAME.byteLength, outPtr(), outSize()) == 0) sink += <u64>takeHostBuffer().byteLength;" },
  "property-request": { what: "property read request.path (getPropertyString)", statement: 'const p = getPropertyString(["request", "path"]); if (p != null) sink += <u64>p.length;' },
  "property-filter-state": { what: "filter state read (getPropertyString of a value this module set)", statement: 'const p = getPropertyString(["leash.probe"]); if (p != null) sink += <u64>p.length;' },
  "set-property": { what: "filter state write (setProperty, same name each time)", statement: 'setProperty("leash.probe", "abcdefghijkl");' },
  "replace-header": { what: "request header replace (replaceHeader)", statement: 'replaceHeader(HeaderMap.RequestHeaders, "x-probe", "12345");' },
  metric: { what: "counter increment (proxy_increment_metric)", statement: "counter!.increment(1);" },
};

/**
 * A probe module making `calls` calls of `statement` per request, registered under each of
 * `rootIds`, and with more than one also the module chain (root id "chain"), as leash.wasm has.
 */
function source(statement: string, calls: number, rootIds: readonly string[] = ["injection"]): string {
  const chain = rootIds.length > 1;
  return `import { registerRootContext } from "../../../filters/assembly/sdk/registry";${chain ? `
import { ChainRoot } from "../../../filters/assembly/sdk/chain";` : ""}
import { RootContext, HttpContext } from "../../../filters/assembly/sdk/context";
import { HeadersAction, HeaderMap } from "../../../filters/assembly/sdk/abi";
import { nowNanos, getHeaders, getRequestHeader, getPropertyString, setProperty, replaceHeader } from "../../../filters/assembly/sdk/host";
import { resetOut, outPtr, outSize, takeHostBuffer } from "../../../filters/assembly/sdk/memory";
import { Counter } from "../../../filters/assembly/sdk/metrics";
import * as raw from "../../../filters/assembly/sdk/imports";
export * from "../../../filters/assembly/sdk/exports";
let sink: u64 = 0;
let counter: Counter | null = null;
const NAME: ArrayBuffer = String.UTF8.encode("content-type");
class ProbeRoot extends RootContext {
  onConfigure(configuration: string): bool { counter = new Counter("leash_probe.calls"); return true; }
  newHttpContext(id: u32): HttpContext { return new ProbeStream(id, this); }
}
class ProbeStream extends HttpContext {
  onRequestHeaders(headerCount: u32, endOfStream: bool): HeadersAction {
    setProperty("leash.probe", "abcdefghijkl");
    for (let i = 0; i < ${calls}; i++) { ${statement} }
    if (sink == 1) replaceHeader(HeaderMap.RequestHeaders, "x-probe-sink", "1");
    return HeadersAction.Continue;
  }
}
function newProbeRoot(id: u32): RootContext { return new ProbeRoot(id); }
${rootIds.map((id: string) => `registerRootContext("${id}", newProbeRoot);`).join("\n")}${chain ? `
function newChainRoot(id: u32): RootContext { return new ChainRoot(id); }
registerRootContext("chain", newChainRoot);` : ""}
`;
}

/** Writes `text` as bench/.peers/host-calls/<name>.ts (every source in one folder: its imports are relative) and builds it to `outFile`. */
async function compile(name: string, text: string, outFile: string): Promise<void> {
  const src = join(BASE, `${name}.ts`);
  writeFileSync(src, text);
  const r = await asc.main([src, "--baseDir", ROOT, "--config", "asconfig.json", "--target", "release", "--outFile", outFile]);
  if (r.error) throw new Error(`building the ${name} probe: ${r.error.message}`);
}

/** Builds one probe per kind into bench/.peers/host-calls/<kind>/injection.wasm; returns kind → directory. */
export async function buildProbes(kinds: readonly string[], calls: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const kind of kinds) {
    const dir = join(BASE, kind);
    mkdirSync(dir, { recursive: true });
    await compile(kind, source(PROBE_CALLS[kind].statement, kind === "none" ? 0 : calls), join(dir, "injection.wasm"));
    // The same binary as leash.wasm, which Envoy loads when the modules share a VM (the default).
    copyFileSync(join(dir, "injection.wasm"), join(dir, "leash.wasm"));
    out.set(kind, dir);
  }
  return out;
}

/**
 * The call-free probe under each root id (one `<id>.wasm` each), and one leash.wasm with it under
 * every root id and the module chain for a shared VM (the default), in bench/.peers/host-calls/chain-<n>; returns the directory.
 */
export async function buildPassThroughChain(rootIds: readonly string[]): Promise<string> {
  const name = `chain-${rootIds.length}`;
  const dir = join(BASE, name);
  mkdirSync(dir, { recursive: true });
  for (const id of rootIds) await compile(`${name}-${id}`, source("", 0, [id]), join(dir, `${id}.wasm`));
  await compile(`${name}-leash`, source("", 0, rootIds), join(dir, "leash.wasm"));
  return dir;
}
