// The `leash` command line. Thin: parses arguments and calls the module that does the work.
import { parseArgs } from "node:util";
import { loadConfig, DEFAULT_CONFIG_PATH } from "../config/load.ts";
import { ConfigError } from "../config/errors.ts";
import type { LeashConfig } from "../config/types.ts";
import { resolve } from "node:path";
import { start } from "./start.ts";
import { ENVOY_OUT_DIR } from "./paths.ts";
import { configCheck, configGenerate } from "./config-commands.ts";
import { adminCommand, LIMIT_FLAGS, type LimitFlag } from "./admin-commands.ts";
import { auditCommand } from "./audit-commands.ts";
import { AdminError } from "./admin-client.ts";

const USAGE = `leash — security gateway for LLM APIs

Usage:
  leash start [--config FILE] [--concurrency N] [--envoy-log-level LEVEL] [--envoy-dir DIR]
      Generate the Envoy config, start the sidecar and Envoy (and the bundled mock provider when
      the config enables it), wait until ready, print the URLs. Ctrl-C stops everything.
  leash config check [--config FILE] [--no-envoy]
      Validate the config file; also validate the generated Envoy config with envoy --mode validate.
  leash config generate [--config FILE] [--out DIR]
      Write the Envoy bootstrap, listeners and clusters (default: envoy/generated/).


Administration (through the sidecar's admin API; the gateway must be running):
  leash tenants create NAME [--providers a,b] [--models m1,m2*]
  leash tenants list
  leash keys create --tenant T [--expires 30d]      the key is printed once
  leash keys list --tenant T
  leash keys rotate KEY_ID [--grace 1h]             new secret, same key id; the old one works during the grace
  leash keys revoke KEY_ID                          refused on every replica within 2 s
  leash credentials set --provider P [--tenant T] [--from-env VAR]   key read from stdin or VAR, stored encrypted
  leash credentials list [--tenant T]
  leash credentials delete --provider P [--tenant T]
  leash credentials reencrypt                       after a master key rotation: rewrap every credential
  leash policy set --tenant T [--providers a,b] [--models m1,m2*] [--status active|disabled]
                  [--retention-days N|0|default]    usage ledger rows kept N days (0 forever)
                  [--redact email=mask,card=block,responses=off|off|on|default] [--injection block:0.7|flag|default]
      guard policy (docs/guards.md): entity actions mask|hash|block|allow merged into the tenant's;
      injection action and threshold; "default" returns to the gateway config's settings
  leash limits set --tenant T [--key KEY_ID] [--rpm N] [--tpm N] [--tpd N] [--tpmo N]
                   [--usd-day USD] [--usd-month USD] [--on-store-failure closed|open]
      quotas of a tenant or one of its keys (a value of "none" removes that limit; others stay)
  leash limits show --tenant T [--key KEY_ID]       limits with used / remaining / reset, live from Redis
  leash limits clear --tenant T [--key KEY_ID]      remove every limit
  leash usage [--tenant T] [--key KEY_ID] [--provider P] [--model M] [--from 2026-11-01] [--to …]
              [--by tenant|key|model|provider|day]
      requests, tokens and cost over [from, to) (default: the last 30 days); --from/--to take a date
      (midnight UTC), an RFC 3339 timestamp or a duration ago (7d); --json prints the API answer
  leash audit set --tenant T --enabled on|off [--retention-days N]
      record the tenant's request and response bodies (after redaction), sealed with AES-256-GCM,
      kept N days (default 30)
  leash audit export --tenant T [--from WHEN] [--to WHEN] [--out FILE]
      the tenant's audit trail as JSON lines, opened (default: the last 30 days, to stdout)
  (add --json to list commands for JSON output; LEASH_ADMIN_TOKEN or the embedded token file authenticates)

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
      provider: { type: "string" },
      providers: { type: "string" },
      models: { type: "string" },
      status: { type: "string" },
      "retention-days": { type: "string" },
      expires: { type: "string" },
      grace: { type: "string" },
      "from-env": { type: "string" },
      key: { type: "string" },
      model: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      by: { type: "string" },
      enabled: { type: "string" },
      json: { type: "boolean" },
      redact: { type: "string" },
      injection: { type: "string" },
      rpm: { type: "string" },
      tpm: { type: "string" },
      tpd: { type: "string" },
      tpmo: { type: "string" },
      "usd-day": { type: "string" },
      "usd-month": { type: "string" },
      "on-store-failure": { type: "string" },
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
  if (cmd === "tenants" || cmd === "keys" || cmd === "credentials" || cmd === "policy" || cmd === "limits" || cmd === "usage") {
    const limits: Partial<Record<LimitFlag, string>> = {};
    for (const flag of Object.keys(LIMIT_FLAGS) as LimitFlag[]) if (values[flag] !== undefined) limits[flag] = values[flag];
    return adminCommand(load(values.config).cfg, cmd, sub, rest, {
      tenant: values.tenant, provider: values.provider, providers: values.providers, models: values.models,
      status: values.status, retentionDays: values["retention-days"], expires: values.expires, grace: values.grace, fromEnv: values["from-env"], json: values.json,
      key: values.key, model: values.model, from: values.from, to: values.to, by: values.by,
      redact: values.redact, injection: values.injection,
      limits, onStoreFailure: values["on-store-failure"],
    });
  }
  if (cmd === "audit") {
    return auditCommand(load(values.config).cfg, sub, {
      tenant: values.tenant, enabled: values.enabled, retentionDays: values["retention-days"], from: values.from, to: values.to, out: values.out,
    });
  }
  console.error(`unknown command: ${positionals.join(" ")}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof AdminError) console.error(err.message);
    else console.error(`leash: ${(err as Error).message ?? String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
