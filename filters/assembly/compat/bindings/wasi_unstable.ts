// Compatibility shim for @solo-io/proxy-runtime 0.1.8: AssemblyScript 0.27 no longer ships
// "bindings/wasi_unstable". The runtime only needs proc_exit, which Envoy's host provides under
// wasi_snapshot_preview1.

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
export declare function proc_exit(rval: u32): void;
