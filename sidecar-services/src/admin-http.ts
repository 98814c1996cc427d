// HTTP plumbing of the admin API: bounded JSON body reading and JSON answers in one error shape,
// `{"error":{"code","message"}}` with codes from the registry (errors.ts).
import type http from "node:http";
import { ADMIN_ERRORS, AdminError, type AdminErrorCode } from "./errors.ts";

/** Default cap on a request body; the largest legitimate one (a policy with 1000 models) fits easily. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** Sends `body` as JSON. Admin answers are never cached by anything in between. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(text);
}

/** Sends a registry error; `message` defaults to the registry's. */
export function sendError(
  res: http.ServerResponse,
  code: AdminErrorCode,
  message: string = ADMIN_ERRORS[code].message,
  headers: Record<string, string> = {},
): void {
  sendJson(res, ADMIN_ERRORS[code].httpStatus, { error: { code, message } }, headers);
}

/**
 * Reads the body as JSON, at most `maxBytes`. An empty body reads as `undefined`. Throws AdminError
 * `admin.payload_too_large` (declared or streamed size over the cap; reading stops at once) or
 * `admin.invalid_request` (not UTF-8 JSON).
 */
export async function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) throw new AdminError("admin.payload_too_large", `Request body over ${maxBytes} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new AdminError("admin.payload_too_large", `Request body over ${maxBytes} bytes.`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AdminError("admin.invalid_request", "body: must be UTF-8 JSON");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message can quote the input; say where to look, not what was there.
    throw new AdminError("admin.invalid_request", "body: must be valid JSON");
  }
}

/**
 * Path segments below `prefix`, percent-decoded; null when the path is outside the prefix or a
 * segment is not valid percent-encoding.
 */
export function pathSegments(pathname: string, prefix: string): string[] | null {
  if (pathname !== prefix && !pathname.startsWith(prefix + "/")) return null;
  const rest = pathname.slice(prefix.length).replace(/^\/+|\/+$/g, "");
  if (rest === "") return [];
  try {
    return rest.split("/").map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}
