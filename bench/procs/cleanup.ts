// Everything a benchmark run starts (processes, the temp database, temp directories) registers
// its undo here, so a normal end, an error and Ctrl-C all leave the machine as it was.

type Cleanup = () => Promise<void> | void;

interface Entry {
  what: string;
  run: Cleanup;
}

const entries: Entry[] = [];
let running: Promise<void> | null = null;
const abortController: AbortController = new AbortController();

/** Aborted on SIGINT/SIGTERM: the load generator stops scheduling and the run unwinds. */
export const interrupted: AbortSignal = abortController.signal;

/** Registers an undo step; steps run last-registered first (a database is dropped after its users stop). */
export function onCleanup(what: string, run: Cleanup): void {
  entries.push({ what, run });
}

/** Runs every registered step once, even when some fail (failures are reported on stderr). */
export function runCleanups(): Promise<void> {
  running ??= (async (): Promise<void> => {
    while (entries.length > 0) {
      const entry: Entry = entries.pop()!;
      try {
        await entry.run();
      } catch (error: unknown) {
        process.stderr.write(`bench: cleanup of ${entry.what} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  })();
  return running;
}

/**
 * First signal: abort the run and clean up, then exit 130. A second signal exits at once: the user
 * has decided not to wait (registered processes may then survive and are named on stderr).
 */
export function installSignalHandlers(): void {
  let signalled: boolean = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`bench: second ${signal}, exiting without cleanup of: ${entries.map((e) => e.what).join(", ")}\n`);
      process.exit(130);
    }
    signalled = true;
    process.stderr.write(`bench: ${signal}, stopping and cleaning up…\n`);
    abortController.abort(new Error(`interrupted by ${signal}`));
    void runCleanups().finally(() => process.exit(130));
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
}

/**
 * The life of a bench entry point (`name`: its log prefix): flags parsed by `parse` (a bad flag
 * prints the message and `usage`, exit 2), then `main` under the signal handlers; whatever
 * happens, everything registered is cleaned up before the exit (0, or 1 after a failure).
 */
export async function runEntry<T>(name: string, usage: string, parse: () => T, main: (options: T) => Promise<void>): Promise<never> {
  let options: T;
  try {
    options = parse();
  } catch (error: unknown) {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
    process.exit(2);
  }
  installSignalHandlers();
  // A reader that went away (`… 2>&1 | head`) makes the next write fail with EPIPE; unhandled, that
  // error ends the process at once and leaves what it started running. The output is lost either
  // way; the run goes on to its end and its cleanup.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  let exitCode: number = 0;
  try {
    await main(options);
  } catch (error: unknown) {
    process.stderr.write(`${name}: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    exitCode = 1;
  } finally {
    await runCleanups();
  }
  process.exit(exitCode);
}
