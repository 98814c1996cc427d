// A complete LeashConfig for tests that run the sidecar in-process (createSidecar, startSidecar).
//
// The config is built as a document and loaded through parseConfig (config/load.ts), the same parser
// and validator as a config file, so every field a test does not name takes its default from the one
// schema (config/validate.ts). A new config field therefore needs no edit here or in the tests; a
// test names only what it depends on (providers, connection URLs, data_dir, the cache TTL).
import { parseConfig } from "../../config/load.ts";
import type { LeashConfig, ProviderConfig, SidecarConfig } from "../../config/types.ts";

/**
 * Upstream of every test provider unless a test names one: the discard port on loopback. Sidecar
 * tests never dial a provider; the URL only has to pass validation.
 */
export const UNREACHABLE_BASE_URL = "http://127.0.0.1:9";

/** A provider in config-file field names: `name` is required, every other field is optional. */
export type TestProvider = Pick<ProviderConfig, "name"> & Partial<ProviderConfig>;

export interface SidecarTestConfigOptions {
  /** At least one; `base_url` defaults to {@link UNREACHABLE_BASE_URL}, the rest to the schema. */
  providers: TestProvider[];
  /**
   * Fields of `sidecar`, in config-file names. Unset URLs are "" (embedded PGlite, in-process store):
   * the process environment is never read. Unset ports are 0 (see {@link sidecarTestConfig}).
   */
  sidecar?: Partial<SidecarConfig>;
}

/**
 * Loads a config of the given providers and sidecar fields, everything else defaulted by the schema.
 *
 * The sidecar's three ports (grpc_port, http_port, admin_port) are 0 unless given, so each server
 * binds a port the kernel picks (read back from `Sidecar.start()`). The schema refuses 0 because a
 * real gateway needs fixed ports; that is the one value set after validation.
 *
 * @throws ConfigError when the options make an invalid config (the message names the field).
 */
export function sidecarTestConfig(opts: SidecarTestConfigOptions): LeashConfig {
  const { grpc_port, http_port, admin_port, ...sidecar } = opts.sidecar ?? {};
  const document = {
    version: 1,
    sidecar: { ...sidecar, ...definedPorts({ grpc_port, http_port, admin_port }) },
    providers: opts.providers.map((p) => ({ base_url: UNREACHABLE_BASE_URL, ...p })),
  };
  // JSON is YAML: the text takes the path of a config file, with an empty environment.
  const config = parseConfig(JSON.stringify(document), "sidecar test config", {});
  return {
    ...config,
    sidecar: { ...config.sidecar, grpc_port: grpc_port ?? 0, http_port: http_port ?? 0, admin_port: admin_port ?? 0 },
  };
}

/** The providers of {@link sidecarTestConfig}: complete ProviderConfigs, defaulted by the schema. */
export function testProviders(providers: TestProvider[]): ProviderConfig[] {
  return sidecarTestConfig({ providers }).providers;
}

/** Ports a test gave explicitly (validated like any other); the others are left to the schema. */
function definedPorts(ports: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(ports).filter((e): e is [string, number] => e[1] !== undefined));
}
