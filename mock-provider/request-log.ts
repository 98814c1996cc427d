// What the provider received, so tests can check exactly what the gateway forwarded (headers it
// injected or stripped, bodies it redacted). A ring buffer: under a benchmark the log must stay
// bounded and cost O(1) per request.

import type { IncomingHttpHeaders } from "node:http";

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. "/v1/chat/completions". */
  path: string;
  /** The request target as received, query string included. */
  url: string;
  /** Lower-cased names, as Node parsed them. */
  headers: IncomingHttpHeaders;
  /** The raw body as UTF-8 text ("" when there was none). */
  body: string;
  /** The parsed body, or null when it was empty or not JSON. */
  json: unknown;
  /** Arrival time, milliseconds since the epoch. */
  time: number;
}

type Predicate = (request: RecordedRequest) => boolean;

interface Waiter {
  predicate: Predicate;
  resolve: (request: RecordedRequest) => void;
  reject: (error: Error) => void;
}

export class RequestLog {
  private readonly limit: number;
  private readonly ring: RecordedRequest[] = [];
  /** Index in `ring` of the oldest entry once the ring is full. */
  private head: number = 0;
  private waiters: Waiter[] = [];
  /** Requests ever recorded, including those evicted or cleared. */
  total: number = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  add(request: RecordedRequest): void {
    this.total++;
    if (this.limit > 0) {
      if (this.ring.length < this.limit) {
        this.ring.push(request);
      } else {
        this.ring[this.head] = request;
        this.head = (this.head + 1) % this.limit;
      }
    }
    if (this.waiters.length > 0) this.wake(request);
  }

  /** Oldest first; a copy, so callers may keep it while requests keep arriving. */
  entries(): RecordedRequest[] {
    return this.ring.slice(this.head).concat(this.ring.slice(0, this.head));
  }

  clear(): void {
    this.ring.length = 0;
    this.head = 0;
  }

  /** Resolves with the first logged request matching `predicate`, or the next one to arrive. */
  waitFor(predicate: Predicate): Promise<RecordedRequest> {
    return new Promise<RecordedRequest>((resolve, reject) => {
      const logged: RecordedRequest | undefined = this.entries().find(predicate);
      if (logged !== undefined) resolve(logged);
      else this.waiters.push({ predicate, resolve, reject });
    });
  }

  /** Fails pending waits, so a test waiting on a closed mock errors instead of hanging. */
  rejectWaiters(error: Error): void {
    const waiters: Waiter[] = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  private wake(request: RecordedRequest): void {
    const pending: Waiter[] = [];
    for (const waiter of this.waiters) {
      let matches: boolean;
      try {
        matches = waiter.predicate(request);
      } catch (error: unknown) {
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (matches) waiter.resolve(request);
      else pending.push(waiter);
    }
    this.waiters = pending;
  }
}
