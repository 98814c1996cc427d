// Readers of the guard modules' sections (modules.redact, modules.injection): their settings go
// beyond the enabled / failure_mode / timeout_ms every module has, so they live apart from
// validate.ts's generic module reader.

import { childKey, describe, type Mapping, Problems, readBoolean, readChoice, readInteger, readMapping } from "./fields.ts";
import {
  defaultEntityActions,
  ENTITY_NAMES,
  INJECTION_ACTIONS,
  REDACT_ACTIONS,
  type RedactAction,
} from "./guard-policy.ts";
import type { FailureMode, InjectionModuleConfig, RedactModuleConfig } from "./types.ts";

const FAILURE_MODES: readonly FailureMode[] = ["closed", "open"];

export function readRedactModule(value: unknown, key: string, problems: Problems): RedactModuleConfig {
  const m: Mapping = readMapping(value, key, ["enabled", "failure_mode", "entities", "responses", "stream_holdback_chars"], problems);
  return {
    enabled: readBoolean(m, key, "enabled", false, problems),
    failure_mode: readChoice(m, key, "failure_mode", FAILURE_MODES, "closed", problems),
    entities: readEntityActions(m.entities, childKey(key, "entities"), problems),
    responses: readBoolean(m, key, "responses", true, problems),
    stream_holdback_chars: readInteger(m, key, "stream_holdback_chars", 4096, 64, 65536, problems),
  };
}

/** Every entity with an action: the listed ones as written, the rest with their built-in default. */
function readEntityActions(value: unknown, key: string, problems: Problems): Record<string, RedactAction> {
  const actions: Record<string, RedactAction> = defaultEntityActions();
  const m: Mapping = readMapping(value, key, ENTITY_NAMES, problems);
  for (const name of Object.keys(m)) {
    if (!ENTITY_NAMES.includes(name)) continue; // reported by readMapping
    actions[name] = readChoice(m, key, name, REDACT_ACTIONS, actions[name], problems);
  }
  return actions;
}

export function readInjectionModule(value: unknown, key: string, problems: Problems): InjectionModuleConfig {
  const m: Mapping = readMapping(value, key, ["enabled", "failure_mode", "action", "threshold"], problems);
  let threshold: number = 0.7;
  const raw: unknown = m.threshold;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== "number" || !Number.isFinite(raw) || raw < 0 || raw > 1) {
      problems.add(childKey(key, "threshold"), `must be a number in 0..1, got ${describe(raw)}`);
    } else {
      threshold = raw;
    }
  }
  return {
    enabled: readBoolean(m, key, "enabled", false, problems),
    failure_mode: readChoice(m, key, "failure_mode", FAILURE_MODES, "closed", problems),
    action: readChoice(m, key, "action", INJECTION_ACTIONS, "block", problems),
    threshold,
  };
}
