// Sidecar process entry point: parse flags, load config, start, print the ready line, stop on
// SIGINT/SIGTERM. All wiring lives in bootstrap.ts; all logic below it.
//
//   node build/sidecar/main.js [--config leash.yaml]
import { parseArgs } from "node:util";
import { loadConfig } from "../../config/load.ts";
import { startSidecar } from "./bootstrap.ts";
import { tuneHeap } from "./heap-tuning.ts";
import { createJsonLogger, isLogLevel } from "./logger.ts";

tuneHeap();

/** Upper bound on a graceful stop before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000;

const log = createJsonLogger({ level: isLogLevel(process.env.LEASH_LOG_LEVEL) ? process.env.LEASH_LOG_LEVEL : "info" });

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: "string" } }, strict: true });
  // Without --config, loadConfig falls back to the embedded default configuration.
  const config = loadConfig(values.config, process.env);
  const running = await startSidecar({ config, env: process.env, log });

  if (running.demo.created) {
    // Plain text on purpose: a human must read it, and it is printed exactly once, ever.
    process.stdout.write(
      `demo tenant created; API key (shown once, store it now): ${running.demo.key}\n` +
        `mint another with: bin/leash keys create --tenant demo\n`,
    );
  }
  if (running.adminUrl) {
    // Where the admin API is and which token file authenticates (the path, never the token).
    const token = running.adminTokenFile ? `token in ${running.adminTokenFile}` : "token from LEASH_ADMIN_TOKEN";
    process.stdout.write(`admin API on ${running.adminUrl} (${token})\n`);
  }
  const admin = running.adminPort === null ? "off" : `${config.sidecar.admin_address}:${running.adminPort}`;
  process.stdout.write(`sidecar ready grpc=${config.sidecar.host}:${running.grpcPort} http=${running.httpPort} admin=${admin}\n`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("second signal, exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    log.info("shutting down", { signal });
    setTimeout(() => {
      log.error("shutdown timed out", { timeout_ms: STOP_TIMEOUT_MS });
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    running.stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error("shutdown failed", { error: err });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

main().catch((err: unknown) => {
  log.error("sidecar failed to start", { error: err });
  process.exit(1);
});
