// Garbage collection. The modules are built with AssemblyScript's minimal runtime (asconfig.json
// "runtime": "minimal": TLSF allocator and a two-colour mark & sweep collector that runs only when
// called), not the incremental one: the incremental collector keeps every local reference on a
// shadow stack and runs a write barrier on every reference store: its functions were about a fifth
// of the modules' own time per request, and without it the chain's work in the VM is 28 % less
// (bench/chain-vm.ts, 2026-11-27; decision 0008). The minimal collector sees
// only globals and pinned objects, never the wasm stack, so it may run only when no module code is
// on the stack: here, when the host's outermost call into the module returns (a callback the
// host makes while the module is inside a host call, e.g. a local reply sent from a gRPC answer,
// is nested and never collects).
//
// Every entry point of exports.ts brackets its work with enterExport()/leaveExport(); every
// COLLECT_EVERY outermost calls (about eight requests: a request is eight or so callbacks) the last
// one collects before it returns, so garbage of a few requests at most waits for the next run.

/** Outermost host calls into the module between two collections. */
export const COLLECT_EVERY: u32 = 64;

/** Entry points of the module now on the stack (more than one: the host called back into it). */
let depth: i32 = 0;
/** Outermost calls since the last collection. */
let calls: u32 = 0;
/** Collections run so far (for tests). */
let runs: u32 = 0;

/** How many collections have run in this VM. */
export function collections(): u32 {
  return runs;
}

export function enterExport(): void {
  depth++;
}

export function leaveExport(): void {
  depth--;
  if (depth != 0) return;
  calls++;
  if (calls < COLLECT_EVERY) return;
  calls = 0;
  runs++;
  __collect();
}
