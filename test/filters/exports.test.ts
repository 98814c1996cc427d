// Which proxy-wasm entry points each shipped module exports. Envoy calls a wasm filter for a
// response chunk only when the module exports proxy_on_response_body, so that export is opt-in
// (filters/assembly/sdk/exports-response-body.ts): a module that overrides onResponseBody without
// exporting it would silently never see a response chunk, and one that exports it without needing
// it costs a call into its VM per chunk of every streamed answer. Checked on the built release
// modules against their sources.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { MODULE_ORDER } from "../../envoy/names.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Whether a module's own sources (specs aside) define an onResponseBody callback. */
function overridesResponseBody(module: string): boolean {
  const dir = join(ROOT, "filters", "assembly", module);
  return readdirSync(dir).filter((f) => f.endsWith(".ts")).some((f) => /^\s+onResponseBody\s*\(/m.test(readFileSync(join(dir, f), "utf8")));
}

function exportsOf(module: string): string[] {
  const bytes = readFileSync(join(ROOT, "build", "release", `${module}.wasm`));
  return WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
}

describe("module exports", () => {
  for (const module of MODULE_ORDER) {
    it(`${module}: proxy_on_response_body exported exactly when the module reads response bodies`, () => {
      const names = exportsOf(module);
      for (const always of ["proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers", "proxy_on_log", "malloc"]) {
        assert.ok(names.includes(always), `${module} does not export ${always}`);
      }
      assert.equal(names.includes("proxy_on_response_body"), overridesResponseBody(module));
    });
  }

  it("the modules that read response bodies are the redacting and the metering ones", () => {
    assert.deepEqual(MODULE_ORDER.filter(overridesResponseBody), ["redact", "usage"]);
  });
});
