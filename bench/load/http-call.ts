// One HTTP request of the load generator, on a shared keep-alive agent. Callback style rather
// than promises: at thousands of requests a second on one core the generator's own cost per
// request is part of what limits the rates it can drive, so it stays small.

import { request, type Agent, type IncomingMessage } from "node:http";

/** What every request of one load point sends. */
export interface RequestSpec {
  host: string;
  port: number;
  path: string;
  /** Extra headers (auth, peer routing); content-type and content-length are added. */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  /** true: an SSE response is expected, the time of its first byte is recorded and it must end with [DONE]. */
  stream: boolean;
}

export interface CallResult {
  /** null when the request succeeded; otherwise a short kind like "http_503", "timeout", "ECONNRESET". */
  error: string | null;
  /** performance.now() when the first response body byte arrived (streams), else NaN. */
  firstByteAt: number;
  /** performance.now() when the response ended or the request failed. */
  endAt: number;
}

/** The tail of a complete OpenAI-style event stream. */
const DONE_MARKER: string = "[DONE]";

/** Request headers for `spec`, built once per load point rather than once per request. */
export function requestHeaders(spec: RequestSpec): Record<string, string> {
  return {
    ...spec.headers,
    "content-type": "application/json",
    "content-length": String(spec.body.length),
    ...(spec.stream ? { accept: "text/event-stream" } : {}),
  };
}

/**
 * Sends one request and calls `done` exactly once. `timeoutMs` bounds the whole exchange, so a
 * target that stops answering cannot keep the run alive.
 */
export function call(
  agent: Agent,
  spec: RequestSpec,
  headers: Record<string, string>,
  timeoutMs: number,
  done: (result: CallResult) => void,
): void {
  let finished: boolean = false;
  let firstByteAt: number = Number.NaN;
  const finish = (error: string | null): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done({ error, firstByteAt, endAt: performance.now() });
  };

  const req = request(
    { host: spec.host, port: spec.port, path: spec.path, method: "POST", headers, agent },
    (res: IncomingMessage): void => {
      const status: number = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        res.on("end", () => finish(`http_${status}`));
        res.on("error", () => finish(`http_${status}`));
        return;
      }
      if (!spec.stream) {
        // The body is not parsed: the status is what tells success here, and parsing 8 KB
        // answers would cost the generator more CPU than the gateways we measure.
        res.resume();
        res.on("end", () => finish(null));
        res.on("error", (err: Error) => finish(errorKind(err)));
        return;
      }
      let tail: string = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string): void => {
        if (Number.isNaN(firstByteAt)) firstByteAt = performance.now();
        tail = (tail + chunk).slice(-32);
      });
      res.on("end", () => finish(tail.includes(DONE_MARKER) ? null : "stream_incomplete"));
      res.on("error", (err: Error) => finish(errorKind(err)));
    },
  );
  const timer: NodeJS.Timeout = setTimeout(() => {
    finish("timeout");
    req.destroy();
  }, timeoutMs);
  req.on("error", (err: Error) => finish(errorKind(err)));
  req.end(spec.body);
}

function errorKind(err: Error): string {
  const code: unknown = (err as NodeJS.ErrnoException).code;
  return typeof code === "string" && code !== "" ? code : "client_error";
}
