// The ledger's durable overflow: append-only JSONL segment files under <data_dir>/spool/. Rows go
// here when PostgreSQL is failing, when the in-memory queue is full, and at shutdown; the ledger
// writer drains closed segments back into PostgreSQL and deletes each one once all its rows are in.
//
// append() resolves only after the bytes are on disk (fdatasync), so an acknowledged row survives
// a crash. Appends are group-committed: rows arriving while a write is in progress share the next
// write and fsync, so a degraded sidecar still acknowledges thousands of reports per second.
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { open, readFile, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

const SEGMENT = /^usage-\d{13}-(\d+)-[0-9a-f]+-\d+\.jsonl$/;

/** Segments open for appending in this process (several sidecars may share a process in tests). */
const openHere = new Set<string>();

/** True when `pid` is a live process other than this one: its open segment is not ours to drain. */
function aliveElsewhere(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A directory of spool segments. */
export interface UsageSpool {
  readonly dir: string;
  /** Appends rows (one JSON line each) to the open segment; resolves when they are fsynced. */
  append(rows: readonly unknown[]): Promise<void>;
  /** Closes the open segment (after pending appends) so the drainer may read it; the next append opens a new one. */
  rotate(): Promise<void>;
  /** Closed segments, oldest first (absolute paths). */
  closedSegments(): string[];
  /** Rows of a segment; lines that do not parse (a write torn by a crash, never acknowledged) are skipped and counted. */
  read(path: string): Promise<{ rows: unknown[]; skipped: number }>;
  /** Deletes a drained segment. */
  remove(path: string): Promise<void>;
  /** Closes the open segment. */
  close(): Promise<void>;
}

export function createUsageSpool(dir: string): UsageSpool {
  // Created on first use: a sidecar that never spools leaves no directory behind.
  const instance = randomBytes(3).toString("hex");
  let seq = 0;
  let current: { path: string; fh: FileHandle } | null = null;
  let pending: { lines: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let chain: Promise<void> = Promise.resolve();
  let scheduled = false;

  const openSegment = async () => {
    // Epoch ms first (13 digits until 2286) so name order is age order; pid + seq keep names unique.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `usage-${String(Date.now()).padStart(13, "0")}-${process.pid}-${instance}-${seq++}.jsonl`);
    openHere.add(path);
    const fh = await open(path, "a", 0o600);
    // The new directory entry must be durable too, or a crash could lose the whole file.
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
    current = { path, fh };
    return current;
  };

  const writePending = async () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const seg = current ?? (await openSegment());
      await seg.fh.appendFile(batch.map((p) => p.lines).join(""));
      await seg.fh.datasync();
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  };

  return {
    dir,
    append(rows) {
      if (rows.length === 0) return Promise.resolve();
      const lines = rows.map((r) => JSON.stringify(r) + "\n").join("");
      return new Promise<void>((resolve, reject) => {
        pending.push({ lines, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          chain = chain.then(writePending);
        }
      });
    },
    async rotate() {
      await chain;
      if (!current) return;
      const { fh, path } = current;
      current = null;
      await fh.close();
      openHere.delete(path);
    },
    closedSegments() {
      if (!existsSync(dir)) return [];
      const segments: string[] = [];
      for (const f of readdirSync(dir).sort()) {
        const m = SEGMENT.exec(f);
        // Another live sidecar's files (a shared data_dir) may still be growing: left to it.
        if (!m || aliveElsewhere(Number(m[1]))) continue;
        const path = join(dir, f);
        if (!openHere.has(path)) segments.push(path);
      }
      return segments;
    },
    async read(path) {
      const text = await readFile(path, "utf8");
      const rows: unknown[] = [];
      let skipped = 0;
      for (const line of text.split("\n")) {
        if (line === "") continue;
        try {
          rows.push(JSON.parse(line));
        } catch {
          skipped++;
        }
      }
      return { rows, skipped };
    },
    async remove(path) {
      await unlink(path);
    },
    async close() {
      await this.rotate();
    },
  };
}
