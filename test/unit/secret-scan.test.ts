// The test suite's secret detector must itself be trusted: it finds known values in the forms a
// leak takes (raw, JSON-escaped, base64, a Leash key's secret alone) and key-shaped strings, and
// stays quiet on what outputs legitimately hold (key ids, request ids, hashes).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scanForSecrets } from "../support/secret-scan.ts";

const KEY = "lsh_abcdefghijkl_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
const known = [{ label: "tenant key", value: KEY }, { label: "provider key", value: "sk-provider-e2e-0123456789ab" }];
const kinds = (text: string): string[] => [...new Set(scanForSecrets("t", text, known).map((f) => f.kind))].sort();

describe("scanForSecrets", () => {
  test("finds a known value raw, JSON-escaped, base64-encoded, and a Leash key's secret alone", () => {
    assert.deepEqual(kinds(`auth header ${KEY}`), ["known:tenant key", "pattern:leash_key"]);
    assert.deepEqual(kinds(Buffer.from(KEY).toString("base64")), ["known:tenant key"]);
    assert.deepEqual(kinds(`{"secret":"${KEY.slice(-32)}"}`), ["known:tenant key"]);
    assert.deepEqual(kinds('{"v":"sk-provider-e2e-0123456789ab"}'), ["known:provider key", "pattern:openai_key"]);
  });

  test("finds key-shaped strings nobody told it about", () => {
    assert.deepEqual(kinds("lsh_zzzzzzzzzzzz_" + "Q".repeat(32)), ["pattern:leash_key"]);
    assert.deepEqual(kinds("sk-ant-api03-" + "x".repeat(40)), ["pattern:anthropic_key", "pattern:openai_key"]);
    assert.deepEqual(kinds("authorization: Bearer abcdefghijklmnopqrstuvwxyz"), ["pattern:bearer_token"]);
    assert.deepEqual(kinds("-----BEGIN RSA PRIVATE KEY-----"), ["pattern:private_key"]);
    assert.deepEqual(kinds("id AKIAIOSFODNN7EXAMPLE"), ["pattern:aws_access_key_id"]);
    assert.deepEqual(kinds("ghp_" + "a".repeat(36)), ["pattern:github_token"]);
  });

  test("stays quiet on what logs and metrics legitimately hold", () => {
    const line = JSON.stringify({
      key_id: "abcdefghijkl", request_id: "9b2f3c1e-0000-4000-8000-000000000000", tenant_id: "acme",
      trace: "4bf92f3577b34da6a3ce929d0e0e4736", model: "gpt-4o-mini", path: "/mock/v1/chat/completions",
      metric: 'leash_gateway_requests_total{tenant="acme",provider="mock",status="2xx"} 3',
    });
    assert.deepEqual(scanForSecrets("t", line, known), []);
  });
});
