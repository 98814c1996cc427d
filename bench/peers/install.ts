// Installs the peer gateways into bench/.peers/ (git-ignored), each pinned to one version and
// isolated from the project: LiteLLM in its own Python virtualenv, Portkey in its own npm package
// directory. Installing is idempotent; an install that fails is reported by the run, not hidden.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { PEERS_DIR } from "../targets/paths.ts";

/**
 * The newest LiteLLM whose `[proxy]` extra installs from the registries this project can reach:
 * from 1.108 on it pins litellm-proxy-extras releases newer than the registry serves here, and
 * 1.110 adds a `litellm-proxy` package that is not served at all.
 */
export const LITELLM_VERSION: string = "1.106.12";
export const PORTKEY_VERSION: string = "1.15.2";
/**
 * Portkey 1.15.2 declares @hono/node-server ^1.3.3, and the newest matching release makes every
 * streamed chat completion fail ("TypeError: immutable", Portkey-AI/gateway issue 1389; 1.14.2
 * still fails here). 1.13.8 streams correctly, so it is pinned with an npm override.
 */
export const HONO_NODE_SERVER_VERSION: string = "1.13.8";

export const LITELLM_VENV: string = join(PEERS_DIR, "litellm-venv");
export const LITELLM_BIN: string = join(LITELLM_VENV, "bin", "litellm");
export const PORTKEY_DIR: string = join(PEERS_DIR, "portkey");
export const PORTKEY_ENTRY: string = join(PORTKEY_DIR, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");

export interface PeerInstall {
  ok: boolean;
  version: string;
  /** Why it is not usable (empty when ok). */
  reason: string;
}

/** Installs can take minutes (LiteLLM's proxy extra pulls ~150 packages); beyond this they fail. */
const INSTALL_TIMEOUT_MS: number = 15 * 60_000;

function run(command: string, args: string[], cwd: string, logFile: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fd: number = openSync(logFile, "a");
    const child = spawn(command, args, { cwd, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    const timer: NodeJS.Timeout = setTimeout(() => child.kill("SIGKILL"), INSTALL_TIMEOUT_MS);
    child.once("error", (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("exit", (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} ${signal !== null ? `killed by ${signal}` : `exited ${code}`} (log: ${logFile})`));
    });
  });
}

function lastLines(file: string, lines: number = 3): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join(" | ");
  } catch {
    return "";
  }
}

/** The installed LiteLLM version, read from its dist-info directory, or null. */
function installedLitellm(): string | null {
  if (!existsSync(LITELLM_BIN)) return null;
  const lib: string = join(LITELLM_VENV, "lib");
  for (const python of existsSync(lib) ? readdirSync(lib) : []) {
    const site: string = join(lib, python, "site-packages");
    for (const entry of existsSync(site) ? readdirSync(site) : []) {
      const match: RegExpMatchArray | null = entry.match(/^litellm-([\d.]+)\.dist-info$/);
      if (match !== null) return match[1];
    }
  }
  return null;
}

export async function ensureLitellm(allowInstall: boolean): Promise<PeerInstall> {
  const have: string | null = installedLitellm();
  if (have === LITELLM_VERSION) return { ok: true, version: have, reason: "" };
  if (!allowInstall) return { ok: false, version: LITELLM_VERSION, reason: `not installed in ${LITELLM_VENV} (run without --no-install)` };
  mkdirSync(PEERS_DIR, { recursive: true });
  const log: string = join(PEERS_DIR, "litellm-install.log");
  process.stderr.write(`bench: installing litellm[proxy]==${LITELLM_VERSION} into ${LITELLM_VENV} (log: ${log})…\n`);
  try {
    if (!existsSync(join(LITELLM_VENV, "bin", "pip"))) await run("python3", ["-m", "venv", LITELLM_VENV], PEERS_DIR, log);
    await run(join(LITELLM_VENV, "bin", "pip"), ["install", "--quiet", `litellm[proxy]==${LITELLM_VERSION}`], PEERS_DIR, log);
  } catch (error: unknown) {
    return { ok: false, version: LITELLM_VERSION, reason: `install failed: ${error instanceof Error ? error.message : String(error)}: ${lastLines(log)}` };
  }
  const now: string | null = installedLitellm();
  return now === LITELLM_VERSION
    ? { ok: true, version: now, reason: "" }
    : { ok: false, version: LITELLM_VERSION, reason: `pip finished but litellm ${LITELLM_VERSION} is not in the venv: ${lastLines(log)}` };
}

function packageVersion(dir: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

function portkeyReady(): boolean {
  const modules: string = join(PORTKEY_DIR, "node_modules");
  return (
    existsSync(PORTKEY_ENTRY) &&
    packageVersion(join(modules, "@portkey-ai", "gateway")) === PORTKEY_VERSION &&
    packageVersion(join(modules, "@hono", "node-server")) === HONO_NODE_SERVER_VERSION
  );
}

export async function ensurePortkey(allowInstall: boolean): Promise<PeerInstall> {
  if (portkeyReady()) return { ok: true, version: PORTKEY_VERSION, reason: "" };
  if (!allowInstall) return { ok: false, version: PORTKEY_VERSION, reason: `not installed in ${PORTKEY_DIR} (run without --no-install)` };
  mkdirSync(PORTKEY_DIR, { recursive: true });
  // Its own package.json, so the peer's dependencies never touch the project's lock file.
  const manifest = {
    name: "leash-bench-portkey",
    private: true,
    type: "module",
    dependencies: { "@portkey-ai/gateway": PORTKEY_VERSION },
    overrides: { "@hono/node-server": HONO_NODE_SERVER_VERSION },
  };
  writeFileSync(join(PORTKEY_DIR, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const log: string = join(PEERS_DIR, "portkey-install.log");
  process.stderr.write(`bench: installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${PORTKEY_DIR} (log: ${log})…\n`);
  try {
    await run("npm", ["install", "--no-audit", "--no-fund", "--omit=dev"], PORTKEY_DIR, log);
  } catch (error: unknown) {
    return { ok: false, version: PORTKEY_VERSION, reason: `install failed: ${error instanceof Error ? error.message : String(error)}: ${lastLines(log)}` };
  }
  return portkeyReady()
    ? { ok: true, version: PORTKEY_VERSION, reason: "" }
    : { ok: false, version: PORTKEY_VERSION, reason: `npm finished but the gateway is not where expected: ${lastLines(log)}` };
}
