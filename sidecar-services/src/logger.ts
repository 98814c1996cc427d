// Structured logging: one JSON object per line on stdout, so log shippers need no parser config.
// Fields must never carry API keys, secrets, peppers or provider credentials.

/** Log severity, in increasing order. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Extra structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/** Logger used throughout the sidecar; inject {@link silentLogger} in tests. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /**
   * Writes a line whose shape an outside contract fixes: `{"timestamp","level",...fields}` and
   * nothing else (the per-request usage line, see usage.ts). Optional: loggers without it get an
   * ordinary info()/warn() line instead.
   */
  entry?(level: LogLevel, fields: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Lowest level written. Default "info". */
  level?: LogLevel;
  /** Line sink. Default: process.stdout, through {@link batchedLines}. */
  write?: (line: string) => void;
}

/** Most bytes held before they are written without waiting for the turn to end. */
const MAX_BATCH_BYTES = 64 * 1024;

/**
 * A line sink that hands `sink` the lines of one event-loop turn at once. The request log is a
 * line per request: written one by one, each was a write system call on stdout (synchronous for
 * files and pipes in Node) and most of the logger's time. Lines are kept in order, written at the
 * end of the turn (setImmediate), sooner past 64 KB, and on process exit (a crash included); a
 * process killed outright (SIGKILL) loses at most the lines of its last turn.
 */
export function batchedLines(sink: (chunk: string) => void): (line: string) => void {
  let pending: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.length === 1 ? pending[0] : pending.join("");
    pending = [];
    bytes = 0;
    sink(chunk);
  };
  process.on("exit", flush);
  return (line: string): void => {
    pending.push(line);
    bytes += line.length;
    if (bytes >= MAX_BATCH_BYTES) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

let stdoutLines: ((line: string) => void) | null = null;

/** One batched writer for stdout per process (every logger shares it, so lines stay in order). */
function stdoutSink(): (line: string) => void {
  stdoutLines ??= batchedLines((chunk) => process.stdout.write(chunk));
  return stdoutLines;
}

/** True for a valid level name (used to validate LEASH_LOG_LEVEL). */
export function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && Object.hasOwn(ORDER, value);
}

/** Writes `{"ts","level","msg",...fields}` lines. Errors in fields are reduced to name + message. */
export function createJsonLogger(opts: JsonLoggerOptions = {}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const write = opts.write ?? stdoutSink();
  const replacer = (_k: string, v: unknown) =>
    v instanceof Error ? { name: v.name, message: v.message } : typeof v === "bigint" ? v.toString() : v;
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }, replacer) + "\n");
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    entry(level, fields) {
      if (ORDER[level] < min) return;
      const line = { timestamp: new Date().toISOString(), level, ...fields };
      // The per-request line (usage.ts) holds only strings, numbers and nulls: the replacer would
      // change nothing, and a replacer takes JSON.stringify off its fast path (most of this
      // function's time, once per request).
      write(JSON.stringify(line, allPlain(fields) ? undefined : replacer) + "\n");
    },
  };
}

/** True when no field needs the replacer: every value a string, number, boolean or null. */
function allPlain(fields: LogFields): boolean {
  for (const k in fields) {
    const v = fields[k];
    if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return false;
  }
  return true;
}

/** Discards everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
