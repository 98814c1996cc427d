// CLI entry: `tsx mock-provider/main.ts [--port N] [--host H] [--latency-ms N] [--chunk-delay-ms N]
// [--log-limit N]`. The one stdout line is a contract: `leash start` and test harnesses wait for it
// and read the port from it.

import { parseArgs } from "node:util";
import { startMockProvider, type MockProvider } from "./server.ts";

const USAGE: string =
  "usage: mock-provider [--port N (default 0 = free port)] [--host H (default 127.0.0.1)] " +
  "[--latency-ms N] [--chunk-delay-ms N] [--log-limit N (default 10000)]";

interface CliOptions {
  port: number;
  host: string;
  latencyMs: number;
  chunkDelayMs: number;
  logLimit: number;
}

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "latency-ms": { type: "string", default: "0" },
      "chunk-delay-ms": { type: "string", default: "0" },
      "log-limit": { type: "string", default: "10000" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return {
    port: integerArg("--port", values.port, 65_535),
    host: values.host,
    latencyMs: integerArg("--latency-ms", values["latency-ms"], 2_147_483_647),
    chunkDelayMs: integerArg("--chunk-delay-ms", values["chunk-delay-ms"], 2_147_483_647),
    logLimit: integerArg("--log-limit", values["log-limit"], 10_000_000),
  };
}

function integerArg(name: string, value: string, max: number): number {
  const n: number = Number(value);
  if (!/^\d+$/.test(value) || n > max) throw new Error(`${name} must be an integer from 0 to ${max}, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error: unknown) {
    process.stderr.write(`mock-provider: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exit(2);
  }

  let mock: MockProvider;
  try {
    mock = await startMockProvider(options);
  } catch (error: unknown) {
    process.stderr.write(`mock-provider: cannot listen on ${options.host}:${options.port}: ${String(error)}\n`);
    process.exit(1);
  }
  process.stdout.write(`mock-provider listening on ${mock.url}\n`);

  let stopping: boolean = false;
  const stop = (): void => {
    // A second signal means the user does not want to wait for a graceful close.
    if (stopping) process.exit(1);
    stopping = true;
    mock.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

await main();
