// The request bodies: an OpenAI chat completion whose JSON is exactly the named size, the same
// bytes for every target, so a difference in latency is the gateway's and not the payload's.

/** Model name in every body. The peers' configs map this name to the mock (see targets/litellm.ts). */
export const BENCH_MODEL: string = "mock";

/**
 * Output tokens asked for: small, so the response size stays constant and the mock's reply
 * ("mock reply to: <40 characters>", about ten words) is never cut short.
 */
const MAX_TOKENS: number = 32;

/** "1k" → 1024, "8k" → 8192, "512" → 512. */
export function parseSize(text: string): number {
  const match: RegExpMatchArray | null = text.trim().toLowerCase().match(/^(\d+)(k?)$/);
  if (match === null) throw new Error(`size must look like 1k, 8k or 512 (bytes), got "${text}"`);
  const bytes: number = Number(match[1]) * (match[2] === "k" ? 1024 : 1);
  if (bytes < 256 || bytes > 4 * 1024 * 1024) throw new Error(`size must be from 256 bytes to 4096k, got "${text}"`);
  return bytes;
}

/** The label a size is reported under: 1024 → "1k". */
export function sizeLabel(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024}k` : `${bytes}`;
}

/**
 * A chat completion body of exactly `bytes` bytes. The user message is filler text (ASCII, so one
 * byte per character) sized to make up the difference; words rather than one repeated letter so
 * a gateway that scans prompts (a later PII module) sees something like text.
 */
export function chatBody(bytes: number, stream: boolean): Buffer {
  const shell = (content: string): string =>
    JSON.stringify({
      model: BENCH_MODEL,
      max_tokens: MAX_TOKENS,
      stream,
      messages: [{ role: "user", content }],
    });
  const room: number = bytes - Buffer.byteLength(shell(""));
  if (room < 0) throw new Error(`a ${bytes}-byte body cannot hold the request envelope`);
  const words: string = "the quick brown fox jumps over the lazy dog and keeps on running through the field ";
  const content: string = words.repeat(Math.ceil(room / words.length) + 1).slice(0, room);
  const body: Buffer = Buffer.from(shell(content), "utf8");
  if (body.length !== bytes) throw new Error(`payload builder made ${body.length} bytes instead of ${bytes}`);
  return body;
}
