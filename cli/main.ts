// The `leash` command line. Thin: parses arguments and calls the module that does the work.
import { parseArgs } from "node:util";
import { loadConfig, DEFAULT_CONFIG_PATH } from "../config/load.ts";
import { ConfigError } from "../config/errors.ts";
import type { LeashConfig } from "../config/types.ts";
import { resolve } from "node:path";
import { start } from "./start.ts";
import { ENVOY_OUT_DIR } from "./paths.ts";
import { configCheck, configGenerate } from "./config-commands.ts";
import { keysCommand } from "./keys-commands.ts";

const USAGE = `leash — security gateway for LLM APIs

Usage:
  leash start [--config FILE] [--concurrency N] [--envoy-log-level LEVEL] [--envoy-dir DIR]
      Generate the Envoy config, start the sidecar and Envoy (and the bundled mock provider when
      the config enables it), wait until ready, print the URLs. Ctrl-C stops everything.
  leash config check [--config FILE] [--no-envoy]
      Validate the config file; also validate the generated Envoy config with envoy --mode validate.
  leash config generate [--config FILE] [--out DIR]
      Write the Envoy bootstrap, listeners and clusters (default: envoy/generated/).

  leash keys create --tenant NAME [--config FILE]
  leash keys revoke KEY_ID [--config FILE]
      Mint (secret shown once) or revoke tenant API keys in the configured database.

Without --config the embedded default config (config/leash.yaml) is used.`;

function load(path: string | undefined): { cfg: LeashConfig; source: string } {
  const source = path ?? DEFAULT_CONFIG_PATH;
  return { cfg: loadConfig(path), source };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      concurrency: { type: "string" },
      "envoy-log-level": { type: "string" },
      "envoy-dir": { type: "string" },
      "no-envoy": { type: "boolean" },
      out: { type: "string" },
      tenant: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [cmd, sub, ...rest] = positionals;
  if (values.help || !cmd || cmd === "help") {
    console.log(USAGE);
    return cmd || values.help ? 0 : 2;
  }
  if (cmd === "start") {
    const { cfg, source } = load(values.config);
    const concurrency = values.concurrency ? Number(values.concurrency) : 2;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error("--concurrency must be a positive integer");
    return start({
      configPath: source, config: cfg, concurrency,
      envoyLogLevel: values["envoy-log-level"] ?? "warning",
      envoyDir: values["envoy-dir"] ? resolve(values["envoy-dir"]) : ENVOY_OUT_DIR,
    });
  }
  if (cmd === "config" && sub === "check") {
    const { cfg, source } = load(values.config);
    return configCheck(cfg, source, !values["no-envoy"]);
  }
  if (cmd === "config" && sub === "generate") {
    return configGenerate(load(values.config).cfg, values.out);
  }
  if (cmd === "keys") {
    return keysCommand(load(values.config).cfg, sub, rest, { tenant: values.tenant });
  }
  console.error(`unknown command: ${positionals.join(" ")}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error(`leash: ${(err as Error).message ?? String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
