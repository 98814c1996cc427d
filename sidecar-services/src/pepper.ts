// The pepper keys the HMAC of every stored key secret. Lose it and every key becomes invalid;
// leak it together with a database dump and secrets become guessable offline (still 190 bits).
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Environment variable holding the pepper (required with a PostgreSQL server). */
export const PEPPER_ENV = "LEASH_KEY_PEPPER";
/** Shortest accepted pepper, in characters. */
export const MIN_PEPPER_LENGTH = 32;
/** File name of the generated pepper inside data_dir (embedded mode only). */
export const PEPPER_FILE = "key-pepper";

/** Where a pepper came from, for the startup log (never the value). */
export type PepperSource = "env" | "file-created" | "file";

/** Options of {@link loadPepper}. */
export interface LoadPepperOptions {
  /** Environment to read LEASH_KEY_PEPPER from. */
  env: Record<string, string | undefined>;
  /** The sidecar's data_dir; the pepper file lives there. */
  dataDir: string;
  /**
   * True when the database is embedded. Only then may a pepper be generated: with a shared server
   * several sidecars must agree on it, so it has to come from the environment.
   */
  embedded: boolean;
  /** Called when the pepper file is readable by group/others. */
  warn?: (msg: string) => void;
}

/** Returns the pepper from the environment or, in embedded mode, from (or newly into) data_dir. */
export function loadPepper(opts: LoadPepperOptions): { pepper: string; source: PepperSource } {
  const fromEnv = opts.env[PEPPER_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    if (fromEnv.length < MIN_PEPPER_LENGTH) throw new Error(`${PEPPER_ENV} must be at least ${MIN_PEPPER_LENGTH} characters`);
    return { pepper: fromEnv, source: "env" };
  }
  if (!opts.embedded) {
    throw new Error(`${PEPPER_ENV} is required when the sidecar uses a PostgreSQL server (e.g. \`openssl rand -hex 32\`)`);
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = join(opts.dataDir, PEPPER_FILE);
  try {
    // "wx" fails if the file exists, so a pepper is never overwritten, even by a concurrent start.
    writeFileSync(file, randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    return { pepper: readPepperFile(file), source: "file-created" };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0) opts.warn?.(`${file} is readable by other users; run chmod 600 on it`);
  return { pepper: readPepperFile(file), source: "file" };
}

function readPepperFile(file: string): string {
  const pepper = readFileSync(file, "utf8").trim();
  if (pepper.length < MIN_PEPPER_LENGTH) throw new Error(`${file} holds no valid pepper (expected ${MIN_PEPPER_LENGTH}+ characters)`);
  return pepper;
}
