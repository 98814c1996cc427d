// The database seam: the sidecar talks SQL through this interface so the same code runs on a
// PostgreSQL server (pg Pool) and on embedded PGlite. Only features both share are used:
// positional parameters ($1, $2, …), multi-statement scripts via exec(), and transactions.
import pg from "pg";

/** Rows of one statement. */
export interface QueryResult<R> {
  rows: R[];
  /** Rows returned or affected (INSERT/UPDATE/DELETE). */
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one statement with positional parameters. Always pass values as params, never concatenate. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a parameterless script that may hold several statements (migrations). */
  exec(sql: string): Promise<void>;
}

/** A database handle owned by the sidecar. */
export interface Db extends Queryable {
  /** "postgres" for a server reached by URL, "pglite" for the embedded engine. */
  readonly kind: "postgres" | "pglite";
  /** Runs `fn` inside BEGIN/COMMIT on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Cheap liveness probe for /health. */
  ping(): Promise<void>;
  /** Releases connections (pool) or flushes and closes the embedded engine. */
  close(): Promise<void>;
}

/** Options of {@link createPostgresDb}. */
export interface PostgresDbOptions {
  /** postgres:// URL (the sidecar's `database_url`). Required. */
  connectionString: string;
  /**
   * Schema to put first on every connection's search_path. Optional; default: the server's
   * search_path. Tests use it to give each run its own schema in a shared database.
   */
  schema?: string;
  /** Pool size. Default 10. */
  max?: number;
  /** Called with errors of idle pooled connections (otherwise they would crash the process). */
  onIdleError?: (err: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A PostgreSQL server behind a pg Pool. Connects lazily; use ping() to fail fast at startup. */
export function createPostgresDb(opts: PostgresDbOptions): Db {
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
    // The schema ends up in a startup option string, not a bind parameter, so it must be inert.
    throw new Error(`invalid schema name ${JSON.stringify(opts.schema)}: expected [a-z_][a-z0-9_]*`);
  }
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    // Bounded waits: an unreachable database must turn into UNAVAILABLE within the filter's
    // deadline instead of queueing requests forever.
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    options: opts.schema ? `-c search_path=${opts.schema}` : undefined,
  });
  pool.on("error", (err) => opts.onIdleError?.(err));

  const run = async <R>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    const res = await client.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  };
  const over = (client: pg.Pool | pg.PoolClient): Queryable => ({
    query: (sql, params) => run(client, sql, params),
    // A parameterless query goes through the simple protocol, which accepts several statements.
    exec: async (sql) => {
      await client.query(sql);
    },
  });

  return {
    kind: "postgres",
    ...over(pool),
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const result = await fn(over(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackErr) {
          // The connection is unusable; hand the error to release() so the pool discards it.
          broken = rollbackErr as Error;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    close: () => pool.end(),
  };
}
