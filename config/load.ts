// Entry points of the config loader: YAML text or a file in, a fully defaulted LeashConfig out,
// or one ConfigError listing every problem.

import { readFileSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { LineCounter, parseDocument, type Document } from "yaml";

import { ConfigError, type ConfigProblem } from "./errors.ts";
import type { LeashConfig } from "./types.ts";
import { validateConfig, type ConfigEnv } from "./validate.ts";

/** The embedded default config (the quick start's), next to this module whatever the cwd. */
export const DEFAULT_CONFIG_PATH: string = fileURLToPath(new URL("./leash.yaml", import.meta.url));

/**
 * Parses and validates config text. `source` names the text in error messages (usually its path).
 * @throws ConfigError with every syntax or schema problem found.
 */
export function parseConfig(text: string, source: string, env: ConfigEnv = process.env): LeashConfig {
  const lineCounter: LineCounter = new LineCounter();
  // prettyErrors off: positions come from the LineCounter and messages stay one line.
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = doc.errors.map((err): ConfigProblem => {
      const { line, col } = lineCounter.linePos(err.pos[0]);
      return { key: "", message: `invalid YAML: ${err.message}`, line, column: col };
    });
    throw new ConfigError(source, problems);
  }
  const result = validateConfig(doc.toJS(), env);
  if (result.config === undefined) throw new ConfigError(source, result.problems);
  return result.config;
}

/**
 * Reads and validates a config file; without a path, the embedded default `config/leash.yaml`.
 * @throws ConfigError when the file cannot be read or is invalid.
 */
export function loadConfig(path?: string, env: ConfigEnv = process.env): LeashConfig {
  const file: string = path ?? DEFAULT_CONFIG_PATH;
  const source: string = path ?? displayPath(DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err: unknown) {
    const reason: string = err instanceof Error ? err.message : String(err);
    throw new ConfigError(source, [{ key: "", message: `cannot read the file: ${reason}` }]);
  }
  return parseConfig(text, source, env);
}

/** Messages read better with "config/leash.yaml" than a long absolute path. */
function displayPath(file: string): string {
  const rel: string = relative(process.cwd(), file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}
