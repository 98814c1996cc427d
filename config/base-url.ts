// What a provider's base_url means, in one place: the validator rejects what this cannot split,
// and the Envoy generator builds clusters (host, port, TLS) and routes (path, Host header) from it.

import { isIP } from "node:net";

/** A provider base URL split into the parts Envoy needs. */
export interface BaseUrl {
  tls: boolean;
  /** Host name or IP literal, lower-case, IPv6 without brackets. */
  host: string;
  /** Explicit port, or 443/80 by scheme. */
  port: number;
  /** Whether the port is the scheme's default (then it is left out of the Host header). */
  defaultPort: boolean;
  /** Base path without trailing "/" ("" when none), e.g. "/openai". */
  path: string;
  /** Value for the upstream Host header: host, plus ":port" when not the default. */
  authority: string;
  /** True when `host` is an IP literal (no DNS needed). */
  isIp: boolean;
}

/** Splits a base URL, or returns the reason it cannot be used. */
export function parseBaseUrl(text: string): BaseUrl | { error: string } {
  const invalid = { error: `must be an http(s) URL, got ${JSON.stringify(text)}` };
  // WHATWG URL accepts "http:host" and similar shorthands; require the explicit form.
  if (!/^https?:\/\//i.test(text)) return invalid;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid;
  }
  if (url.hostname === "") return invalid;
  if (url.username !== "" || url.password !== "") {
    return { error: "must not contain credentials (use api_key_env)" };
  }
  if (url.search !== "" || url.hash !== "") {
    return { error: `must not have a query or fragment, got ${JSON.stringify(text)}` };
  }
  const tls: boolean = url.protocol === "https:";
  const host: string = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const defaultPort: boolean = url.port === "";
  const port: number = defaultPort ? (tls ? 443 : 80) : Number(url.port);
  const path: string = url.pathname.replace(/\/+$/, "");
  const hostForHeader: string = isIP(host) === 6 ? `[${host}]` : host;
  return {
    tls,
    host,
    port,
    defaultPort,
    path,
    authority: defaultPort ? hostForHeader : `${hostForHeader}:${port}`,
    isIp: isIP(host) !== 0,
  };
}
