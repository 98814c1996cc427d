// Requests a guard module refused. The guards (and the quota module) hold the request headers
// until they have read the body, so a request refused there never reaches this module's header
// callback; its onLog still runs (every filter of the chain logs every stream). Such a request is
// reported from onLog alone, so the ledger and the audit trail keep what the guard decided
// (issue #5: "what did the guards do"). Only when a guard published a decision and the auth module
// let the request in: other local replies (auth denials, bad routes) stay unreported, as before.
import { getProperty, getPropertyString } from "../sdk/host";
import { Route, matchRoute } from "../sdk/routes";

/** The route of a request refused by a guard, or null when this stream is not one. */
export function refusedRoute(routes: Array<Route>, decisions: string): Route | null {
  if (decisions.length == 0) return null;
  const tenant = getPropertyString(["leash.tenant_id"]);
  if (tenant == null || tenant.length == 0) return null;
  const path = getPropertyString(["request", "path"]);
  if (path == null) return null;
  return matchRoute(routes, path);
}

/** The response code Envoy sent (`response.code`: an 8-byte little-endian integer), 0 when none. */
export function responseCode(): u32 {
  const v = getProperty(["response", "code"]);
  if (v == null || v.byteLength != 8) return 0;
  // Safe: exactly 8 bytes were checked above.
  const code = load<i64>(changetype<usize>(v));
  return code >= 100 && code <= 599 ? <u32>code : 0;
}
