/**
 * Links a module against exactly what Envoy offers, and refuses what Envoy refuses: unknown
 * imports, imports with a different signature, callbacks with a bad signature, no memory, no
 * allocator, no (supported) ABI version marker.
 */
import {
  ABI_SPECIFIC_HOST_FUNCTIONS,
  ABI_VERSION_EXPORTS,
  ENV_EXTRA_FUNCTIONS,
  MODULE_EXPORT_SIGNATURES,
  PROXY_HOST_FUNCTIONS,
  WASI_FUNCTIONS,
  WASI_MODULES,
  WasiErrno,
  WasmResult,
} from "./abi.ts";
import type { AbiVersion, Signature } from "./abi.ts";
import type { HostFunction } from "./host-functions.ts";
import { InvalidMemoryAccess } from "./memory.ts";
import { formatSignature, sameSignature } from "./wasm-binary.ts";
import type { ExportEntry, ModuleShape } from "./wasm-binary.ts";

/** Envoy would not load this module; `problems` lists every reason found. */
export class ModuleRejected extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Envoy would refuse to load ${source}:\n  - ${problems.join("\n  - ")}`);
    this.name = "ModuleRejected";
  }
}

/** Called before every import runs (the host uses it to refuse calls while the VM starts). */
export type ImportGuard = (qualifiedName: string) => void;

export interface OfferedImports {
  object: WebAssembly.Imports;
  /** "module.name" → signature of everything offered. */
  signatures: Map<string, Signature>;
}

/** Reads the `proxy_abi_version_*` marker; Envoy fails a module without a known one. */
export function detectAbiVersion(shape: ModuleShape, source: string): "0.2.0" | "0.2.1" {
  const names: Set<string> = new Set(shape.exports.map((e: ExportEntry) => e.name));
  let found: AbiVersion | undefined;
  for (const [name, version] of ABI_VERSION_EXPORTS) if (names.has(name)) found = version;
  if (found === undefined) throw new ModuleRejected(source, ["Missing or unknown Proxy-Wasm ABI version"]);
  if (found === "0.1.0") {
    throw new ModuleRejected(source, ["ABI 0.1.0 module: this fake host only implements ABI 0.2.x"]);
  }
  return found;
}

/**
 * Wraps an implementation as a wasm import: runs the guard, converts i32 arguments to unsigned
 * (JS receives them signed), and maps an out-of-bounds pointer to the status Envoy returns for it.
 */
function wrap(qualifiedName: string, fn: HostFunction, badMemoryStatus: number, guard: ImportGuard): HostFunction {
  return (...args: Array<number | bigint>): number | void => {
    guard(qualifiedName);
    const converted: Array<number | bigint> = args.map((a: number | bigint) => (typeof a === "number" ? a >>> 0 : a));
    try {
      return fn(...converted);
    } catch (e: unknown) {
      if (e instanceof InvalidMemoryAccess) return badMemoryStatus;
      throw e;
    }
  };
}

/** The import object for a module of ABI `abi`: env (proxy_* + extras) and both WASI modules. */
export function offerImports(
  abi: "0.2.0" | "0.2.1",
  proxy: Readonly<Record<string, HostFunction>>,
  wasi: Readonly<Record<string, HostFunction>>,
  guard: ImportGuard,
): OfferedImports {
  const signatures: Map<string, Signature> = new Map();
  const env: Record<string, HostFunction> = {};
  const envSignatures: Record<string, Signature> = {
    ...PROXY_HOST_FUNCTIONS,
    ...ABI_SPECIFIC_HOST_FUNCTIONS[abi],
    ...ENV_EXTRA_FUNCTIONS,
  };
  for (const [name, signature] of Object.entries(envSignatures)) {
    const impl: HostFunction | undefined = proxy[name];
    if (impl === undefined) throw new Error(`fake host bug: no implementation for env.${name}`);
    env[name] = wrap(`env.${name}`, impl, WasmResult.InvalidMemoryAccess, guard);
    signatures.set(`env.${name}`, signature);
  }
  const object: WebAssembly.Imports = { env };
  for (const module of WASI_MODULES) {
    const fns: Record<string, HostFunction> = {};
    for (const [name, signature] of Object.entries(WASI_FUNCTIONS)) {
      const impl: HostFunction | undefined = wasi[name];
      if (impl === undefined) throw new Error(`fake host bug: no implementation for ${module}.${name}`);
      fns[name] = wrap(`${module}.${name}`, impl, WasiErrno.Fault, guard);
      signatures.set(`${module}.${name}`, signature);
    }
    object[module] = fns;
  }
  return { object, signatures };
}

/** Every import must be a function Envoy offers, with the same signature. Returns what is wrong. */
export function importProblems(shape: ModuleShape, offered: OfferedImports, abi: string): string[] {
  const problems: string[] = [];
  for (const imp of shape.imports) {
    const qualified: string = `${imp.module}.${imp.name}`;
    if (imp.kind !== "function") {
      problems.push(`imports ${imp.kind} ${qualified}, but Envoy only provides functions`);
      continue;
    }
    const offeredSignature: Signature | undefined = offered.signatures.get(qualified);
    if (offeredSignature === undefined) {
      problems.push(`imports ${qualified}, which Envoy does not provide under ABI ${abi}`);
    } else if (imp.signature !== undefined && !sameSignature(imp.signature, offeredSignature)) {
      problems.push(
        `imports ${qualified} as ${formatSignature(imp.signature)}, but Envoy provides ${formatSignature(offeredSignature)}`,
      );
    }
  }
  return problems;
}

/**
 * The callbacks Envoy will call must have the signature it calls them with; memory and an
 * allocator must exist. Returns what is wrong.
 */
export function exportProblems(shape: ModuleShape): string[] {
  const problems: string[] = [];
  const byName: Map<string, ExportEntry> = new Map(shape.exports.map((e: ExportEntry) => [e.name, e]));
  if (byName.get("memory")?.kind !== "memory") problems.push("exports no memory named 'memory'");
  if (!byName.has("malloc") && !byName.has("proxy_on_memory_allocate")) {
    problems.push("Wasm module is missing malloc function (export malloc or proxy_on_memory_allocate)");
  }
  for (const [name, expected] of Object.entries(MODULE_EXPORT_SIGNATURES)) {
    const entry: ExportEntry | undefined = byName.get(name);
    if (entry === undefined) continue;
    if (entry.kind !== "function" || entry.signature === undefined) {
      problems.push(`export ${name} is not a function`);
    } else if (!sameSignature(entry.signature, expected)) {
      problems.push(
        `Bad function signature for: ${name} (${formatSignature(entry.signature)}, expected ${formatSignature(expected)})`,
      );
    }
  }
  return problems;
}
