// PostgreSQL array literals ('{a,"b c",NULL}') for the ledger's unnest() INSERT, written in one
// join per column. Given JS arrays, pg builds the same text itself, element by element
// (`result += escapeElement(...)`, two regex replaces and a quoted copy per element): in an
// allocation profile of the sidecar at 1000 requests/s that was the largest single source of
// garbage, 16 % of all it allocated (bench/README.md).
//
// Array input syntax (PostgreSQL docs, "Array Value Input"): an element is written bare unless it
// is empty, reads as NULL in any case, or holds whitespace, a brace, a comma, a double quote or a
// backslash; then it is double-quoted with `"` and `\` escaped by a backslash.

const NEEDS_QUOTES: RegExp = /[\s{},"\\\x00-\x1f]/;
const NULL_WORD: RegExp = /^null$/i;
const QUOTED_CHARS: RegExp = /["\\]/g;

/** One element as the array parser reads it back exactly: bare when it can be, else quoted. */
function element(value: string): string {
  if (value !== "" && !NEEDS_QUOTES.test(value) && !NULL_WORD.test(value)) return value;
  return `"${value.replace(QUOTED_CHARS, "\\$&")}"`;
}

/** A text[] literal; null elements are SQL NULL. */
export function textArray(values: readonly (string | null)[]): string {
  const parts: string[] = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    parts[i] = v === null || v === undefined ? "NULL" : element(v);
  }
  return `{${parts.join(",")}}`;
}

/**
 * An array literal of values that never need quoting: finite numbers, booleans, digit strings and
 * ISO timestamps (the caller's types); null elements are SQL NULL.
 */
export function plainArray(values: readonly (number | boolean | string | null)[]): string {
  const parts: string[] = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    parts[i] = v === null || v === undefined ? "NULL" : String(v);
  }
  return `{${parts.join(",")}}`;
}
