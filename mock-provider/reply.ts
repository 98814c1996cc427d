// The deterministic reply and token-count rules shared by both API dialects. The README states
// these rules so tests in any process can compute the expected content and usage themselves;
// keep the two in step.

/** How many code points of the last user message the default reply quotes. */
export const SNIPPET_CODE_POINTS: number = 40;
export const REPLY_PREFIX: string = "mock reply to: ";
/** Roughly one token per streamed delta unless x-mock-chunk-size says otherwise. */
export const DEFAULT_CHUNK_SIZE: number = 4;

export interface ReplyInput {
  /** Code points of all prompt text (system + every message). */
  promptCodePoints: number;
  /** Text of the last message whose role is "user" ("" when there is none). */
  lastUserText: string;
  /** Reply text forced by x-mock-reply / x-mock-reply-b64, or null. */
  override: string | null;
  /** The request's max output tokens, or null when absent or not a positive integer. */
  maxTokens: number | null;
}

export interface Reply {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** True when maxTokens cut the reply short (finish_reason "length" / stop_reason "max_tokens"). */
  truncated: boolean;
}

export function planReply(input: ReplyInput): Reply {
  const full: string = input.override ?? REPLY_PREFIX + firstCodePoints(input.lastUserText, SNIPPET_CODE_POINTS);
  const words: number = countWords(full);
  const promptTokens: number = promptTokensFor(input.promptCodePoints);
  if (input.maxTokens !== null && words > input.maxTokens) {
    return { text: firstWords(full, input.maxTokens), promptTokens, completionTokens: input.maxTokens, truncated: true };
  }
  return { text: full, promptTokens, completionTokens: words, truncated: false };
}

/** About four characters per token, like OpenAI's rule of thumb. */
export function promptTokensFor(promptCodePoints: number): number {
  return Math.ceil(promptCodePoints / 4);
}

/**
 * Text of an OpenAI or Anthropic message `content`: a string as is, or the concatenated `text`
 * fields of the parts of an array. Images, tool calls and anything else count as no text.
 */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text: string = "";
  for (const part of content) {
    if (isRecord(part) && typeof part.text === "string") text += part.text;
  }
  return text;
}

/** Code points rather than UTF-16 units, so an emoji counts once, as a reader would expect. */
export function countCodePoints(s: string): number {
  let n: number = 0;
  for (let i = 0; i < s.length; i++) {
    if (isSurrogatePairAt(s, i)) i++;
    n++;
  }
  return n;
}

export function firstCodePoints(s: string, count: number): string {
  let seen: number = 0;
  let i: number = 0;
  while (i < s.length && seen < count) {
    i += isSurrogatePairAt(s, i) ? 2 : 1;
    seen++;
  }
  return s.slice(0, i);
}

/** Splits into pieces of `size` code points so a streamed delta never holds half a surrogate pair. */
export function splitCodePoints(s: string, size: number): string[] {
  const pieces: string[] = [];
  let start: number = 0;
  let inPiece: number = 0;
  for (let i = 0; i < s.length; i++) {
    if (isSurrogatePairAt(s, i)) i++;
    if (++inPiece === size) {
      pieces.push(s.slice(start, i + 1));
      start = i + 1;
      inPiece = 0;
    }
  }
  if (start < s.length) pieces.push(s.slice(start));
  return pieces;
}

/**
 * The streamed pieces of `s`: cut at the code-point offsets in `splitAt` when given (out-of-range
 * and repeated offsets ignored, so no piece is empty), else every `size` code points.
 */
export function streamPieces(s: string, size: number, splitAt: number[] | null): string[] {
  if (splitAt === null) return splitCodePoints(s, size);
  const cps: string[] = Array.from(s);
  const cuts: number[] = [...new Set(splitAt)].filter((c: number): boolean => c > 0 && c < cps.length).sort((a, b) => a - b);
  const pieces: string[] = [];
  let prev: number = 0;
  for (const c of [...cuts, cps.length]) {
    pieces.push(cps.slice(prev, c).join(""));
    prev = c;
  }
  return pieces.filter((p: string): boolean => p !== "");
}

/** Words are maximal runs of non-whitespace (JavaScript's \S). */
export function countWords(s: string): number {
  return s.match(/\S+/g)?.length ?? 0;
}

/** The prefix of `s` that ends with its `count`-th word, keeping the original spacing. */
function firstWords(s: string, count: number): string {
  if (count <= 0) return "";
  const word: RegExp = /\S+/g;
  let end: number = 0;
  for (let i = 0; i < count; i++) {
    const match: RegExpExecArray | null = word.exec(s);
    if (match === null) break;
    end = match.index + match[0].length;
  }
  return s.slice(0, end);
}

function isSurrogatePairAt(s: string, i: number): boolean {
  const high: number = s.charCodeAt(i);
  if (high < 0xd800 || high > 0xdbff || i + 1 >= s.length) return false;
  const low: number = s.charCodeAt(i + 1);
  return low >= 0xdc00 && low <= 0xdfff;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A positive integer value, or null: the mock ignores limits it cannot read rather than failing. */
export function positiveInteger(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}
