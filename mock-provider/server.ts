// The mock LLM provider: plain node:http so it is never the bottleneck of a gateway benchmark,
// one server answering both OpenAI and Anthropic paths, steered per request by x-mock-* headers.

import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { serveAdmin, type AdminState } from "./admin.ts";
import * as anthropic from "./anthropic.ts";
import { readControls, type ControlDefaults, type Controls } from "./controls.ts";
import { later } from "./delay.ts";
import * as openai from "./openai.ts";
import { ApiError, errorOutcome, headerRequestId, type ApiRequest, type Dialect, type Outcome } from "./outcome.ts";
import { isRecord } from "./reply.ts";
import { RequestLog, type RecordedRequest } from "./request-log.ts";
import { writeEventStream } from "./sse.ts";

export type { RecordedRequest } from "./request-log.ts";
export type { MockStats } from "./admin.ts";

export interface MockProviderOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default delay before the first byte; x-mock-latency-ms overrides it. Default 0. */
  latencyMs?: number;
  /** Default delay between SSE events; x-mock-chunk-delay-ms overrides it. Default 0. */
  chunkDelayMs?: number;
  /** How many requests the log keeps (oldest dropped first); 0 keeps none. Default 10000. */
  logLimit?: number;
}

export interface MockProvider {
  /** Base URL without a trailing slash, e.g. "http://127.0.0.1:41234". */
  readonly url: string;
  readonly port: number;
  /** The last `logLimit` requests, oldest first (a snapshot; /__mock/* requests are not logged). */
  readonly requests: readonly RecordedRequest[];
  /** Requests currently held open by x-mock-hang. */
  readonly hanging: number;
  clear(): void;
  /**
   * The first logged request matching `predicate` (default: any), or the next one to arrive.
   * Rejects when the mock closes first.
   */
  waitForRequest(predicate?: (request: RecordedRequest) => boolean): Promise<RecordedRequest>;
  /** CPU time of this process since the mock started, in microseconds. */
  cpuUsage(): NodeJS.CpuUsage;
  /** Stops listening and destroys every connection, hung ones included. Idempotent. */
  close(): Promise<void>;
}

interface Route {
  /** null: the dialect follows the request (GET /v1/models serves both APIs). */
  dialect: Dialect | null;
  /** Whether the route needs a JSON object body. */
  readsBody: boolean;
  handle(req: ApiRequest): Outcome;
}

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ["POST /v1/chat/completions", { dialect: openai.openAiDialect, readsBody: true, handle: openai.chatCompletions }],
  ["POST /v1/completions", { dialect: openai.openAiDialect, readsBody: true, handle: openai.legacyCompletions }],
  ["POST /v1/messages", { dialect: anthropic.anthropicDialect, readsBody: true, handle: anthropic.messages }],
  ["POST /v1/messages/count_tokens", { dialect: anthropic.anthropicDialect, readsBody: true, handle: anthropic.countTokens }],
  [
    "GET /v1/models",
    {
      dialect: null,
      readsBody: false,
      handle: (req: ApiRequest): Outcome =>
        speaksAnthropic("/v1/models", req.headers) ? anthropic.listModels() : openai.listModels(),
    },
  ],
]);

/** Well above any real prompt; beyond it the body is dropped and the request answered 413. */
const MAX_BODY_BYTES: number = 32 * 1024 * 1024;

const NOT_JSON: unique symbol = Symbol("not JSON");

/** Everything known about a request once its body is in, before deciding the answer. */
interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** null when the body exceeded MAX_BODY_BYTES. */
  body: string | null;
  parsed: unknown;
  route: Route | undefined;
  dialect: Dialect;
  controls: Controls;
  requestId: string;
}

export async function startMockProvider(opts: MockProviderOptions = {}): Promise<MockProvider> {
  const host: string = opts.host ?? "127.0.0.1";
  const defaults: ControlDefaults = { latencyMs: opts.latencyMs ?? 0, chunkDelayMs: opts.chunkDelayMs ?? 0 };
  const log: RequestLog = new RequestLog(opts.logLimit ?? 10_000);
  const hanging: Set<ServerResponse> = new Set<ServerResponse>();
  const startCpu: NodeJS.CpuUsage = process.cpuUsage();
  // Ids unique across mock instances too, in case a test stores them somewhere shared.
  const idPrefix: string = `mock${randomBytes(3).toString("hex")}`;
  let sequence: number = 0;

  const admin: AdminState = {
    log,
    hanging: (): number => hanging.size,
    cpuUsage: (): NodeJS.CpuUsage => process.cpuUsage(startCpu),
    startedAt: Date.now(),
  };

  const dispatch = (req: IncomingMessage, res: ServerResponse, body: string | null): void => {
    const method: string = req.method ?? "GET";
    const url: string = req.url ?? "/";
    const query: number = url.indexOf("?");
    const path: string = query === -1 ? url : url.slice(0, query);
    if (path.startsWith("/__mock/") && serveAdmin(method, path, res, admin)) return;

    const parsed: unknown = body === null || body === "" ? NOT_JSON : parseJson(body);
    log.add({
      method,
      path,
      url,
      headers: req.headers,
      body: body ?? "",
      json: parsed === NOT_JSON ? null : parsed,
      time: Date.now(),
    });

    const route: Route | undefined = ROUTES.get(`${method} ${path}`);
    const received: Received = {
      method,
      path,
      headers: req.headers,
      body,
      parsed,
      route,
      dialect: route?.dialect ?? (speaksAnthropic(path, req.headers) ? anthropic.anthropicDialect : openai.openAiDialect),
      controls: readControls(req.headers, defaults),
      requestId: `${idPrefix}${++sequence}`,
    };
    if (received.controls.hang) {
      hold(req.socket, res, hanging);
      return;
    }
    const outcome: Outcome = decide(received);
    outcome.headers[received.dialect.requestIdHeader] = headerRequestId(received.requestId);
    later(res, received.controls.latencyMs, () => {
      if (outcome.kind === "json") {
        // writeHead commits the headers, so without an explicit length Node would go chunked.
        outcome.headers["content-length"] = Buffer.byteLength(outcome.body);
        res.writeHead(outcome.status, outcome.headers);
        res.end(outcome.body);
      } else {
        writeEventStream(res, outcome, received.controls.chunkDelayMs, received.controls.writeBytes);
      }
    });
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size: number = 0;
    req.on("data", (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", (): void => {
      const body: string | null =
        size > MAX_BODY_BYTES ? null : chunks.length === 1 ? chunks[0].toString("utf8") : Buffer.concat(chunks).toString("utf8");
      dispatch(req, res, body);
    });
    // A client that resets mid-upload: nothing to answer, and an unhandled 'error' would crash us.
    req.on("error", (): void => {});
  });
  // Node closes idle keep-alive sockets after 5 s by default, racing with a proxy (Envoy keeps
  // upstream connections for an hour) that reuses one just then, which shows up as sporadic 503s.
  server.keepAliveTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port: number = (server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    get requests(): readonly RecordedRequest[] {
      return log.entries();
    },
    get hanging(): number {
      return hanging.size;
    },
    clear(): void {
      log.clear();
    },
    waitForRequest(predicate: (request: RecordedRequest) => boolean = () => true): Promise<RecordedRequest> {
      return log.waitFor(predicate);
    },
    cpuUsage(): NodeJS.CpuUsage {
      return admin.cpuUsage();
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        log.rejectWaiters(new Error("mock provider closed"));
      });
      return closing;
    },
  };
}

/** The answer to a request whose body has been read; never throws. */
function decide(r: Received): Outcome {
  try {
    if (r.controls.status !== null) return injectedError(r);
    if (r.body === null) throw new ApiError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    if (r.route === undefined) throw new ApiError(404, `Unknown request URL: ${r.method} ${r.path}`);
    let body: Record<string, unknown> = {};
    if (r.route.readsBody) {
      if (r.parsed === NOT_JSON) throw new ApiError(400, "could not parse the JSON body of the request");
      if (!isRecord(r.parsed)) throw new ApiError(400, "the request body must be a JSON object");
      body = r.parsed;
    }
    return r.route.handle({
      body,
      headers: r.headers,
      controls: r.controls,
      requestId: r.requestId,
      created: Math.floor(Date.now() / 1000),
    });
  } catch (error: unknown) {
    // Anything unexpected is the mock's bug, but a test is better served by a 500 than a crash.
    const status: number = error instanceof ApiError ? error.status : 500;
    const message: string = error instanceof ApiError ? error.message : "mock-provider internal error";
    return errorOutcome(r.dialect, status, message, headerRequestId(r.requestId));
  }
}

function injectedError(r: Received): Outcome {
  const status: number = r.controls.status ?? 500;
  const message: string = `mock-provider: injected error status ${status}`;
  const outcome: Outcome = errorOutcome(r.dialect, status, message, headerRequestId(r.requestId));
  if (status === 429) outcome.headers["retry-after"] = r.controls.retryAfter;
  return outcome;
}

/**
 * Never answers. The socket goes when the response closes (client gone, or close() destroying
 * every connection) or when the client half-closes, since it can then never read an answer.
 */
function hold(socket: Socket, res: ServerResponse, hanging: Set<ServerResponse>): void {
  hanging.add(res);
  const release = (): void => {
    hanging.delete(res);
    socket.destroy();
  };
  res.once("close", release);
  socket.once("end", release);
}

/** Anthropic's paths, or any request carrying the anthropic-version header its SDKs always send. */
function speaksAnthropic(path: string, headers: IncomingHttpHeaders): boolean {
  return path.startsWith("/v1/messages") || headers["anthropic-version"] !== undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** A wildcard bind address is not something a client can connect to; loopback is. */
function urlHost(host: string): string {
  if (host === "" || host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
