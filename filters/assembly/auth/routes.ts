// Which provider route a request path belongs to. The Envoy route table decides where a request
// goes; the filter only needs to know the provider (for the sidecar) and its API (for the error
// format), so it matches the same prefixes the generator wrote into the route table.
import { ApiFormat } from "../sdk/api-error";

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
