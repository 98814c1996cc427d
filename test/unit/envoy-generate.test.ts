// Envoy config generator: golden files pin the exact output of each case in test/golden/envoy/
// (<case>.in.yaml → <case>.out/{bootstrap,lds,cds}.yaml). After an intended change, rewrite them
// with UPDATE_GOLDEN=1 and review the diff.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { parse } from "yaml";

import { loadConfig, parseConfig } from "../../config/load.ts";
import type { LeashConfig } from "../../config/types.ts";
import { generateEnvoyConfig, pluginConfig, writeEnvoyConfig } from "../../envoy/generate.ts";
import { MODULE_ORDER } from "../../envoy/names.ts";
import { chainConfiguration, wasmFilesFor, wasmFilterGroups } from "../../envoy/wasm-filters.ts";

const GOLDEN: string = fileURLToPath(new URL("../golden/envoy/", import.meta.url));
const UPDATE: boolean = process.env.UPDATE_GOLDEN === "1";
// Fixed so goldens are the same on every machine.
const OPTS = { wasmDir: "/opt/leash/wasm", outDir: "/etc/leash/envoy" } as const;
const FILES: readonly string[] = ["bootstrap.yaml", "lds.yaml", "cds.yaml"];

function caseConfig(name: string): LeashConfig {
  const file: string = join(GOLDEN, `${name}.in.yaml`);
  return parseConfig(readFileSync(file, "utf8"), file, {});
}

const CASES: string[] = readdirSync(GOLDEN)
  .filter((f: string): boolean => f.endsWith(".in.yaml"))
  .map((f: string): string => f.slice(0, -".in.yaml".length))
  .sort();

describe("golden files", () => {
  test("cover the required cases", () => {
    for (const name of ["default", "openai-compatible", "auth-fail-open", "auth-disabled"]) {
      assert.ok(CASES.includes(name), `missing golden case ${name}`);
    }
  });

  for (const name of CASES) {
    test(name, () => {
      const files: Record<string, string> = generateEnvoyConfig(caseConfig(name), OPTS);
      assert.deepEqual(Object.keys(files).sort(), [...FILES].sort());
      const outDir: string = join(GOLDEN, `${name}.out`);
      for (const file of FILES) {
        const path: string = join(outDir, file);
        if (UPDATE) {
          mkdirSync(outDir, { recursive: true });
          writeFileSync(path, files[file]);
          continue;
        }
        assert.ok(existsSync(path), `${path} is missing; run with UPDATE_GOLDEN=1`);
        assert.equal(files[file], readFileSync(path, "utf8"), `${name}.out/${file} differs; UPDATE_GOLDEN=1 rewrites it`);
      }
    });
  }

  test("default.in.yaml is config/leash.yaml", () => {
    assert.deepEqual(caseConfig("default"), loadConfig(undefined, {}));
  });
});

describe("generated config", () => {
  const cfg: LeashConfig = caseConfig("default");

  test("is deterministic", () => {
    assert.deepEqual(generateEnvoyConfig(cfg, OPTS), generateEnvoyConfig(caseConfig("default"), OPTS));
  });

  test("bootstrap points LDS and CDS at absolute files in a watched outDir", () => {
    const boot = parse(generateEnvoyConfig(cfg, { wasmDir: "wasm", outDir: "rel/out" })["bootstrap.yaml"]);
    const lds = boot.dynamic_resources.lds_config.path_config_source;
    assert.equal(lds.path, join(process.cwd(), "rel/out/lds.yaml"));
    assert.equal(lds.watched_directory.path, join(process.cwd(), "rel/out"));
    assert.equal(boot.dynamic_resources.cds_config.path_config_source.path, join(process.cwd(), "rel/out/cds.yaml"));
    assert.equal(boot.static_resources, undefined);
  });

  test("the wasm filter carries the plugin JSON and an absolute wasm path", () => {
    const oneEach = { ...cfg, wasm: { shared_vm: true, chain: false } };
    const lds = parse(generateEnvoyConfig(oneEach, { wasmDir: "build/wasm", outDir: "/x" })["lds.yaml"]);
    const hcm = lds.resources[0].filter_chains[0].filters[0].typed_config;
    const wasm = hcm.http_filters[0].typed_config.config;
    assert.equal(wasm.vm_config.code.local.filename, join(process.cwd(), "build/wasm/leash.wasm"));
    assert.deepEqual(JSON.parse(wasm.configuration.value), pluginConfig(cfg, "auth"));
    assert.equal(hcm.http_filters.at(-1).name, "envoy.filters.http.router");
  });

  test("wasm.shared_vm (default): modules of one failure policy share a VM running leash.wasm; off: each its own", () => {
    const all = { ...cfg, modules: { ...cfg.modules } } as LeashConfig;
    for (const m of MODULE_ORDER) all.modules[m] = { ...all.modules[m], enabled: true } as never;
    all.modules.redact = { ...all.modules.redact, failure_mode: "open" };
    const filters = (c: LeashConfig) => {
      const hcm = parse(generateEnvoyConfig(c, { wasmDir: "build/wasm", outDir: "/x" })["lds.yaml"]).resources[0].filter_chains[0].filters[0].typed_config;
      return new Map<string, { vm: string; file: string; root: string }>(hcm.http_filters.filter((f: { name: string }) => f.name !== "envoy.filters.http.router")
        .map((f: { typed_config: { config: { root_id: string; vm_config: { vm_id: string; code: { local: { filename: string } } } } } }) => {
          const w = f.typed_config.config;
          return [w.root_id, { vm: w.vm_config.vm_id, file: w.vm_config.code.local.filename, root: w.root_id }];
        }));
    };
    const shared = filters({ ...all, wasm: { shared_vm: true, chain: false } });
    assert.deepEqual([...shared.keys()], ["auth", "redact", "injection", "quota", "usage"]);
    for (const m of ["auth", "injection", "quota", "usage"]) assert.equal(shared.get(m)!.vm, "leash-closed");
    assert.equal(shared.get("redact")!.vm, "leash-open");
    for (const f of shared.values()) assert.equal(f.file, join(process.cwd(), "build/wasm/leash.wasm"));
    assert.deepEqual(wasmFilesFor(all, "build/wasm"), [join(process.cwd(), "build/wasm/leash.wasm")]);

    const separate = filters({ ...all, wasm: { shared_vm: false, chain: false } });
    for (const m of MODULE_ORDER) {
      assert.equal(separate.get(m)!.vm, `leash-${m}`);
      assert.equal(separate.get(m)!.file, join(process.cwd(), `build/wasm/${m}.wasm`));
    }
  });
});

describe("wasm.chain (default): neighbouring modules of one failure policy in one filter", () => {
  const base: LeashConfig = caseConfig("default");
  const all = { ...base, modules: { ...base.modules } } as LeashConfig;
  for (const m of MODULE_ORDER) all.modules[m] = { ...all.modules[m], enabled: true } as never;
  all.modules.redact = { ...all.modules.redact, failure_mode: "open" };
  const hcmOf = (c: LeashConfig) => parse(generateEnvoyConfig(c, { wasmDir: "build/wasm", outDir: "/x" })["lds.yaml"]).resources[0].filter_chains[0].filters[0].typed_config;

  test("groups by failure policy without reordering: auth | redact (open) | injection+quota+usage", () => {
    assert.deepEqual(wasmFilterGroups(all).map((g) => g.modules), [["auth"], ["redact"], ["injection", "quota", "usage"]]);
    const wasm = hcmOf(all).http_filters.filter((f: { name: string }) => f.name !== "envoy.filters.http.router");
    assert.deepEqual(wasm.map((f: { name: string }) => f.name), ["leash.auth", "leash.redact", "leash.injection+quota+usage"]);
    const [auth, redact, chain] = wasm.map((f: { typed_config: { config: Record<string, unknown> } }) => f.typed_config.config);
    assert.equal(auth.root_id, "auth");
    assert.deepEqual(JSON.parse((auth.configuration as { value: string }).value), pluginConfig(all, "auth"));
    assert.equal(redact.failure_policy, "FAIL_OPEN");
    assert.equal(chain.root_id, "chain");
    assert.equal(chain.failure_policy, "FAIL_RELOAD");
    assert.equal(chain.allow_on_headers_stop_iteration, true);
    assert.equal((chain.vm_config as { vm_id: string }).vm_id, "leash-closed");
    const lines = (chain.configuration as { value: string }).value.split("\n");
    assert.deepEqual(lines.map((l: string) => JSON.parse(l)), [pluginConfig(all, "injection"), pluginConfig(all, "quota"), pluginConfig(all, "usage")]);
    assert.equal(chainConfiguration(all, ["injection", "quota", "usage"]), (chain.configuration as { value: string }).value);
  });

  test("one policy: one filter for the whole chain, and the gateway's own routes skip it by its name", () => {
    const closed = { ...all, modules: { ...all.modules, redact: { ...all.modules.redact, failure_mode: "closed" as const } } };
    const hcm = hcmOf(closed);
    assert.deepEqual(hcm.http_filters.map((f: { name: string }) => f.name), ["leash.auth+redact+injection+quota+usage", "envoy.filters.http.router"]);
    const health = hcm.route_config.virtual_hosts[0].routes.find((r: { name: string }) => r.name === "health");
    assert.deepEqual(Object.keys(health.typed_per_filter_config), ["leash.auth+redact+injection+quota+usage"]);
  });

  test("off, or without a shared VM: one filter per module; chain without shared_vm is refused", () => {
    assert.deepEqual(wasmFilterGroups({ ...all, wasm: { shared_vm: true, chain: false } }).map((g) => g.name), MODULE_ORDER.map((m) => `leash.${m}`));
    assert.throws(() => parseConfig("version: 1\nproviders: [{ name: openai, prefix: /openai, base_url: 'https://api.openai.com' }]\nwasm: { shared_vm: false, chain: true }\n", "t", {}), /wasm\.chain/);
    const c = parseConfig("version: 1\nproviders: [{ name: openai, prefix: /openai, base_url: 'https://api.openai.com' }]\nwasm: { shared_vm: false }\n", "t", {});
    assert.equal(c.wasm.chain, false);
  });
});

describe("cross references", () => {
  // Envoy does not check these at load (validate_clusters is off, see envoy/routes.ts), so we do.
  for (const name of CASES) {
    test(`${name}: every route targets a generated cluster`, () => {
      const files: Record<string, string> = generateEnvoyConfig(caseConfig(name), OPTS);
      const clusters: string[] = parse(files["cds.yaml"]).resources.map((c: { name: string }) => c.name);
      const hcm = parse(files["lds.yaml"]).resources[0].filter_chains[0].filters[0].typed_config;
      const targets: string[] = hcm.route_config.virtual_hosts
        .flatMap((vh: { routes: { route?: { cluster: string } }[] }) => vh.routes)
        .flatMap((r: { route?: { cluster: string } }) => (r.route ? [r.route.cluster] : []));
      assert.ok(targets.length > 0);
      for (const target of targets) assert.ok(clusters.includes(target), `route to unknown cluster ${target}`);
      assert.ok(clusters.includes("leash_sidecar"));
      const filterNames: string[] = hcm.http_filters.map((f: { name: string }) => f.name);
      for (const route of hcm.route_config.virtual_hosts[0].routes) {
        for (const key of Object.keys(route.typed_per_filter_config ?? {})) {
          assert.ok(filterNames.includes(key), `per-route config for missing filter ${key}`);
        }
      }
    });
  }
});

describe("pluginConfig", () => {
  test("matches the filter contract exactly, keys in order", () => {
    const json: string = JSON.stringify(pluginConfig(caseConfig("auth-fail-open"), "auth"));
    assert.equal(
      json,
      '{"module":"auth","failure_mode":"open","timeout_ms":1000,"sidecar_cluster":"leash_sidecar","max_body_bytes":4194304,"routes":[' +
        '{"prefix":"/openai","provider":"openai","api":"openai"},' +
        '{"prefix":"/anthropic","provider":"anthropic","api":"anthropic"}]}',
    );
  });
});

describe("writeEnvoyConfig", () => {
  const dir: string = mkdtempSync(join(tmpdir(), "leash-envoy-write-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("writes the three files, creates outDir, leaves no temp files", () => {
    const outDir: string = join(dir, "nested", "out");
    const cfg: LeashConfig = caseConfig("default");
    const written: string[] = writeEnvoyConfig(cfg, { wasmDir: "/opt/leash/wasm", outDir });
    assert.deepEqual(written, ["cds.yaml", "lds.yaml", "bootstrap.yaml"].map((f: string): string => join(outDir, f)));
    assert.deepEqual(readdirSync(outDir).sort(), ["bootstrap.yaml", "cds.yaml", "lds.yaml"]);
    const expected: Record<string, string> = generateEnvoyConfig(cfg, { wasmDir: "/opt/leash/wasm", outDir });
    for (const file of FILES) assert.equal(readFileSync(join(outDir, file), "utf8"), expected[file]);
  });

  test("replaces existing files", () => {
    const outDir: string = join(dir, "replace");
    writeEnvoyConfig(caseConfig("default"), { wasmDir: "/w", outDir });
    writeEnvoyConfig(caseConfig("auth-disabled"), { wasmDir: "/w", outDir });
    assert.doesNotMatch(readFileSync(join(outDir, "lds.yaml"), "utf8"), /leash\.auth/);
  });
});
