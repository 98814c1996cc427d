// The JSON logger's line shapes: ordinary lines and entry() lines (the per-request usage line,
// whose shape an outside contract fixes), with and without values that need reducing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createJsonLogger } from "../../sidecar-services/src/logger.ts";

function capture(): { lines: string[]; log: ReturnType<typeof createJsonLogger> } {
  const lines: string[] = [];
  return { lines, log: createJsonLogger({ write: (line) => lines.push(line) }) };
}

describe("json logger", () => {
  it("entry(): timestamp, level, then the fields in order, as one line", () => {
    const { lines, log } = capture();
    log.entry!("info", { request_id: "r1", tenant_id: "t", latency_ms: 12, cost_usd: null, ok: true, message: "request completed" });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith("\n"));
    const parsed = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(parsed), ["timestamp", "level", "request_id", "tenant_id", "latency_ms", "cost_usd", "ok", "message"]);
    assert.deepEqual({ ...parsed, timestamp: "" }, { timestamp: "", level: "info", request_id: "r1", tenant_id: "t", latency_ms: 12, cost_usd: null, ok: true, message: "request completed" });
    assert.ok(!Number.isNaN(Date.parse(parsed.timestamp)));
  });

  it("entry() and ordinary lines reduce errors to name and message, bigints to strings, nested too", () => {
    const { lines, log } = capture();
    const err = new TypeError("boom");
    log.entry!("warn", { error: err, n: 12n, nested: { e: err } });
    log.warn("m", { error: err, n: 12n });
    const [entry, warn] = lines.map((l) => JSON.parse(l));
    assert.deepEqual([entry.error, entry.n, entry.nested], [{ name: "TypeError", message: "boom" }, "12", { e: { name: "TypeError", message: "boom" } }]);
    assert.deepEqual([warn.msg, warn.error, warn.n], ["m", { name: "TypeError", message: "boom" }, "12"]);
  });

  it("below the level: nothing", () => {
    const lines: string[] = [];
    const log = createJsonLogger({ level: "warn", write: (line) => lines.push(line) });
    log.entry!("info", { a: 1 });
    log.info("x");
    assert.equal(lines.length, 0);
  });
});
