// Which provider route a request path belongs to. The Envoy route table decides where a request
// goes; a module only needs to know the provider (for the sidecar) and its API (for the error
// format and the usage format), so it matches the same prefixes the generator wrote into the route
// table. Every module's plugin configuration carries them as `routes`, read by parseRoutes().
import { ApiFormat, apiFormatFromName } from "./api-error";
import { JsonValue } from "./json";

export class Route {
  constructor(public prefix: string, public provider: string, public api: ApiFormat) {}
}

/** The route whose prefix is `path`'s first segment(s), or null (health, unknown paths). */
export function matchRoute(routes: Array<Route>, path: string): Route | null {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i];
    if (!path.startsWith(r.prefix)) continue;
    if (path.length == r.prefix.length) return r;
    const next = path.charCodeAt(r.prefix.length);
    if (next == 0x2f || next == 0x3f) return r; // "/" or "?"
  }
  return null;
}

export class RoutesResult {
  constructor(public routes: Array<Route>, public error: string) {}
}

/** Reads a plugin configuration's `routes` array; `error` names the bad entry ("" when valid). */
export function parseRoutes(value: JsonValue | null): RoutesResult {
  const out = new Array<Route>(0);
  if (value == null || !value.isArray() || value.items.length == 0) return new RoutesResult(out, "routes must be a non-empty array");
  for (let i = 0; i < value.items.length; i++) {
    const r = value.items[i];
    const where = "routes[" + i.toString() + "]";
    const prefix = r.get("prefix");
    const provider = r.get("provider");
    const api = r.get("api");
    if (prefix == null || !prefix.isString() || !prefix.s.startsWith("/")) return new RoutesResult(out, where + ".prefix must be a string starting with /");
    if (provider == null || !provider.isString() || provider.s.length == 0) return new RoutesResult(out, where + ".provider must be a non-empty string");
    if (api == null || !api.isString() || (api.s != "openai" && api.s != "anthropic")) return new RoutesResult(out, where + ".api must be \"openai\" or \"anthropic\"");
    out.push(new Route(prefix.s, provider.s, apiFormatFromName(api.s)));
  }
  return new RoutesResult(out, "");
}
