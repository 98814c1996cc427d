// Compatibility shim for @solo-io/proxy-runtime 0.1.8, which was written for AssemblyScript 0.14's
// reference-counting runtime ("rt/index-full", __retain/__release). AssemblyScript >= 0.18 uses a
// tracing GC: an object the host holds a raw pointer to must be pinned so the collector neither
// frees nor moves it, and unpinned once the module owns a managed reference again.

// @ts-ignore: decorator
@inline
export function __retain(ptr: usize): usize {
  return __pin(ptr);
}

// @ts-ignore: decorator
@inline
export function __release(ptr: usize): void {
  __unpin(ptr);
}
