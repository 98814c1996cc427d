// Counting a module's host calls (FakeHostOptions.countCalls): every proxy-wasm import the module
// calls is counted by name; header and property calls also by the key they name, which is what
// tells two reads of `:path` from one read each of two headers.
import type { HostCore } from "./host-core.ts";
import type { HostFunction } from "./host-functions.ts";

/** Calls whose first arguments name a header (map type, key pointer, key length). */
const HEADER_CALLS: ReadonlySet<string> = new Set([
  "proxy_get_header_map_value",
  "proxy_add_header_map_value",
  "proxy_replace_header_map_value",
  "proxy_remove_header_map_value",
]);
/** Calls whose first arguments name a property (path pointer, path length; path parts NUL-separated). */
const PROPERTY_CALLS: ReadonlySet<string> = new Set(["proxy_get_property", "proxy_set_property"]);

/** `proxy` with every function counting its calls into `counts` before it runs. */
export function countingCalls(
  proxy: Readonly<Record<string, HostFunction>>,
  core: HostCore,
  counts: Map<string, number>,
): Record<string, HostFunction> {
  const add = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const out: Record<string, HostFunction> = {};
  for (const [name, fn] of Object.entries(proxy)) {
    if (HEADER_CALLS.has(name)) {
      out[name] = (...args: number[]) => {
        add(name);
        add(`${name} ${args[0]} ${core.memory.readText(args[1], args[2])}`);
        return fn(...args);
      };
    } else if (PROPERTY_CALLS.has(name)) {
      out[name] = (...args: number[]) => {
        add(name);
        add(`${name} ${core.memory.readText(args[0], args[1]).replaceAll("\0", ".")}`);
        return fn(...args);
      };
    } else {
      out[name] = (...args: number[]) => {
        add(name);
        return fn(...args);
      };
    }
  }
  return out;
}
