// `leash policy set --redact … --injection …`: turns the command-line forms of a tenant's guard
// policy into the module_settings sections the admin API stores (docs/guards.md).
//   --redact email=mask,card=block,responses=off   entity actions merged into the tenant's current
//                                                  ones; responses=on|off; off|on turns the module
//                                                  off/on for the tenant; "default" clears the section
//   --injection block:0.7 | flag | flag:0.4 | default
import { ENTITY_NAMES, guardPolicyProblems, REDACT_ACTIONS } from "../config/guard-policy.ts";

type Settings = Record<string, unknown>;

function isObject(v: unknown): v is Settings {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * `current` (the tenant's module_settings) with the --redact / --injection changes applied; other
 * keys untouched. Throws with a usage message on a bad argument.
 */
export function applyGuardArgs(current: Settings, redact: string | undefined, injection: string | undefined): Settings {
  const next: Settings = { ...current };
  if (redact !== undefined) {
    const cur: Settings = isObject(current.redact) ? current.redact : {};
    const word: string = redact.trim();
    if (word === "default") delete next.redact;
    else if (word === "off" || word === "on") next.redact = { ...cur, enabled: word === "on" };
    else next.redact = parseRedact(redact, cur);
  }
  if (injection !== undefined) {
    if (injection.trim() === "default") delete next.injection;
    else next.injection = parseInjection(injection);
  }
  const problems: string[] = guardPolicyProblems(next);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return next;
}

function parseRedact(text: string, current: Settings): Settings {
  const entities: Settings = { ...(isObject(current.entities) ? current.entities : {}) };
  const out: Settings = { ...current };
  for (const item of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const eq: number = item.indexOf("=");
    if (eq <= 0) throw new Error(`--redact: expected entity=action, got ${JSON.stringify(item)} (actions: ${REDACT_ACTIONS.join(", ")})`);
    const name: string = item.slice(0, eq).trim();
    const value: string = item.slice(eq + 1).trim();
    if (name === "responses") {
      if (value !== "on" && value !== "off") throw new Error("--redact: responses=on or responses=off");
      out.responses = value === "on";
    } else if (!ENTITY_NAMES.includes(name)) {
      throw new Error(`--redact: unknown entity ${JSON.stringify(name)} (known: ${ENTITY_NAMES.join(", ")})`);
    } else {
      entities[name] = value;
    }
  }
  if (Object.keys(entities).length > 0) out.entities = entities;
  return out;
}

function parseInjection(text: string): Settings {
  const m: RegExpExecArray | null = /^\s*(flag|block)\s*(?::\s*([0-9.]+)\s*)?$/.exec(text);
  if (!m) throw new Error(`--injection: expected flag|block[:THRESHOLD], got ${JSON.stringify(text)}`);
  const out: Settings = { action: m[1] };
  if (m[2] !== undefined) out.threshold = Number(m[2]);
  return out;
}
