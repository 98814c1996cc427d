/**
 * The WASI subset Envoy offers to modules (proxy-wasm-cpp-host src/exports.cc, `wasi_unstable_*`),
 * registered under both `wasi_snapshot_preview1` and `wasi_unstable`.
 */
import { LogLevel, WASI_RANDOM_GET_MAX_BYTES, WasiErrno } from "./abi.ts";
import type { HostCore } from "./host-core.ts";
import type { HostFunction } from "./host-functions.ts";
import { bytesToText, concatBytes } from "./memory.ts";

/**
 * Thrown by proc_exit. WASI says proc_exit never returns; Envoy merely logs it and returns, after
 * which WASI-conforming code reaches `unreachable` and traps. The fake host traps right away so the
 * failure is attributed to the exit, and handles it like any trap.
 */
export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`module called proc_exit(${code})`);
  }
}

export function createWasiFunctions(core: HostCore): Record<string, HostFunction> {
  const mem = () => core.memory;
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, writtenPtr: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.BadF;
      const parts: Uint8Array[] = [];
      for (let i: number = 0; i < iovsLen; i++) {
        const buf: number = mem().readU32(iovs + i * 8);
        const len: number = mem().readU32(iovs + i * 8 + 4);
        if (len > 0) parts.push(mem().read(buf, len));
      }
      const data: Uint8Array = concatBytes(parts);
      if (data.length > 0) {
        // Envoy logs stdout at info and stderr at error, minus one trailing newline.
        const message: string = bytesToText(data).replace(/\n$/, "");
        core.log(fd === 1 ? LogLevel.Info : LogLevel.Error, message, fd === 1 ? "stdout" : "stderr");
      }
      mem().writeU32(writtenPtr, data.length);
      return WasiErrno.Success;
    },
    fd_read(): number {
      return WasiErrno.NoSys;
    },
    fd_seek(): number {
      return WasiErrno.Success;
    },
    fd_close(): number {
      return WasiErrno.Success;
    },
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.BadF;
      // fdstat: filetype/flags word 0, rights_base = FD_WRITE (64), rights_inheriting 0.
      mem().writeU64(statPtr, 0n);
      mem().writeU64(statPtr + 8, 64n);
      mem().writeU64(statPtr + 16, 0n);
      return WasiErrno.Success;
    },
    environ_get(arrayPtr: number, bufPtr: number): number {
      for (const [key, value] of Object.entries(core.env)) {
        const entry: Uint8Array = new TextEncoder().encode(`${key}=${value}\u0000`);
        mem().writeU32(arrayPtr, bufPtr);
        mem().write(bufPtr, entry);
        bufPtr += entry.length;
        arrayPtr += 4;
      }
      return WasiErrno.Success;
    },
    environ_sizes_get(countPtr: number, bufSizePtr: number): number {
      const entries: Array<[string, string]> = Object.entries(core.env);
      const size: number = entries.reduce(
        (n: number, [k, v]: [string, string]) => n + new TextEncoder().encode(`${k}=${v}`).length + 1,
        0,
      );
      mem().writeU32(countPtr, entries.length);
      mem().writeU32(bufSizePtr, size);
      return WasiErrno.Success;
    },
    args_get(): number {
      return WasiErrno.Success;
    },
    args_sizes_get(argcPtr: number, bufSizePtr: number): number {
      mem().writeU32(argcPtr, 0);
      mem().writeU32(bufSizePtr, 0);
      return WasiErrno.Success;
    },
    clock_time_get(clockId: number, _precision: bigint, resultPtr: number): number {
      let value: bigint;
      if (clockId === 0) value = core.nowNanoseconds();
      else if (clockId === 1) value = core.monotonicNanoseconds();
      else return WasiErrno.NotSup; // CPU-time clocks are not offered
      mem().writeU64(resultPtr, value);
      return WasiErrno.Success;
    },
    random_get(bufPtr: number, bufLen: number): number {
      if (bufLen > WASI_RANDOM_GET_MAX_BYTES) return WasiErrno.Inval;
      if (bufLen === 0) return WasiErrno.Success;
      mem().write(bufPtr, core.randomBytes(bufLen));
      return WasiErrno.Success;
    },
    proc_exit(code: number): void {
      throw new ProcExit(code);
    },
    path_open(): number {
      return WasiErrno.NoEnt;
    },
    fd_prestat_get(): number {
      return WasiErrno.BadF;
    },
    fd_prestat_dir_name(): number {
      return WasiErrno.NoSys;
    },
  };
}
