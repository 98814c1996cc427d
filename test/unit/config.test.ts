// Config loader: every fixture under test/fixtures/config/ is a named test. Invalid fixtures state
// their expected problems in comments:
//   # expect: <key path>: <start of the message>   (one line per problem; the set must match exactly)
//   # expect-at: <line>:<column>                     (a YAML syntax error at that position)

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { ConfigError, type ConfigProblem } from "../../config/errors.ts";
import { DEFAULT_CONFIG_PATH, loadConfig, parseConfig } from "../../config/load.ts";
import { defaultEntityActions } from "../../config/guard-policy.ts";
import type { LeashConfig } from "../../config/types.ts";

const FIXTURES: string = fileURLToPath(new URL("../fixtures/config/", import.meta.url));
const EXAMPLES: string = fileURLToPath(new URL("../../config/examples/", import.meta.url));
const NO_ENV: Record<string, string> = {};

function fixtures(suffix: string): string[] {
  return readdirSync(FIXTURES).filter((f: string): boolean => f.endsWith(suffix)).sort();
}

function load(file: string, env: Record<string, string> = NO_ENV): LeashConfig {
  return parseConfig(readFileSync(join(FIXTURES, file), "utf8"), file, env);
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err: unknown) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail("expected a ConfigError");
}

interface Expectation {
  key: string;
  message: string;
}

function expectations(text: string): { problems: Expectation[]; at: string | undefined } {
  const problems: Expectation[] = [];
  let at: string | undefined;
  for (const line of text.split("\n")) {
    const expect: RegExpMatchArray | null = line.match(/^# expect: (.*)$/);
    if (expect !== null) {
      const split: number = expect[1].indexOf(": ");
      problems.push({ key: expect[1].slice(0, split), message: expect[1].slice(split + 2) });
    }
    const position: RegExpMatchArray | null = line.match(/^# expect-at: (\d+:\d+)$/);
    if (position !== null) at = position[1];
  }
  return { problems, at };
}

const DEFAULTS_OF_MINIMAL: LeashConfig = {
  version: 1,
  listener: { address: "0.0.0.0", port: 8080, max_request_body_bytes: 4194304 },
  admin: { address: "127.0.0.1", port: 9901 },
  sidecar: {
    host: "127.0.0.1",
    grpc_port: 50051,
    http_port: 8081,
    database_url: "",
    redis_url: "",
    data_dir: ".leash/data",
    admin_address: "127.0.0.1",
    admin_port: 8083,
    auth_cache_ttl_ms: 1000,
    prices_file: "",
    ledger_retention_days: 0,
    retention_interval_s: 3600,
  },
  providers: [
    {
      name: "openai",
      api: "openai",
      prefix: "/openai",
      base_url: "https://api.openai.com",
      api_key_env: "",
      timeout_ms: 300_000,
      connect_timeout_ms: 5_000,
      tls_verify: true,
      tls_ca_file: "",
    },
  ],
  modules: {
    auth: { enabled: true, failure_mode: "closed", timeout_ms: 250 },
    quota: { enabled: true, failure_mode: "closed", timeout_ms: 250, default_output_tokens: 1024, lease_ttl_ms: 1000, lease_max_requests: 1000, lease_max_tokens: 2000000 },
    usage: { enabled: true, failure_mode: "closed", timeout_ms: 1000 },
    redact: { enabled: false, failure_mode: "closed", entities: defaultEntityActions(), responses: true, stream_holdback_chars: 4096 },
    injection: { enabled: false, failure_mode: "closed", action: "block", threshold: 0.7 },
  },
  mock_provider: { enabled: false, port: 8082 },
  tracing: { enabled: false, otlp_endpoint: "", service_name: "leash", sample_rate: 1 },
  wasm: { shared_vm: true, chain: true },
};

describe("valid fixtures", () => {
  for (const file of fixtures(".valid.yaml")) {
    test(file, () => {
      const cfg: LeashConfig = load(file);
      assert.equal(cfg.version, 1);
      assert.ok(cfg.providers.length > 0);
    });
  }

  test("minimal.valid.yaml gets every default", () => {
    assert.deepEqual(load("minimal.valid.yaml"), DEFAULTS_OF_MINIMAL);
  });

  test("empty-sections.valid.yaml: null sections read as defaults", () => {
    const cfg: LeashConfig = load("empty-sections.valid.yaml");
    assert.deepEqual(cfg.listener, DEFAULTS_OF_MINIMAL.listener);
    assert.deepEqual(cfg.modules, DEFAULTS_OF_MINIMAL.modules);
    assert.equal(cfg.providers[0].prefix, "/mock");
  });

  test("full.valid.yaml keeps every explicit value", () => {
    const cfg: LeashConfig = load("full.valid.yaml", { DATABASE_URL: "postgres://ignored/db" });
    assert.equal(cfg.sidecar.database_url, "postgres://leash@db.internal:5432/leash");
    assert.equal(cfg.providers[0].timeout_ms, 0);
    assert.equal(cfg.providers[0].tls_verify, false);
    assert.equal(cfg.providers[1].api, "anthropic");
    assert.deepEqual(cfg.modules.auth, { enabled: false, failure_mode: "open", timeout_ms: 60_000 });
    assert.deepEqual(cfg.modules.quota, {
      enabled: false, failure_mode: "open", timeout_ms: 50, default_output_tokens: 4096, lease_ttl_ms: 500, lease_max_requests: 50, lease_max_tokens: 100000,
    });
  });

  test("guards.valid.yaml: listed entity actions win, the rest keep their defaults", () => {
    const cfg: LeashConfig = load("guards.valid.yaml");
    assert.equal(cfg.modules.redact.entities.email, "block");
    assert.equal(cfg.modules.redact.entities.private_key, "mask");
    assert.equal(cfg.modules.redact.entities.phone, "mask");
    assert.equal(cfg.modules.redact.entities.openai_key, "block");
    assert.equal(cfg.modules.redact.stream_holdback_chars, 64);
    assert.deepEqual(cfg.modules.injection, { enabled: true, failure_mode: "closed", action: "flag", threshold: 0 });
  });
});

describe("invalid fixtures", () => {
  for (const file of fixtures(".invalid.yaml")) {
    test(file, () => {
      const text: string = readFileSync(join(FIXTURES, file), "utf8");
      const expected = expectations(text);
      assert.ok(expected.problems.length > 0 || expected.at !== undefined, `${file} states no expectation`);
      const err: ConfigError = configError(() => parseConfig(text, file, NO_ENV));
      assert.equal(err.source, file);

      if (expected.at !== undefined) {
        const [line, column] = expected.at.split(":").map(Number);
        const first: ConfigProblem = err.problems[0];
        assert.deepEqual([first.line, first.column], [line, column], err.message);
        assert.match(err.message, new RegExp(`^${file}:${line}:${column}: invalid YAML: `));
        return;
      }
      const unmatched: ConfigProblem[] = [...err.problems];
      for (const want of expected.problems) {
        const i: number = unmatched.findIndex(
          (p: ConfigProblem): boolean => p.key === want.key && p.message.startsWith(want.message),
        );
        assert.ok(i >= 0, `missing problem ${want.key}: ${want.message}\ngot:\n${err.message}`);
        unmatched.splice(i, 1);
      }
      assert.deepEqual(unmatched, [], `unexpected problems:\n${err.message}`);
      assert.equal(err.key, err.problems[0].key);
    });
  }
});

describe("error messages", () => {
  test("name the file and the key path", () => {
    const err: ConfigError = configError(() => load("base-url-scheme.invalid.yaml"));
    assert.equal(err.message, 'base-url-scheme.invalid.yaml: providers[1].base_url: must be an http(s) URL, got "ftp://x"');
    assert.equal(err.key, "providers[1].base_url");
  });

  test("list every problem, one per line", () => {
    const err: ConfigError = configError(() => load("many-problems.invalid.yaml"));
    assert.equal(err.problems.length, 7);
    assert.equal(err.message.split("\n").length, 7);
    for (const line of err.message.split("\n")) assert.match(line, /^many-problems\.invalid\.yaml: \S+: /);
  });

  test("never echo a connection URL, it may hold a password", () => {
    const err: ConfigError = configError(() => load("database-url-scheme.invalid.yaml"));
    assert.doesNotMatch(err.message, /secret/);
  });
});

describe("sidecar URLs from the environment", () => {
  const text: string = readFileSync(join(FIXTURES, "minimal.valid.yaml"), "utf8");

  test("default to DATABASE_URL and REDIS_URL", () => {
    const cfg: LeashConfig = parseConfig(text, "env", {
      DATABASE_URL: "postgresql://leash@127.0.0.1/leash",
      REDIS_URL: "redis://127.0.0.1:6379",
    });
    assert.equal(cfg.sidecar.database_url, "postgresql://leash@127.0.0.1/leash");
    assert.equal(cfg.sidecar.redis_url, "redis://127.0.0.1:6379");
  });

  test('default to "" without them', () => {
    const cfg: LeashConfig = parseConfig(text, "env", {});
    assert.equal(cfg.sidecar.database_url, "");
    assert.equal(cfg.sidecar.redis_url, "");
  });

  test("a value in the file wins over the environment", () => {
    const withUrl: string = text.replace("version: 1", "version: 1\nsidecar:\n  database_url: postgres://file/db");
    const cfg: LeashConfig = parseConfig(withUrl, "env", { DATABASE_URL: "postgres://env/db" });
    assert.equal(cfg.sidecar.database_url, "postgres://file/db");
  });

  test("a bad environment value is reported as coming from the environment", () => {
    const err: ConfigError = configError(() => parseConfig(text, "env", { DATABASE_URL: "mysql://u:pw@h/db" }));
    assert.equal(err.key, "sidecar.database_url");
    assert.match(err.message, /\(from env DATABASE_URL\)/);
    assert.doesNotMatch(err.message, /pw@/);
  });
});

describe("shipped configs", () => {
  test("config/leash.yaml is the quick-start default", () => {
    const cfg: LeashConfig = loadConfig(undefined, {});
    assert.deepEqual(cfg.listener, { address: "0.0.0.0", port: 8080, max_request_body_bytes: 4194304 });
    assert.deepEqual(cfg.admin, { address: "127.0.0.1", port: 9901 });
    assert.deepEqual(
      cfg.providers.map((p) => [p.name, p.api, p.prefix, p.base_url, p.api_key_env]),
      [
        ["openai", "openai", "/openai", "https://api.openai.com", "OPENAI_API_KEY"],
        ["anthropic", "anthropic", "/anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY"],
        ["mock", "openai", "/mock", "http://127.0.0.1:8082", ""],
        ["mock-anthropic", "anthropic", "/mock-anthropic", "http://127.0.0.1:8082", ""],
      ],
    );
    assert.deepEqual(cfg.modules.auth, { enabled: true, failure_mode: "closed", timeout_ms: 250 });
    assert.deepEqual(loadConfig(DEFAULT_CONFIG_PATH, {}), cfg);
  });

  for (const file of readdirSync(EXAMPLES).filter((f: string): boolean => f.endsWith(".yaml"))) {
    test(`config/examples/${file} loads`, () => {
      assert.ok(loadConfig(join(EXAMPLES, file), {}).providers.length > 0);
    });
  }

  test("a missing file is a ConfigError naming it", () => {
    const err: ConfigError = configError(() => loadConfig("does/not/exist.yaml", {}));
    assert.match(err.message, /^does\/not\/exist\.yaml: cannot read the file: .*ENOENT/);
  });
});
