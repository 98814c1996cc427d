// The master key ring that encrypts provider credentials at rest (AES-256-GCM, see
// credential-cipher.ts). The keys never enter the database; each sealed row records the id of the
// key that sealed it, so a ring with several keys lets old rows decrypt while new writes use the
// current (first) key — that is master key rotation (docs/tenants-and-keys.md).
//
// Sources, first match wins:
//   LEASH_MASTER_KEYS       "id2:<key>,id1:<key>"  a ring; first = current
//   LEASH_MASTER_KEY        "<key>" (or "id:<key>") one key
//   LEASH_MASTER_KEY_FILE   a file holding one key or a ring (comma- or newline-separated)
//   embedded mode only      <data_dir>/master-key, generated once with mode 0600 (like the pepper)
// A key is 32 bytes written as 64 hex digits or as base64. An entry without "id:" gets the id
// "mk-" + the first 12 hex digits of a SHA-256 of the key: stable, so a ring can be written later
// with the same id, and a different key can never pose under an existing id.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Environment variable holding the key ring ("id2:<key>,id1:<key>", first = current). */
export const MASTER_KEYS_ENV = "LEASH_MASTER_KEYS";
/** Environment variable holding a single master key. */
export const MASTER_KEY_ENV = "LEASH_MASTER_KEY";
/** Environment variable naming a file that holds a master key or a ring. */
export const MASTER_KEY_FILE_ENV = "LEASH_MASTER_KEY_FILE";
/** File name of the generated master key inside data_dir (embedded mode only). */
export const MASTER_KEY_FILE = "master-key";
/** Length of an AES-256 key in bytes. */
export const MASTER_KEY_BYTES = 32;

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}={0,1}$/;

/** One master key. */
export interface MasterKey {
  /** Recorded with every row it seals; [A-Za-z0-9._-]{1,64}. */
  readonly id: string;
  /** 32 raw bytes. */
  readonly key: Buffer;
}

/** Master keys in order of preference: `current` seals new values, every key opens old ones. */
export interface KeyRing {
  /** The key new writes use (the first of the ring). */
  readonly current: MasterKey;
  /** Key of `id`, or undefined when the ring does not hold it. */
  get(id: string): MasterKey | undefined;
  /** Ids in ring order, for logs. */
  readonly ids: readonly string[];
}

/** Where the ring came from, for the startup log (never a value). */
export type KeyRingSource = "env-ring" | "env" | "file" | "data-dir-created" | "data-dir";

/** Raised for a malformed key or ring. Messages name the source and position, never key material. */
export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MasterKeyError";
  }
}

/** Default id of a key written without one: stable for the key, reveals nothing usable about it. */
export function fingerprintKeyId(key: Buffer): string {
  return "mk-" + createHash("sha256").update("leash master key id\0").update(key).digest("hex").slice(0, 12);
}

/** 32 bytes from 64 hex digits or base64 (standard or URL alphabet); null for anything else. */
export function decodeMasterKey(text: string): Buffer | null {
  if (HEX_KEY.test(text)) return Buffer.from(text, "hex");
  if (!BASE64_KEY.test(text)) return null;
  const bytes = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  return bytes.length === MASTER_KEY_BYTES ? bytes : null;
}

/** Builds a ring from keys in preference order; ids must be unique. */
export function createKeyRing(keys: readonly MasterKey[]): KeyRing {
  if (keys.length === 0) throw new MasterKeyError("a master key ring needs at least one key");
  const byId = new Map<string, MasterKey>();
  for (const k of keys) {
    if (!KEY_ID.test(k.id)) throw new MasterKeyError(`invalid master key id ${JSON.stringify(k.id)}: expected [A-Za-z0-9._-]{1,64}`);
    if (k.key.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`master key ${k.id} must be ${MASTER_KEY_BYTES} bytes`);
    if (byId.has(k.id)) throw new MasterKeyError(`master key id ${k.id} appears twice in the ring`);
    byId.set(k.id, { id: k.id, key: Buffer.from(k.key) });
  }
  const current = byId.get(keys[0]!.id)!;
  return { current, get: (id) => byId.get(id), ids: [...byId.keys()] };
}

/**
 * Parses "[id:]key" entries separated by commas or newlines (blank entries ignored). `source`
 * names the origin in error messages, e.g. "LEASH_MASTER_KEYS".
 */
export function parseKeyRing(text: string, source: string): KeyRing {
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0) throw new MasterKeyError(`${source} holds no master key`);
  const keys = entries.map((entry, i): MasterKey => {
    const colon = entry.indexOf(":");
    const id = colon >= 0 ? entry.slice(0, colon).trim() : undefined;
    const key = decodeMasterKey(colon >= 0 ? entry.slice(colon + 1).trim() : entry);
    if (!key) {
      throw new MasterKeyError(
        `${source}: entry ${i + 1} is not a 32-byte key written as 64 hex digits or base64 (e.g. \`openssl rand -hex 32\`)`,
      );
    }
    return { id: id ?? fingerprintKeyId(key), key };
  });
  return createKeyRing(keys);
}

/** Options of {@link loadKeyRing}. */
export interface LoadKeyRingOptions {
  /** Environment to read LEASH_MASTER_KEYS / LEASH_MASTER_KEY / LEASH_MASTER_KEY_FILE from. */
  env: Record<string, string | undefined>;
  /** The sidecar's data_dir; the generated key lives there. */
  dataDir: string;
  /**
   * True when the database is embedded: only then is a key generated. With a shared server every
   * replica must hold the same ring, so it has to come from the environment.
   */
  embedded: boolean;
  /** Called when a key file is readable by group/others. */
  warn?: (msg: string) => void;
}

/**
 * Loads the master key ring, or returns null when none is configured with a PostgreSQL server
 * (stored provider credentials are then unavailable; the env credentials of the config still work).
 */
export function loadKeyRing(opts: LoadKeyRingOptions): { ring: KeyRing; source: KeyRingSource } | null {
  const { env } = opts;
  const set = [MASTER_KEYS_ENV, MASTER_KEY_ENV, MASTER_KEY_FILE_ENV].filter((name) => (env[name] ?? "") !== "");
  if (set.length > 1) throw new MasterKeyError(`set only one of ${set.join(", ")}`);
  if (env[MASTER_KEYS_ENV]) return { ring: parseKeyRing(env[MASTER_KEYS_ENV]!, MASTER_KEYS_ENV), source: "env-ring" };
  if (env[MASTER_KEY_ENV]) {
    const ring = parseKeyRing(env[MASTER_KEY_ENV]!, MASTER_KEY_ENV);
    if (ring.ids.length !== 1) throw new MasterKeyError(`${MASTER_KEY_ENV} must hold one key; use ${MASTER_KEYS_ENV} for a ring`);
    return { ring, source: "env" };
  }
  if (env[MASTER_KEY_FILE_ENV]) {
    const file = env[MASTER_KEY_FILE_ENV]!;
    return { ring: readKeyFile(file, `${MASTER_KEY_FILE_ENV} (${file})`, opts.warn), source: "file" };
  }
  if (!opts.embedded) return null;

  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = join(opts.dataDir, MASTER_KEY_FILE);
  try {
    // "wx": never overwrite an existing key, even when two processes start at once.
    writeFileSync(file, randomBytes(MASTER_KEY_BYTES).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
    return { ring: readKeyFile(file, file), source: "data-dir-created" };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return { ring: readKeyFile(file, file, opts.warn), source: "data-dir" };
}

function readKeyFile(file: string, source: string, warn?: (msg: string) => void): KeyRing {
  if (warn && (statSync(file).mode & 0o077) !== 0) warn(`${file} is readable by other users; run chmod 600 on it`);
  return parseKeyRing(readFileSync(file, "utf8"), source);
}
