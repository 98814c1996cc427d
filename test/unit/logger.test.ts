// The JSON logger's line shapes: ordinary lines and entry() lines (the per-request usage line,
// whose shape an outside contract fixes), with and without values that need reducing; and the
// batching of stdout lines per event-loop turn.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { batchedLines, createJsonLogger } from "../../sidecar-services/src/logger.ts";

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

describe("batched log lines (stdout)", () => {
  it("hands the sink one turn's lines at once, in order, at the end of the turn", async () => {
    const chunks: string[] = [];
    const write = batchedLines((c) => chunks.push(c));
    write("a\n");
    write("b\n");
    write("c\n");
    assert.deepEqual(chunks, [], "nothing before the turn ends");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(chunks, ["a\nb\nc\n"]);
    write("d\n");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(chunks, ["a\nb\nc\n", "d\n"]);
  });

  it("writes without waiting once 64 KB are held", () => {
    const chunks: string[] = [];
    const write = batchedLines((c) => chunks.push(c));
    const big = "x".repeat(40 * 1024) + "\n";
    write(big);
    assert.equal(chunks.length, 0);
    write(big);
    assert.deepEqual(chunks, [big + big]);
  });

  it("writes what it holds when the process exits, a crash included", () => {
    const logger = fileURLToPath(new URL("../../sidecar-services/src/logger.ts", import.meta.url));
    for (const end of ["process.exit(0)", "throw new Error('boom')"]) {
      const script = `import { createJsonLogger } from ${JSON.stringify(logger)};
        const log = createJsonLogger();
        for (let i = 0; i < 3; i++) log.entry("info", { request_id: "r" + i });
        ${end};`;
      const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
      const ids = run.stdout.trim().split("\n").map((l) => JSON.parse(l).request_id);
      assert.deepEqual(ids, ["r0", "r1", "r2"], `${end}: ${run.stdout}${run.stderr}`);
    }
  });
});
