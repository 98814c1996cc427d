/**
 * Just enough of a WebAssembly binary reader to recover the signatures of a module's imported and
 * exported functions.
 *
 * Why: a JavaScript import object adapts to whatever signature the module declares, so Node would
 * happily link a module that declares `proxy_increment_metric(i32, i32)`; Envoy's V8 integration
 * compares signatures and refuses it. Reading the type, import, function and export sections lets
 * the fake host refuse the same modules Envoy refuses. (Node 20 has no stable type reflection.)
 */
import type { Signature, ValType } from "./abi.ts";

/** One import of the module, with its signature when it is a function. */
export interface ImportEntry {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  signature?: Signature;
}

/** One export of the module, with its signature when it is a function. */
export interface ExportEntry {
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  signature?: Signature;
}

export interface ModuleShape {
  imports: ImportEntry[];
  exports: ExportEntry[];
}

const VAL_TYPES: Readonly<Record<number, ValType>> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};
const EXTERNAL_KINDS: ReadonlyArray<ExportEntry["kind"]> = ["function", "table", "memory", "global", "tag"];

/** Sequential reader over the module bytes with the LEB128 and name encodings of the format. */
class Reader {
  offset: number = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }
  byte(): number {
    if (this.offset >= this.bytes.length) throw new Error("wasm binary: unexpected end of data");
    return this.bytes[this.offset++]!;
  }
  /** Unsigned LEB128; values used here (counts, indices, sizes) fit a JS number. */
  u32(): number {
    let result: number = 0;
    let shift: number = 0;
    for (;;) {
      const b: number = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }
  name(): string {
    const len: number = this.u32();
    const s: string = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + len));
    this.offset += len;
    return s;
  }
  valType(): ValType {
    const code: number = this.byte();
    const t: ValType | undefined = VAL_TYPES[code];
    if (t === undefined) throw new Error(`wasm binary: unknown value type 0x${code.toString(16)}`);
    return t;
  }
  /** Table/memory limits: a flags byte, a minimum and (flag bit 0) a maximum. */
  limits(): void {
    const flags: number = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

/** Parses the sections needed for signatures; other sections are skipped by their size. */
export function readModuleShape(bytes: Uint8Array): ModuleShape {
  const r: Reader = new Reader(bytes);
  const magic: number = r.byte() | (r.byte() << 8) | (r.byte() << 16) | (r.byte() << 24);
  if (magic !== 0x6d736100) throw new Error("not a WebAssembly binary (bad magic)");
  r.offset = 8; // skip the version word

  const types: Signature[] = [];
  const imports: ImportEntry[] = [];
  const functionTypeIndices: number[] = []; // function index space: imports first, then definitions
  const rawExports: Array<{ name: string; kind: ExportEntry["kind"]; index: number }> = [];

  while (!r.done) {
    const id: number = r.byte();
    const size: number = r.u32();
    const end: number = r.offset + size;
    switch (id) {
      case 1: {
        // type section
        for (let n: number = r.u32(); n > 0; n--) {
          const form: number = r.byte();
          if (form !== 0x60) throw new Error(`wasm binary: unsupported type form 0x${form.toString(16)}`);
          const params: ValType[] = [];
          for (let p: number = r.u32(); p > 0; p--) params.push(r.valType());
          const results: ValType[] = [];
          for (let q: number = r.u32(); q > 0; q--) results.push(r.valType());
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        // import section
        for (let n: number = r.u32(); n > 0; n--) {
          const module: string = r.name();
          const name: string = r.name();
          const kindCode: number = r.byte();
          const kind: ImportEntry["kind"] = EXTERNAL_KINDS[kindCode] ?? "tag";
          const entry: ImportEntry = { module, name, kind };
          if (kindCode === 0) {
            const typeIndex: number = r.u32();
            entry.signature = types[typeIndex];
            functionTypeIndices.push(typeIndex);
          } else if (kindCode === 1) {
            r.byte(); // element reference type
            r.limits();
          } else if (kindCode === 2) {
            r.limits();
          } else if (kindCode === 3) {
            r.valType();
            r.byte(); // mutability
          } else {
            r.byte(); // tag attribute
            r.u32(); // tag type index
          }
          imports.push(entry);
        }
        break;
      }
      case 3: {
        // function section: type index of each defined function
        for (let n: number = r.u32(); n > 0; n--) functionTypeIndices.push(r.u32());
        break;
      }
      case 7: {
        // export section
        for (let n: number = r.u32(); n > 0; n--) {
          const name: string = r.name();
          const kind: ExportEntry["kind"] = EXTERNAL_KINDS[r.byte()] ?? "tag";
          rawExports.push({ name, kind, index: r.u32() });
        }
        break;
      }
      default:
        break;
    }
    r.offset = end;
  }

  const exports: ExportEntry[] = rawExports.map((e) => {
    const entry: ExportEntry = { name: e.name, kind: e.kind };
    if (e.kind === "function") {
      const typeIndex: number | undefined = functionTypeIndices[e.index];
      if (typeIndex !== undefined) entry.signature = types[typeIndex];
    }
    return entry;
  });
  return { imports, exports };
}

/** Renders a signature the way error messages show it: `(i32, i64) -> i32`. */
export function formatSignature(s: Signature): string {
  return `(${s.params.join(", ")}) -> ${s.results.length === 0 ? "void" : s.results.join(", ")}`;
}

export function sameSignature(a: Signature, b: Signature): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((t: ValType, i: number) => t === b.params[i]) &&
    a.results.every((t: ValType, i: number) => t === b.results[i])
  );
}
