// A minimal proxy-wasm module, encoded byte by byte. Envoy's validate mode loads and starts every
// wasm VM it finds in the config, so an empty placeholder file fails; this stub passes without
// depending on the real filters being built. It accepts any plugin config and lets every request
// through (proxy_on_request_headers returns Continue).

const I32: number = 0x7f;

/** Unsigned LEB128, the encoding of every count and index in the binary format. */
function u32(value: number): number[] {
  const out: number[] = [];
  let rest: number = value >>> 0;
  do {
    let byte: number = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

/** Signed LEB128, the encoding of i32.const immediates. */
function s32(value: number): number[] {
  const out: number[] = [];
  let rest: number = value | 0;
  for (;;) {
    const byte: number = rest & 0x7f;
    rest >>= 7;
    const done: boolean = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function vector(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

function name(text: string): number[] {
  const bytes: number[] = [...Buffer.from(text, "utf8")];
  return [...u32(bytes.length), ...bytes];
}

interface StubFunction {
  export: string;
  params: number;
  /** Value returned as i32, or undefined for no result. */
  returns: number | undefined;
}

// Only what proxy-wasm-cpp-host requires (an ABI version marker, malloc, memory) plus the root
// callbacks answering "configuration accepted". malloc returns a fixed region: the host copies the
// plugin config there once per configure and the stub never reads it.
const FUNCTIONS: readonly StubFunction[] = [
  { export: "proxy_abi_version_0_2_1", params: 0, returns: undefined },
  { export: "malloc", params: 1, returns: 1024 },
  { export: "proxy_on_context_create", params: 2, returns: undefined },
  { export: "proxy_on_vm_start", params: 2, returns: 1 },
  { export: "proxy_on_configure", params: 2, returns: 1 },
  { export: "proxy_on_request_headers", params: 3, returns: 0 },
];

/** The stub module's bytes. */
export function proxyWasmStub(): Uint8Array {
  const types: number[][] = FUNCTIONS.map((f: StubFunction): number[] => [
    0x60,
    ...vector(Array.from({ length: f.params }, (): number[] => [I32])),
    ...vector(f.returns === undefined ? [] : [[I32]]),
  ]);
  const funcs: number[][] = FUNCTIONS.map((_f: StubFunction, i: number): number[] => u32(i));
  const memory: number[][] = [[0x00, ...u32(1)]]; // one 64 KiB page, no maximum
  const exports: number[][] = [
    [...name("memory"), 0x02, ...u32(0)],
    ...FUNCTIONS.map((f: StubFunction, i: number): number[] => [...name(f.export), 0x00, ...u32(i)]),
  ];
  const bodies: number[][] = FUNCTIONS.map((f: StubFunction): number[] => {
    const code: number[] = [
      0x00, // no locals
      ...(f.returns === undefined ? [] : [0x41, ...s32(f.returns)]), // i32.const
      0x0b, // end
    ];
    return [...u32(code.length), ...code];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vector(types)),
    ...section(3, vector(funcs)),
    ...section(5, vector(memory)),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}
