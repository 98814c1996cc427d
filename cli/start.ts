// `leash start`: generate the Envoy config, start the mock provider (when configured), the sidecar
// and Envoy, wait until each is ready, print where to point an app, and stop everything on Ctrl-C.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LeashConfig } from "../config/types.ts";
import { writeEnvoyConfig } from "../envoy/generate.ts";
import { findEnvoy } from "../envoy/find-envoy.ts";
import { wasmFilesFor } from "../envoy/wasm-filters.ts";
import { startMockProvider, type MockProvider } from "../mock-provider/server.ts";
import { sidecarCommand, startChild, waitReady, stopChild, probeHost, type Child } from "./processes.ts";
import { ROOT, WASM_DIR, SIDECAR_BUNDLE } from "./paths.ts";

export interface StartOptions {
  configPath: string;
  config: LeashConfig;
  /** Envoy worker threads. Default: 2. */
  concurrency: number;
  envoyLogLevel: string;
  /** Where the generated Envoy files go. Default envoy/generated/. */
  envoyDir: string;
}

function requireBuilt(cfg: LeashConfig): void {
  const missing: string[] = [];
  if (!existsSync(SIDECAR_BUNDLE)) missing.push(SIDECAR_BUNDLE);
  for (const file of wasmFilesFor(cfg, WASM_DIR)) if (!existsSync(file)) missing.push(file);
  if (missing.length > 0) {
    throw new Error(`not built: ${missing.join(", ")}\nRun: npm run build   (or scripts/setup.sh)`);
  }
}

function host(address: string): string {
  return address === "0.0.0.0" || address === "::" ? "localhost" : address;
}

function banner(cfg: LeashConfig, envoyBin: string): string {
  const base = `http://${host(cfg.listener.address)}:${cfg.listener.port}`;
  const lines = [
    "",
    `Leash is up.  Gateway: ${base}   (health: ${base}/health)`,
    `  Envoy admin:  http://${cfg.admin.address}:${cfg.admin.port}  (${envoyBin})`,
    `  Sidecar:      grpc ${cfg.sidecar.host}:${cfg.sidecar.grpc_port}, metrics http://127.0.0.1:${cfg.sidecar.http_port}/metrics`,
    "  Point your apps at:",
  ];
  for (const p of cfg.providers) {
    const url = p.api === "anthropic" ? `${base}${p.prefix}` : `${base}${p.prefix}/v1`;
    const envName = p.api === "anthropic" ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL";
    lines.push(`    ${p.name.padEnd(16)} ${envName}=${url}`);
  }
  lines.push("  Authenticate with your Leash key (the demo key is printed by the sidecar on first start).");
  lines.push("Ctrl-C stops everything.");
  return lines.join("\n");
}

export async function start(opts: StartOptions): Promise<number> {
  const cfg = opts.config;
  requireBuilt(cfg);
  const envoyBin = findEnvoy();
  const files = writeEnvoyConfig(cfg, { wasmDir: WASM_DIR, outDir: opts.envoyDir });
  console.log(`envoy config written: ${files.join(", ")}`);

  const children: Child[] = [];
  let mock: MockProvider | null = null;
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const c of [...children].reverse()) await stopChild(c);
    if (mock) await mock.close();
  };

  try {
    if (cfg.mock_provider.enabled) {
      mock = await startMockProvider({ host: "127.0.0.1", port: cfg.mock_provider.port });
      console.log(`[mock] mock provider listening on ${mock.url}`);
    }
    // Below Envoy's CPU priority (SIDECAR_NICE), collecting on one thread (SIDECAR_NODE_FLAGS): its
    // bursts must not hold up Envoy's worker.
    const [command, args] = sidecarCommand(process.env, SIDECAR_BUNDLE, ["--config", opts.configPath]);
    const sidecar = startChild("sidecar", command, args, { ...process.env });
    children.push(sidecar);
    await waitReady(sidecar, `http://${probeHost(cfg.sidecar.host)}:${cfg.sidecar.http_port}/health`, 60_000);

    const envoy = startChild("envoy", envoyBin, [
      "-c", join(opts.envoyDir, "bootstrap.yaml"),
      "--concurrency", String(opts.concurrency),
      "-l", opts.envoyLogLevel,
      // Envoy's shared memory and sockets are named after the base id: one per admin port lets
      // several gateways (and test runs) share a machine.
      "--base-id", String(cfg.admin.port),
    ], { ...process.env });
    children.push(envoy);
    await waitReady(envoy, `http://${cfg.admin.address}:${cfg.admin.port}/ready`, 60_000);
    console.log(banner(cfg, envoyBin));
  } catch (err) {
    console.error(`leash start failed: ${(err as Error).message}`);
    await stopAll();
    return 1;
  }

  return await new Promise<number>((resolve) => {
    const onSignal = (sig: string): void => {
      console.log(`\n${sig}: stopping Envoy, sidecar${mock ? " and mock provider" : ""}...`);
      void stopAll().then(() => resolve(0));
    };
    process.once("SIGINT", () => onSignal("SIGINT"));
    process.once("SIGTERM", () => onSignal("SIGTERM"));
    // A child that dies on its own takes the gateway down with it: say so and stop the rest.
    for (const c of children) {
      void c.exited.then((code) => {
        if (stopping) return;
        console.error(`${c.name} exited unexpectedly (${code}); stopping.`);
        void stopAll().then(() => resolve(1));
      });
    }
  });
}

export { ROOT };
