// JSON Merge Patch (RFC 7396), the semantics of `module_settings` in `PATCH /tenants/:id`
// (docs/decisions/0006-module-settings-merge-patch.md): an object in the patch is merged member by
// member into the stored object, `null` removes a member, anything else (string, number, boolean,
// array) replaces the stored value whole.

/** A JSON object as JSON.parse makes it. */
export type JsonObject = Record<string, unknown>;

/** True for a JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Sets an own property. Plain assignment would treat a member named "__proto__" (which JSON.parse
 * makes an ordinary own property) as the prototype setter and drop it or, worse, re-parent the object.
 */
function put(obj: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * `target` with `patch` applied per RFC 7396. Neither argument is modified; the result shares no
 * objects with the patch that a later change could alter. A non-object target is treated as {}.
 * Recursion depth is the patch's nesting, which the admin API bounds (MAX_SETTINGS_DEPTH).
 */
export function applyMergePatch(target: unknown, patch: JsonObject): JsonObject {
  const out: JsonObject = {};
  if (isJsonObject(target)) for (const [k, v] of Object.entries(target)) put(out, k, v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isJsonObject(v)) put(out, k, applyMergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
    else put(out, k, structuredClone(v));
  }
  return out;
}
