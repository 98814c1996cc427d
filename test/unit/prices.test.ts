// The price table: the embedded config/prices.yaml loads, model matching (exact, then longest
// prefix), cost arithmetic, and every invalid fixture under test/fixtures/config/prices/ fails with
// the key path it states (`# expect: <key>: <message>`).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { costOf, findPrice, loadPriceTable, PriceTableError } from "../../sidecar-services/src/prices.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/config/prices/", import.meta.url));

describe("embedded price table", () => {
  const table = loadPriceTable();

  test("loads with its version and prices the mock provider's models", () => {
    assert.equal(table.version, "2026-11-01");
    assert.deepEqual(findPrice(table, "mock", "gpt-4o-mini"), { input: 0.15, output: 0.6, cached_input: 0.075 });
    assert.ok(findPrice(table, "mock", "mock-gpt"));
    assert.ok(findPrice(table, "mock-anthropic", "mock-claude"));
    assert.ok(findPrice(table, "mock-anthropic", "claude-sonnet-4-5"));
    for (const [provider, model] of [["openai", "gpt-4o"], ["anthropic", "claude-3-5-haiku-latest"]]) {
      assert.ok(findPrice(table, provider!, model!), `${provider}/${model}`);
    }
  });

  test("matches exactly, then by the longest prefix, case-insensitively", () => {
    assert.equal(findPrice(table, "openai", "gpt-4o-mini-2024-07-18")?.input, 0.15);
    assert.equal(findPrice(table, "openai", "gpt-4o-2024-08-06")?.input, 2.5);
    assert.equal(findPrice(table, "openai", "GPT-4O")?.input, 2.5);
    assert.equal(findPrice(table, "openai", "gpt-3.5-turbo"), null);
    assert.equal(findPrice(table, "openai", ""), null);
    assert.equal(findPrice(table, "nope", "gpt-4o"), null);
  });

  test("costs: cached tokens are part of the prompt, priced at cached_input; unknown → null", () => {
    const usage = { provider: "mock", model: "gpt-4o-mini", prompt_tokens: 1000, completion_tokens: 500, cached_tokens: 200 };
    assert.deepEqual(costOf(table, usage), { costUsd: 0.000435, priceVersion: "2026-11-01" });
    assert.equal(costOf(table, { ...usage, cached_tokens: 5000 }).costUsd, (1000 * 0.075 + 500 * 0.6) / 1e6);
    assert.deepEqual(costOf(table, { ...usage, model: "unknown" }), { costUsd: null, priceVersion: "2026-11-01" });
    assert.equal(costOf(table, { ...usage, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0 }).costUsd, 0);
  });
});

describe("price table fixtures", () => {
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".valid.yaml"))) {
    test(file, () => {
      const table = loadPriceTable(join(FIXTURES, file));
      assert.ok(table.providers.size > 0);
      if (file === "minimal.valid.yaml") assert.equal(findPrice(table, "mock", "gpt-4o-mini")?.cached_input, 0.15);
    });
  }
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".invalid.yaml"))) {
    test(file, () => {
      const expected = [...readFileSync(join(FIXTURES, file), "utf8").matchAll(/^# expect: (.*)$/gm)].map((m) => {
        const split = m[1]!.indexOf(": ");
        return { key: m[1]!.slice(0, split), message: m[1]!.slice(split + 2) };
      });
      assert.ok(expected.length > 0, `${file} states no expectation`);
      let err: unknown;
      try {
        loadPriceTable(join(FIXTURES, file));
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof PriceTableError, `${file} must fail`);
      for (const want of expected) {
        assert.ok(
          err.problems.some((p) => p.key === want.key && p.message === want.message),
          `${file}: expected ${want.key}: ${want.message}\ngot ${JSON.stringify(err.problems)}`,
        );
        assert.ok(err.message.includes(`${want.key}: ${want.message}`));
      }
    });
  }

  test("a missing file is an error naming the file", () => {
    assert.throws(() => loadPriceTable("/nonexistent/prices.yaml"), (e: unknown) => e instanceof PriceTableError && /nonexistent\/prices\.yaml/.test(e.message));
  });
});
