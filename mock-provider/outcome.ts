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
  /** Request id, unique within this mock, for response ids and request-id headers. */
  requestId: string;
  /** Unix seconds, taken once per request so all chunks of a stream agree. */
  created: number;
}

/** One API's wire conventions for anything that is not a success body. */
export interface Dialect {
  name: "openai" | "anthropic";
  /** The header carrying the request id in this API's responses. */
  requestIdHeader: string;
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
