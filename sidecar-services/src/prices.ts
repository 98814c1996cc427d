// The price table (config/prices.yaml, or sidecar.prices_file): USD per million tokens per provider
// and model, versioned. Loaded and validated once at start (a bad file stops the sidecar with every
// problem named by its key path); costOf() prices one usage report. A model the table does not know
// gets a NULL cost, never a silent zero.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** Prices of one model, USD per 1 000 000 tokens. */
export interface ModelPrice {
  /** Uncached prompt tokens. */
  input: number;
  /** Completion tokens. */
  output: number;
  /** Prompt tokens served from the provider's cache. Defaults to `input` in the file. */
  cached_input: number;
}

/** A loaded, validated price table. */
export interface PriceTable {
  /** The file's `version`, recorded on every ledger row. */
  version: string;
  /** provider → model (lower-case) → price. */
  providers: Map<string, Map<string, ModelPrice>>;
  /** Where it came from, for logs. */
  source: string;
}

/** The token counts costOf() needs. `prompt_tokens` includes `cached_tokens` (OpenAI's convention). */
export interface PricedUsage {
  provider: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

/** Cost of one request: `costUsd` null when the model is not priced. */
export interface Cost {
  costUsd: number | null;
  priceVersion: string;
}

/** A price table that failed validation; `problems` name the key path of each. */
export class PriceTableError extends Error {
  constructor(
    readonly source: string,
    readonly problems: { key: string; message: string }[],
  ) {
    super(`${source}: invalid price table:\n${problems.map((p) => `  ${p.key || "(top)"}: ${p.message}`).join("\n")}`);
    this.name = "PriceTableError";
  }
}

const PROVIDER_NAME = /^[a-z0-9][a-z0-9-]*$/;
const MODEL_NAME = /^[A-Za-z0-9._:/@+-]{1,200}$/;
/** USD per million tokens; far above any real price, low enough to keep cost_usd in numeric(18,9). */
const MAX_PRICE = 10_000;
const PRICE_FIELDS = ["input", "output", "cached_input"] as const;

/** The embedded table: next to the bundle (build/sidecar/prices.yaml) or in the source tree's config/. */
export function defaultPricesPath(): string {
  const candidates = [new URL("./prices.yaml", import.meta.url), new URL("../../config/prices.yaml", import.meta.url)];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new Error(`embedded price table not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(", ")})`);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return JSON.stringify(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates a parsed price document.
 * @throws PriceTableError listing every problem.
 */
export function parsePriceTable(raw: unknown, source: string): PriceTable {
  const problems: { key: string; message: string }[] = [];
  const add = (key: string, message: string) => problems.push({ key, message });
  const providers = new Map<string, Map<string, ModelPrice>>();
  let version = "";
  if (!isMapping(raw)) {
    add("", `must be a mapping with \`version\` and \`providers\`, got ${describe(raw)}`);
    throw new PriceTableError(source, problems);
  }
  for (const k of Object.keys(raw)) if (k !== "version" && k !== "providers") add(k, "unknown key (allowed: version, providers)");
  if (typeof raw.version !== "string" || raw.version.trim() === "") {
    add("version", `is required and must be a non-empty string (quote dates: "2026-11-01"), got ${describe(raw.version)}`);
  } else if (raw.version.length > 64) add("version", "must be at most 64 characters");
  else version = raw.version;

  if (!isMapping(raw.providers)) add("providers", `is required and must be a mapping of provider → models, got ${describe(raw.providers)}`);
  else {
    for (const [provider, models] of Object.entries(raw.providers)) {
      const pkey = `providers.${provider}`;
      if (!PROVIDER_NAME.test(provider)) add(pkey, "provider name must match [a-z0-9][a-z0-9-]*");
      if (!isMapping(models)) {
        add(pkey, `must be a mapping of model → prices, got ${describe(models)}`);
        continue;
      }
      const table = new Map<string, ModelPrice>();
      for (const [model, price] of Object.entries(models)) {
        const mkey = `${pkey}.${model}`;
        if (!MODEL_NAME.test(model)) add(mkey, "model name must be 1-200 of letters, digits and . _ : / @ + -");
        if (table.has(model.toLowerCase())) add(mkey, "listed twice (model names match case-insensitively)");
        if (!isMapping(price)) {
          add(mkey, `must be a mapping {input, output, cached_input?}, got ${describe(price)}`);
          continue;
        }
        for (const k of Object.keys(price)) {
          if (!(PRICE_FIELDS as readonly string[]).includes(k)) add(`${mkey}.${k}`, "unknown key (allowed: input, output, cached_input)");
        }
        const read = (field: (typeof PRICE_FIELDS)[number], fallback?: number): number => {
          const v = price[field];
          if (v === undefined && fallback !== undefined) return fallback;
          if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > MAX_PRICE) {
            add(`${mkey}.${field}`, `${v === undefined ? "is required and " : ""}must be a number of USD per 1M tokens in 0..${MAX_PRICE}, got ${describe(v)}`);
            return 0;
          }
          return v;
        };
        const input = read("input");
        const output = read("output");
        table.set(model.toLowerCase(), { input, output, cached_input: read("cached_input", input) });
      }
      providers.set(provider, table);
    }
  }
  if (problems.length > 0) throw new PriceTableError(source, problems);
  return { version, providers, source };
}

/**
 * Reads and validates a price file; "" = the embedded table.
 * @throws PriceTableError (bad content or YAML) or an Error naming the file when it cannot be read.
 */
export function loadPriceTable(path: string = ""): PriceTable {
  const file = path === "" ? defaultPricesPath() : path;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new PriceTableError(file, [{ key: "", message: `cannot read the file: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  let raw: unknown;
  try {
    raw = parse(text, { uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    throw new PriceTableError(file, [{ key: "", message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  return parsePriceTable(raw, file);
}

/** The price of `model` at `provider`: exact (case-insensitive) match, then the longest listed prefix. */
export function findPrice(table: PriceTable, provider: string, model: string): ModelPrice | null {
  const models = table.providers.get(provider);
  if (!models || model === "") return null;
  const wanted = model.toLowerCase();
  const exact = models.get(wanted);
  if (exact) return exact;
  let best: ModelPrice | null = null;
  let bestLength = 0;
  for (const [name, price] of models) {
    if (name.length > bestLength && wanted.startsWith(name)) {
      best = price;
      bestLength = name.length;
    }
  }
  return best;
}

/**
 * Cost of a request in USD, rounded to 1e-9 (the ledger column's scale). Cached tokens are part of
 * prompt_tokens and priced at cached_input; the rest of the prompt at input.
 */
export function costOf(table: PriceTable, usage: PricedUsage): Cost {
  const price = findPrice(table, usage.provider, usage.model);
  if (!price) return { costUsd: null, priceVersion: table.version };
  const cached = Math.min(usage.cached_tokens, usage.prompt_tokens);
  const uncached = usage.prompt_tokens - cached;
  const micro = uncached * price.input + cached * price.cached_input + usage.completion_tokens * price.output;
  return { costUsd: Math.round((micro / 1_000_000) * 1e9) / 1e9, priceVersion: table.version };
}
