// Runs the evaluation command (test/eval/pii-eval.ts) as a user would and checks that it prints
// the table for every PII and every secret type and that recall and precision stay above floors.
// The floors sit just under the figures of the sets as committed (see
// filters/assembly/detect/README.md), so that losing one or two more entities of a type fails
// here instead of going unnoticed. PII:
// - 0.95 for e-mail, card, IBAN, IPv4 and SSN: all found today; one miss on 20 cards, 19 IPv4
//   addresses or 12 SSNs, two on 26 IBANs or 35 addresses, is a regression.
// - 0.90 for phone and IPv6: today's misses are the forms left out on purpose (national numbers
//   written as one solid digit run, the loopback ::1) and two held-out mobile formats without a
//   trunk prefix; one more IPv6 miss, or two more phones, fails.
// Precision floor 0.90 for every type (today: 95-100%; the known false positive is a four-part
// section number that is also a valid IPv4 text).
// Secrets (test/eval/secrets.jsonl, 4 to 12 entities per named format):
// - 0.95 for every named format: all found today, and one miss on 4-12 entities fails;
// - 0.75 for generic_secret: 18 of 23 today (the misses are the lines marked HARD: all-letter
//   values, passwords in prose, a positional argument); one more miss fails.
// Precision floor 0.90 (today 100%: no false positive on the set's 45 lookalikes and benign lines).
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
const SECRET_RECALL_FLOOR: Record<string, number> = {
  openai_key: 0.95, anthropic_key: 0.95, aws_access_key: 0.95, github_token: 0.95, stripe_key: 0.95, slack_token: 0.95,
  google_api_key: 0.95, jwt: 0.95, private_key: 0.95, connection_password: 0.95, generic_secret: 0.75,
};

interface Row { type: string; entities: number; precision: number; recall: number; fpr: number }

/** The rows of the table whose title line starts with `title` (it ends at the next blank line). */
function parseTable(out: string, title: string): Row[] {
  const rows: Row[] = [];
  const lines: string[] = out.split("\n");
  const from: number = lines.findIndex((l: string): boolean => l.startsWith(title));
  assert.ok(from >= 0, `no table "${title}" in:\n${out}`);
  for (const line of lines.slice(from + 1)) {
    if (line.trim() === "") break;
    const m: RegExpMatchArray | null = line.match(/^(\w+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%/);
    if (m !== null) rows.push({ type: m[1], entities: Number(m[2]), precision: Number(m[3]) / 100, recall: Number(m[4]) / 100, fpr: Number(m[5]) / 100 });
  }
  return rows;
}

test("pii-eval prints precision, recall and FPR per PII and per secret type, above the floors", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/eval/pii-eval.ts"], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^type\s+entities\s+tp\s+fp\s+fn\s+precision\s+recall\s+FPR/m);
  assert.match(r.stdout, /held-out lines only/);
  checkFloors(parseTable(r.stdout, "PII detectors, all lines"), RECALL_FLOOR, 8, r.stdout);
  assert.match(r.stdout, /Secret detectors, held-out lines only/);
  checkFloors(parseTable(r.stdout, "Secret detectors, all lines"), SECRET_RECALL_FLOOR, 4, r.stdout);
});

function checkFloors(rows: Row[], recallFloor: Record<string, number>, minEntities: number, out: string): void {
  for (const type of Object.keys(recallFloor)) {
    const row: Row | undefined = rows.find((x: Row): boolean => x.type === type);
    assert.ok(row, `no row for ${type} in:\n${out}`);
    assert.ok(row.entities >= minEntities, `${type}: only ${row.entities} labelled entities`);
    assert.ok(row.recall >= recallFloor[type], `${type} recall ${row.recall} < ${recallFloor[type]}\n${out}`);
    assert.ok(row.precision >= PRECISION_FLOOR, `${type} precision ${row.precision} < ${PRECISION_FLOOR}\n${out}`);
  }
}

test("pii-eval exits non-zero when it cannot run (not on figures)", () => {
  const dir: string = mkdtempSync(join(tmpdir(), "pii-eval-bad-"));
  try {
    const bad: string = join(dir, "bad.jsonl");
    writeFileSync(bad, JSON.stringify({ text: "no entities field" }) + "\n");
    const r = spawnSync(process.execPath, ["--import", "tsx", "test/eval/pii-eval.ts", "--set", bad], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 1: needs text and entities/);
    const s = spawnSync(process.execPath, ["--import", "tsx", "test/eval/pii-eval.ts", "--secrets-set", bad], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(s.status, 1);
    assert.match(s.stderr, /line 1: needs text and entities/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
