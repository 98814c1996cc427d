// Runs the PII evaluation command (test/eval/pii-eval.ts) as a user would and checks that it prints
// the table for every type and that recall and precision stay above floors. The floors sit just
// under the figures of the set as committed (see filters/assembly/detect/README.md), so that
// losing one or two more entities of a type fails here instead of going unnoticed:
// - 0.95 for e-mail, card, IBAN, IPv4 and SSN: all found today; one miss on 20 cards, 19 IPv4
//   addresses or 12 SSNs, two on 26 IBANs or 35 addresses, is a regression.
// - 0.90 for phone and IPv6: today's misses are the forms left out on purpose (national numbers
//   written as one solid digit run, the loopback ::1) and two held-out mobile formats without a
//   trunk prefix; one more IPv6 miss, or two more phones, fails.
// Precision floor 0.90 for every type (today: 95-100%; the known false positive is a four-part
// section number that is also a valid IPv4 text).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
const RECALL_FLOOR: Record<string, number> = { email: 0.95, phone: 0.9, card: 0.95, ssn: 0.95, iban: 0.95, ipv4: 0.95, ipv6: 0.9 };
const PRECISION_FLOOR: number = 0.9;

interface Row { type: string; entities: number; precision: number; recall: number; fpr: number }

function parseFirstTable(out: string): Row[] {
  const rows: Row[] = [];
  for (const line of out.split("\n")) {
    if (line.trim() === "") break; // the first table ends at the blank line before the held-out one
    const m: RegExpMatchArray | null = line.match(/^(\w+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%/);
    if (m !== null) rows.push({ type: m[1], entities: Number(m[2]), precision: Number(m[3]) / 100, recall: Number(m[4]) / 100, fpr: Number(m[5]) / 100 });
  }
  return rows;
}

test("pii-eval prints precision, recall and FPR per type, above the floors", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/eval/pii-eval.ts"], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^type\s+entities\s+tp\s+fp\s+fn\s+precision\s+recall\s+FPR/m);
  assert.match(r.stdout, /held-out lines only/);
  const rows: Row[] = parseFirstTable(r.stdout);
  for (const type of Object.keys(RECALL_FLOOR)) {
    const row: Row | undefined = rows.find((x: Row): boolean => x.type === type);
    assert.ok(row, `no row for ${type} in:\n${r.stdout}`);
    assert.ok(row.entities >= 8, `${type}: only ${row.entities} labelled entities`);
    assert.ok(row.recall >= RECALL_FLOOR[type], `${type} recall ${row.recall} < ${RECALL_FLOOR[type]}\n${r.stdout}`);
    assert.ok(row.precision >= PRECISION_FLOOR, `${type} precision ${row.precision} < ${PRECISION_FLOOR}\n${r.stdout}`);
  }
});

test("pii-eval exits non-zero when it cannot run (not on figures)", () => {
  const dir: string = mkdtempSync(join(tmpdir(), "pii-eval-bad-"));
  try {
    const bad: string = join(dir, "bad.jsonl");
    writeFileSync(bad, JSON.stringify({ text: "no entities field" }) + "\n");
    const r = spawnSync(process.execPath, ["--import", "tsx", "test/eval/pii-eval.ts", "--set", bad], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 1: needs text and entities/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
