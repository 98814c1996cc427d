// as-pect: unit specs for the pure logic of the AssemblyScript filters and SDK (parsers, codecs,
// matching). Host-facing behaviour is tested on the built .wasm in test/host and test/e2e.
export default {
  entries: ["filters/assembly/**/__tests__/**/*.spec.ts"],
  include: [],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
