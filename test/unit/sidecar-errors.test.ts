// The sidecar's one error registry (sidecar-services/src/errors.ts) against its documentation:
// every denial, failure and admin error code is in sidecar-services/README.md with the same
// status, no table lists a code the registry lacks, and the operator guide lists every denial.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ADMIN_ERRORS, DENIALS, FAILURES } from "../../sidecar-services/src/errors.ts";

const read = (rel: string): string => readFileSync(fileURLToPath(new URL(`../../${rel}`, import.meta.url)), "utf8");

/** code → status from table rows `| \`area.code\` | 401 |`. */
function statusTable(markdown: string, area: string): Map<string, number> {
  const rows = new Map<string, number>();
  const re = new RegExp(`^\\|\\s*\`(${area}\\.[a-z_]+)\`\\s*\\|\\s*(\\d{3})\\s*\\|`, "gm");
  for (const m of markdown.matchAll(re)) rows.set(m[1]!, Number(m[2]));
  return rows;
}

/** code → [gRPC status name, HTTP status] from rows `| \`sidecar.x\` | \`UNAVAILABLE\` | 503 |`. */
function failureTable(markdown: string): Map<string, [string, number]> {
  const rows = new Map<string, [string, number]>();
  for (const m of markdown.matchAll(/^\|\s*`(sidecar\.[a-z_]+)`\s*\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
    rows.set(m[1]!, [m[2]!, Number(m[3])]);
  }
  return rows;
}

const GRPC_NAMES: Record<number, string> = { 13: "INTERNAL", 14: "UNAVAILABLE" };

describe("sidecar error registry is documented", () => {
  const readme = read("sidecar-services/README.md");
  const guide = read("docs/tenants-and-keys.md");

  it("every Authorize denial is in the README and the guide with its status, and nothing else is", () => {
    const documented = new Map([...statusTable(readme, "auth"), ...statusTable(readme, "gateway")]);
    const registry = new Map(Object.entries(DENIALS).map(([code, spec]): [string, number] => [code, spec.httpStatus]));
    assert.deepEqual(documented, registry);
    const inGuide = new Map([...statusTable(guide, "auth"), ...statusTable(guide, "gateway")]);
    for (const [code, status] of registry) assert.equal(inGuide.get(code), status, `${code} in docs/tenants-and-keys.md`);
  });

  it("every failure is in the README with its gRPC and HTTP status", () => {
    const registry = new Map(
      Object.entries(FAILURES).map(([code, spec]): [string, [string, number]] => [code, [GRPC_NAMES[spec.grpcStatus] ?? "?", spec.httpStatus]]),
    );
    assert.deepEqual(failureTable(readme), registry);
  });

  it("every admin API error is in the README with its status", () => {
    const registry = new Map(Object.entries(ADMIN_ERRORS).map(([code, spec]): [string, number] => [code, spec.httpStatus]));
    assert.deepEqual(statusTable(readme, "admin"), registry);
  });
});
