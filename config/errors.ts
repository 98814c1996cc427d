// Errors of the config loader. One error type for every failure (syntax, schema, rule) so callers
// (CLI, sidecar, tests) handle a single shape and can show every problem of a file at once.

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** Key path of the offending value, e.g. "providers[1].base_url"; "" for the document itself. */
  key: string;
  /** What is wrong, phrased to be read after the key path. */
  message: string;
  /** 1-based line, set for YAML syntax errors (the schema checks work on parsed values). */
  line?: number;
  /** 1-based column, set together with `line`. */
  column?: number;
}

/** A config file that cannot be used. Carries every problem found, not just the first. */
export class ConfigError extends Error {
  /** Key path of the first problem (convenience for callers that show only one). */
  readonly key: string;
  /** File name (or other label) the text came from, as given to the loader. */
  readonly source: string;
  readonly problems: ConfigProblem[];

  constructor(source: string, problems: ConfigProblem[]) {
    if (problems.length === 0) throw new Error("ConfigError needs at least one problem");
    super(problems.map((p: ConfigProblem): string => formatProblem(source, p)).join("\n"));
    this.name = "ConfigError";
    this.source = source;
    this.problems = problems;
    this.key = problems[0].key;
  }
}

/** `file: key: message`, or `file:line:col: message` when the position is known (syntax errors). */
export function formatProblem(source: string, problem: ConfigProblem): string {
  const where: string =
    problem.line !== undefined ? `${source}:${problem.line}:${problem.column ?? 1}` : source;
  return problem.key === "" ? `${where}: ${problem.message}` : `${where}: ${problem.key}: ${problem.message}`;
}
