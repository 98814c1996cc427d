// What an API handler decides, kept apart from how it is sent: handlers stay pure functions of
// the request, and the server alone deals with latency, pacing, sockets and client aborts.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { Controls } from "./controls.ts";

export interface JsonOutcome {
  kind: "json";
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
}

/** A 200 text/event-stream response; each element is one complete event, blank line included. */
export interface SseOutcome {
  kind: "sse";
  headers: OutgoingHttpHeaders;
  events: string[];
}

export type Outcome = JsonOutcome | SseOutcome;

/** A request the mock refuses; the server renders it in the route's API error format. */
export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface ApiRequest {
  /** The parsed JSON body; the server guarantees an object on routes that read a body. */
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  controls: Controls;
  /** Unique across mock instances; response ids embed it (e.g. "chatcmpl-<id>"). */
  requestId: string;
  /** Unix seconds, taken once per request so all chunks of a stream agree. */
  created: number;
}

/** One API's wire conventions for anything that is not a success body. */
export interface Dialect {
  name: "openai" | "anthropic";
  /** The header carrying the request id in this API's responses. */
  requestIdHeader: string;
  /** `requestId` is the value of the request-id header, which Anthropic repeats in the body. */
  errorBody(status: number, message: string, requestId: string): string;
}

export function jsonOutcome(status: number, body: string): JsonOutcome {
  return { kind: "json", status, headers: { "content-type": "application/json" }, body };
}

export function sseOutcome(events: string[]): SseOutcome {
  return {
    kind: "sse",
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
    events,
  };
}

export function errorOutcome(dialect: Dialect, status: number, message: string, requestId: string): JsonOutcome {
  return jsonOutcome(status, dialect.errorBody(status, message, requestId));
}

/** The request-id header value, as the providers format theirs ("req_..."). */
export function headerRequestId(requestId: string): string {
  return `req_${requestId}`;
}
