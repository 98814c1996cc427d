// Model policy: whether a tenant may call `model`. Patterns come from the tenant's policy in the
// sidecar; an entry ending in "*" matches by prefix ("gpt-4o*" allows "gpt-4o-mini").

/** True when `allowed` is empty (no restriction) or one pattern matches `model` exactly or by prefix. */
export function modelAllowed(allowed: Array<string>, model: string): bool {
  if (allowed.length == 0) return true;
  for (let i = 0; i < allowed.length; i++) {
    const p = allowed[i];
    if (p.endsWith("*")) {
      if (model.startsWith(p.substring(0, p.length - 1))) return true;
    } else if (p == model) {
      return true;
    }
  }
  return false;
}
