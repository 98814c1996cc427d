// The sidecar's V8 heap policy, applied at startup by main.ts however the process was launched
// (leash start, docker-compose, a Kubernetes container command).
//
// Under load the sidecar's live heap is small (about 20-25 MB at 1000 requests/s: label sets,
// recent request ids, the bundle's source and code), but V8 lets the old generation grow to about
// three times what the last full collection left before collecting it again (21 MB left, the next
// one at 60 MB), and resident memory follows. A growing factor of 1.5 collects sooner
// (docs/decisions/0009-sidecar-heap-growth.md has the measurements).
import { setFlagsFromString } from "node:v8";

/** Old-generation growth allowed after a full collection, in percent of what it left. */
export const HEAP_GROWING_PERCENT: number = 50;

/** The V8 flag to set, or null when the operator chose one on node's command line. */
export function heapFlag(execArgv: readonly string[]): string | null {
  const given = execArgv.some((a: string) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));
  return given ? null : `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

/** Applies {@link heapFlag} to this process's V8 (read at every full collection); returns the flag set, or null. */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, set: (flag: string) => void = setFlagsFromString): string | null {
  const flag = heapFlag(execArgv);
  if (flag !== null) set(flag);
  return flag;
}
