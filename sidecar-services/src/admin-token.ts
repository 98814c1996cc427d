// The admin API's bearer token: where it comes from, and how a presented one is checked.
//
//   LEASH_ADMIN_TOKEN          ≥ 32 characters; required for the admin API with a PostgreSQL server
//   <data_dir>/admin-token     embedded mode without the variable: generated once, mode 0600
//
// With a PostgreSQL server and no LEASH_ADMIN_TOKEN the admin API is not started at all (a token
// generated on one replica would not be known to the others or to the operator's CLI).
// Default import (not named ones) so tests can observe crypto.timingSafeEqual being used.
import crypto from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Environment variable holding the admin token. */
export const ADMIN_TOKEN_ENV = "LEASH_ADMIN_TOKEN";
/** Shortest accepted admin token, in characters. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;
/** File name of the generated token inside data_dir (embedded mode only). */
export const ADMIN_TOKEN_FILE = "admin-token";

/** Where the token came from, for the startup log (never the value). */
export type AdminTokenSource = "env" | "file-created" | "file";

/** Options of {@link loadAdminToken}. */
export interface LoadAdminTokenOptions {
  env: Record<string, string | undefined>;
  /** The sidecar's data_dir (embedded mode keeps the generated token there). */
  dataDir: string;
  /** True when the database is embedded: only then is a token generated. */
  embedded: boolean;
  /** Called when the token file is readable by group/others. */
  warn?: (msg: string) => void;
}

/** The admin token, where it came from, and the file holding it (when it came from one). */
export interface LoadedAdminToken {
  token: string;
  source: AdminTokenSource;
  /** Path of the token file (sources "file-created"/"file"); log it, never the token. */
  file?: string;
}

/** Returns the admin token, or null when the admin API must stay off (server mode without the variable). */
export function loadAdminToken(opts: LoadAdminTokenOptions): LoadedAdminToken | null {
  const fromEnv = opts.env[ADMIN_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    if (fromEnv.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(fromEnv)) {
      throw new Error(`${ADMIN_TOKEN_ENV} must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without whitespace (e.g. \`openssl rand -hex 32\`)`);
    }
    return { token: fromEnv, source: "env" };
  }
  if (!opts.embedded) return null;
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = join(opts.dataDir, ADMIN_TOKEN_FILE);
  try {
    // "wx": never overwrite an existing token, even when two processes start at once.
    writeFileSync(file, crypto.randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    return { token: readTokenFile(file), source: "file-created", file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0) opts.warn?.(`${file} is readable by other users; run chmod 600 on it`);
  return { token: readTokenFile(file), source: "file", file };
}

function readTokenFile(file: string): string {
  const token = readFileSync(file, "utf8").trim();
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) throw new Error(`${file} holds no valid admin token (expected ${MIN_ADMIN_TOKEN_LENGTH}+ characters)`);
  return token;
}

/**
 * Returns a checker for presented tokens. Both sides are first reduced to an HMAC under a random
 * per-process key, so the constant-time comparison always sees two 32-byte values: neither the
 * length nor any prefix of the real token leaks through timing.
 */
export function createTokenChecker(expected: string): (presented: string) => boolean {
  const key = crypto.randomBytes(32);
  const digest = (s: string) => crypto.createHmac("sha256", key).update(s, "utf8").digest();
  const want = digest(expected);
  return (presented) => crypto.timingSafeEqual(digest(presented), want);
}

/** The token of an `Authorization: Bearer <token>` header value, or "" if absent/malformed. */
export function bearerToken(header: string | undefined): string {
  if (!header) return "";
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return m ? m[1]! : "";
}
