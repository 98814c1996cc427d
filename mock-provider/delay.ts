// Every timer the mock starts belongs to one response and dies with it, so a client that goes
// away, or close() destroying the socket, never leaves a timer keeping the process alive.

import type { ServerResponse } from "node:http";

/** Runs `fn` after `ms`, or synchronously for 0 so the benchmark path never touches a timer. */
export function later(res: ServerResponse, ms: number, fn: () => void): void {
  if (ms <= 0) {
    fn();
    return;
  }
  const timer: NodeJS.Timeout = setTimeout(fn, ms);
  res.once("close", () => clearTimeout(timer));
}
