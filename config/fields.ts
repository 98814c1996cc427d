// Typed readers for parsed YAML values. Each reader records a problem and returns a fallback
// instead of throwing, so one pass over the document reports every problem at once.

import type { ConfigProblem } from "./errors.ts";

/** A YAML mapping after parsing, before validation. */
export type Mapping = Record<string, unknown>;

/** Collects problems in document order. */
export class Problems {
  readonly list: ConfigProblem[] = [];

  add(key: string, message: string): void {
    this.list.push({ key, message });
  }

  hasKey(key: string): boolean {
    return this.list.some((problem: ConfigProblem): boolean => problem.key === key);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** Key path of a child field: "" + "listener" → "listener", "listener" + "port" → "listener.port". */
export function childKey(parent: string, field: string): string {
  return parent === "" ? field : `${parent}.${field}`;
}

/** Key path of a list item: "providers" + 1 → "providers[1]". */
export function itemKey(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** Short rendering of a bad value for messages; strings quoted so empty and blank values show. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

/** YAML `key:` with no value parses as null; both null and a missing key mean "use the default". */
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/**
 * Reads a mapping and rejects keys outside `allowed` (a typo must not silently become a default).
 * An absent section reads as {} so sections made only of defaults can be left out.
 */
export function readMapping(
  value: unknown,
  key: string,
  allowed: readonly string[],
  problems: Problems,
): Mapping {
  if (isAbsent(value)) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.add(key, `must be a mapping, got ${describe(value)}`);
    return {};
  }
  const mapping: Mapping = value as Mapping;
  for (const field of Object.keys(mapping)) {
    if (!allowed.includes(field)) {
      problems.add(childKey(key, field), `unknown key (allowed: ${allowed.join(", ")})`);
    }
  }
  return mapping;
}

/** Reads a string; `fallback` undefined makes the field required. */
export function readString(
  mapping: Mapping,
  parent: string,
  field: string,
  fallback: string | undefined,
  problems: Problems,
): string {
  const key: string = childKey(parent, field);
  const value: unknown = mapping[field];
  if (isAbsent(value)) {
    if (fallback === undefined) problems.add(key, "is required");
    return fallback ?? "";
  }
  if (typeof value !== "string") {
    problems.add(key, `must be a string, got ${describe(value)}`);
    return fallback ?? "";
  }
  return value;
}

/** Reads an integer within [min, max]; `fallback` undefined makes the field required. */
export function readInteger(
  mapping: Mapping,
  parent: string,
  field: string,
  fallback: number | undefined,
  min: number,
  max: number,
  problems: Problems,
): number {
  const key: string = childKey(parent, field);
  const value: unknown = mapping[field];
  if (isAbsent(value)) {
    if (fallback === undefined) problems.add(key, "is required");
    return fallback ?? min;
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    problems.add(key, `must be an integer in ${min}..${max}, got ${describe(value)}`);
    return fallback ?? min;
  }
  return value;
}

export function readBoolean(
  mapping: Mapping,
  parent: string,
  field: string,
  fallback: boolean,
  problems: Problems,
): boolean {
  const value: unknown = mapping[field];
  if (isAbsent(value)) return fallback;
  if (typeof value !== "boolean") {
    problems.add(childKey(parent, field), `must be true or false, got ${describe(value)}`);
    return fallback;
  }
  return value;
}

/** Reads one of a fixed set of strings. */
export function readChoice<T extends string>(
  mapping: Mapping,
  parent: string,
  field: string,
  choices: readonly T[],
  fallback: T,
  problems: Problems,
): T {
  const value: unknown = mapping[field];
  if (isAbsent(value)) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    problems.add(childKey(parent, field), `must be one of ${choices.join(", ")}, got ${describe(value)}`);
    return fallback;
  }
  return value as T;
}
