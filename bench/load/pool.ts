// The keep-alive pool one load run sends through, sized for its rate.

import { Agent } from "node:http";

export interface LoadPool {
  agent: Agent;
  /** Most requests in flight at once (OpenLoopOptions.maxInFlight). */
  maxInFlight: number;
}

/**
 * A pool for `rate` requests per second. In-flight bound: one second's worth of requests (at least
 * 64). A target slower than a second per request at this rate is failing anyway; the bound stops
 * the generator from opening connections without end against it. LIFO reuse keeps the fewest
 * connections busy, as a client pool would. The caller destroys the agent when done.
 */
export function loadPool(rate: number): LoadPool {
  const cap: number = Math.max(64, Math.min(rate, 5000));
  return { agent: new Agent({ keepAlive: true, maxSockets: cap, maxFreeSockets: cap, scheduling: "lifo" }), maxInFlight: cap };
}
