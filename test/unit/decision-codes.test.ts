// Every decision code a client can receive is documented with its status: the codes of the
// sidecar's registries (Authorize, Reserve), the auth and quota filters' own denials, and the
// Envoy local-reply mappers must each appear in the README's code table, and each module's codes
// in that module's table, with the same status.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { DENIALS, QUOTA_DENIALS } from "../../sidecar-services/src/errors.ts";
import { localReplyConfig } from "../../envoy/local-replies.ts";
import { loadConfig } from "../../config/load.ts";

const read = (rel: string): string => readFileSync(fileURLToPath(new URL(`../../${rel}`, import.meta.url)), "utf8");

/** code → status from a markdown table whose rows start with | `code` | status |. */
function table(markdown: string): Map<string, number> {
  const rows = new Map<string, number>();
  for (const m of markdown.matchAll(/^\|\s*`([a-z_]+\.[a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) rows.set(m[1], Number(m[2]));
  return rows;
}

/** Codes a filter answers with itself: denyRequest/deny(...) calls with a literal status and code. */
function filterCodes(module = "auth"): Map<string, number> {
  const src = read(`filters/assembly/${module}/filter.ts`);
  const codes = new Map<string, number>();
  for (const m of src.matchAll(/deny\((\d{3}), "([a-z_]+\.[a-z_]+)"/g)) codes.set(m[2], Number(m[1]));
  return codes;
}

function localReplyCodes(): Map<string, number> {
  const statusOf: Record<string, number> = {
    "gateway.upstream_unavailable": 503, "gateway.upstream_timeout": 504, "gateway.body_too_large": 413,
    "gateway.headers_too_large": 431,
  };
  const cfg = localReplyConfig(loadConfig());
  const codes = new Map<string, number>();
  for (const mapper of (cfg?.mappers ?? []) as Array<{ headers_to_add: Array<{ header: { value: string } }> }>) {
    const code = mapper.headers_to_add[0].header.value;
    assert.ok(code in statusOf, `local reply code ${code} has no known status`);
    codes.set(code, statusOf[code]);
  }
  return codes;
}

describe("decision codes are documented", () => {
  const readme = table(read("README.md"));
  const authReadme = table(read("filters/assembly/auth/README.md"));
  const all = new Map<string, number>([
    ...Object.entries(DENIALS).map(([code, spec]): [string, number] => [code, spec.httpStatus]),
    ...filterCodes(),
    ...Object.entries(QUOTA_DENIALS).map(([code, spec]): [string, number] => [code, spec.httpStatus]),
    ...filterCodes("quota"),
    ...localReplyCodes(),
  ]);
  const quotaReadme = table(read("filters/assembly/quota/README.md"));

  it("finds the codes it checks (the extraction itself works)", () => {
    assert.ok(all.size >= 9, `only ${all.size} codes found: ${[...all.keys()].join(", ")}`);
    assert.ok(filterCodes().has("auth.missing_key"));
    assert.ok(filterCodes("quota").has("quota.sidecar_unavailable"));
    assert.ok(localReplyCodes().has("gateway.upstream_timeout"));
  });

  for (const [code, status] of all) {
    it(`${code} (${status}) is in README.md`, () => assert.equal(readme.get(code), status));
  }
  for (const code of [...Object.keys(DENIALS), ...filterCodes().keys()]) {
    it(`${code} is in the auth module's README`, () => assert.equal(authReadme.get(code), all.get(code)));
  }
  for (const code of [...Object.keys(QUOTA_DENIALS), ...filterCodes("quota").keys()]) {
    it(`${code} is in the quota module's README`, () => assert.equal(quotaReadme.get(code), all.get(code)));
  }
});
