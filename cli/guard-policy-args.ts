// `leash policy set --redact … --injection …`: turns the command-line forms of a tenant's guard
// policy into a module_settings merge patch for the admin API (docs/guards.md). The API merges it
// into the stored settings (RFC 7396: objects member by member, null removes), so the CLI never
// reads the tenant first and two admins changing different things cannot undo each other.
//   --redact email=mask,card=block,responses=off   entity actions merged into the tenant's current
//                                                  ones; responses=on|off; off|on turns the module
//                                                  off/on for the tenant; "default" clears the section
//   --injection block:0.7 | flag | flag:0.4 | default   replaces the section (no threshold: the
//                                                  gateway's); "default" clears it
import { ENTITY_NAMES, guardPolicyProblems, REDACT_ACTIONS } from "../config/guard-policy.ts";

type Settings = Record<string, unknown>;

function isObject(v: unknown): v is Settings {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The module_settings merge patch for --redact / --injection (only the sections given). Throws with
 * a usage message on a bad argument, checked as the API will check it.
 */
export function guardPolicyPatch(redact: string | undefined, injection: string | undefined): Settings {
  const patch: Settings = {};
  if (redact !== undefined) {
    const word: string = redact.trim();
    if (word === "default") patch.redact = null;
    else if (word === "off" || word === "on") patch.redact = { enabled: word === "on" };
    else patch.redact = parseRedact(redact);
  }
  if (injection !== undefined) {
    if (injection.trim() === "default") patch.injection = null;
    else patch.injection = parseInjection(injection);
  }
  const problems: string[] = guardPolicyProblems(withoutNulls(patch));
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return patch;
}

/** The patch as the settings it would create on a tenant without any: null members dropped. */
function withoutNulls(patch: Settings): Settings {
  const out: Settings = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v !== null) out[k] = isObject(v) ? withoutNulls(v) : v;
  }
  return out;
}

function parseRedact(text: string): Settings {
  const entities: Settings = {};
  const out: Settings = {};
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
  // The section is replaced, as before the API merged: "flag" alone drops an earlier threshold.
  return { action: m[1], threshold: m[2] === undefined ? null : Number(m[2]) };
}
