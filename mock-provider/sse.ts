// Server-sent events: the two event framings the dialects use, and paced delivery.

import type { ServerResponse } from "node:http";
import type { SseOutcome } from "./outcome.ts";

/** An OpenAI-style event: data only. */
export function dataEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** An Anthropic-style event: named, then data. */
export function namedEvent(name: string, payload: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

export const DONE_EVENT: string = "data: [DONE]\n\n";

/**
 * Sends the stream chunked, as real providers do, even when it is all known up front; without a
 * delay it goes out in one write so the mock costs almost nothing per request under load.
 */
export function writeEventStream(res: ServerResponse, outcome: SseOutcome, chunkDelayMs: number, writeBytes: number = 0): void {
  res.writeHead(200, outcome.headers);
  if (chunkDelayMs <= 0 || outcome.events.length <= 1) {
    res.write(outcome.events.join(""));
    res.end();
    return;
  }
  // x-mock-write-bytes: the same bytes re-cut into fixed-size writes, so events (and UTF-8
  // characters) straddle the writes a gateway sees as separate body chunks.
  const writes: string[] | Buffer[] = writeBytes > 0 ? splitBytes(Buffer.from(outcome.events.join("")), writeBytes) : outcome.events;
  // One timer slot and one close listener for the whole stream, however many events it has.
  let timer: NodeJS.Timeout | undefined;
  res.once("close", () => clearTimeout(timer));
  const next = (index: number): void => {
    if (res.destroyed) return;
    res.write(writes[index]);
    if (index + 1 === writes.length) res.end();
    else timer = setTimeout(next, chunkDelayMs, index + 1);
  };
  next(0);
}

function splitBytes(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}
