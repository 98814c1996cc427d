// The visitor for one SSE event's JSON. Streamed text — OpenAI choices[].delta.content (and
// refusal, reasoning_content, reasoning) and tool_calls[].function.arguments, Anthropic content_block_delta delta.text / partial_json /
// thinking — goes through one StreamRedactor per choice, tool call or content block (named by a
// stream key), which releases only what can no longer be part of an entity. Every other string of
// the event is redacted on its own, like in a non-streamed response.
//
// An event is walked twice: first to collect what its paths depend on (the choice's and tool
// call's "index" members may come after the text in the object) and whether it ends a stream,
// then to rewrite it.
import { JsonWalker, intAt } from "./json-walk";
import { TextVisitor } from "./text-visitor";
import { ApiFormat } from "../sdk/api-error";
import { StreamRedactor } from "../detect/stream";

const OPENAI_INDEX: Array<string> = ["choices", "[]", "index"];
const OPENAI_FINISH: Array<string> = ["choices", "[]", "finish_reason"];
const OPENAI_CONTENT: Array<string> = ["choices", "[]", "delta", "content"];
// Streamed text fields besides content: refusals, and the reasoning text OpenAI-compatible
// providers stream (DeepSeek, Groq, vLLM). Each gets its own stream per choice.
const OPENAI_REFUSAL: Array<string> = ["choices", "[]", "delta", "refusal"];
const OPENAI_REASONING_CONTENT: Array<string> = ["choices", "[]", "delta", "reasoning_content"];
const OPENAI_REASONING: Array<string> = ["choices", "[]", "delta", "reasoning"];
const OPENAI_TOOL_INDEX: Array<string> = ["choices", "[]", "delta", "tool_calls", "[]", "index"];
const OPENAI_TOOL_ARGS: Array<string> = ["choices", "[]", "delta", "tool_calls", "[]", "function", "arguments"];
const TOP_ID: Array<string> = ["id"];
const TOP_MODEL: Array<string> = ["model"];
const TOP_CREATED: Array<string> = ["created"];
const TOP_TYPE: Array<string> = ["type"];
const TOP_INDEX: Array<string> = ["index"];
// OpenAI Responses API events: {"type":"response.output_text.delta","item_id":…,"output_index":0,
// "content_index":0,"delta":"…"} (also refusal, reasoning text, function-call arguments).
const TOP_ITEM_ID: Array<string> = ["item_id"];
const TOP_OUTPUT_INDEX: Array<string> = ["output_index"];
const TOP_CONTENT_INDEX: Array<string> = ["content_index"];
const TOP_DELTA: Array<string> = ["delta"];
const DELTA_TEXT: Array<string> = ["delta", "text"];
const DELTA_JSON: Array<string> = ["delta", "partial_json"];
const DELTA_THINKING: Array<string> = ["delta", "thinking"];

export const PASS_COLLECT: i32 = 0;
export const PASS_REWRITE: i32 = 1;

export class SseVisitor extends TextVisitor {
  api: ApiFormat = ApiFormat.OpenAI;
  pass: i32 = PASS_COLLECT;

  // Collected by the first pass.
  /** choices[] position → its "index" member. */
  choiceIndex: Array<i32> = new Array<i32>(0);
  /** Choice indexes whose finish_reason is set in this event. */
  finished: Array<i32> = new Array<i32>(0);
  /** "<choice position>.<tool position>" → the tool call's "index" member. */
  toolIndex: Map<string, i32> = new Map<string, i32>();
  /** Anthropic: the event's type and content block index. */
  type: string = "";
  blockIndex: i32 = -1;
  /** Responses API: the event's item and its indexes. */
  itemId: string = "";
  outputIndex: i32 = -1;
  contentIndex: i32 = -1;
  /** Responses API stream key → item id, for the events the filter writes itself. */
  itemOf: Map<string, string> = new Map<string, string>();
  /** OpenAI: the stream's id, model and created, for chunks the filter writes itself. */
  id: string = "";
  model: string = "";
  created: string = "0";

  /** One redactor per stream key, created on the key's first text; all share the response's state. */
  streams: Map<string, StreamRedactor> = new Map<string, StreamRedactor>();
  /** Stream keys in order of first text (flush order). */
  order: Array<string> = new Array<string>(0);
  holdbackChars: i32 = 4096;

  /** Releases what `key`'s redactor can release after `text`. */
  streamText(key: string, text: string): string {
    if (!this.streams.has(key)) {
      this.streams.set(key, new StreamRedactor(this.policy, this.state, this.holdbackChars));
      this.order.push(key);
    }
    return this.streams.get(key).push(text);
  }

  startEvent(): void {
    this.choiceIndex.length = 0;
    this.finished.length = 0;
    this.toolIndex.clear();
    this.type = "";
    this.blockIndex = -1;
    this.itemId = "";
    this.outputIndex = -1;
    this.contentIndex = -1;
    this.pass = PASS_COLLECT;
  }

  private choiceOf(w: JsonWalker): i32 {
    const p = w.index(2);
    return p >= 0 && p < this.choiceIndex.length && this.choiceIndex[p] >= 0 ? this.choiceIndex[p] : p;
  }

  /** The stream key of the string at the walker's path, or "" when it is not streamed text. */
  streamKey(w: JsonWalker): string {
    if (this.api == ApiFormat.OpenAI) {
      if (w.pathIs(OPENAI_CONTENT)) return "c" + this.choiceOf(w).toString();
      if (w.pathIs(OPENAI_REFUSAL)) return "f" + this.choiceOf(w).toString();
      if (w.pathIs(OPENAI_REASONING_CONTENT)) return "r" + this.choiceOf(w).toString();
      if (w.pathIs(OPENAI_REASONING)) return "g" + this.choiceOf(w).toString();
      if (w.pathIs(OPENAI_TOOL_ARGS)) {
        const pos = w.index(2).toString() + "." + w.index(5).toString();
        const tool = this.toolIndex.has(pos) ? this.toolIndex.get(pos) : w.index(5);
        return "t" + this.choiceOf(w).toString() + "." + tool.toString();
      }
      if (w.pathIs(TOP_DELTA) && this.type.startsWith("response.") && this.type.endsWith(".delta") && plainType(this.type)) {
        return responsesKey(this.outputIndex, this.contentIndex, this.type);
      }
      return "";
    }
    if (this.type != "content_block_delta") return "";
    if (w.pathIs(DELTA_TEXT)) return "b" + this.blockIndex.toString();
    if (w.pathIs(DELTA_JSON)) return "j" + this.blockIndex.toString();
    if (w.pathIs(DELTA_THINKING)) return "k" + this.blockIndex.toString();
    return "";
  }

  wants(w: JsonWalker, base: usize, start: i32, end: i32): bool {
    if (this.pass == PASS_COLLECT) {
      if (this.api == ApiFormat.OpenAI) {
        return w.pathIs(OPENAI_FINISH) || w.pathIs(TOP_ID) || w.pathIs(TOP_MODEL) || w.pathIs(TOP_TYPE) || w.pathIs(TOP_ITEM_ID);
      }
      return w.pathIs(TOP_TYPE);
    }
    if (this.streamKey(w).length > 0) return true;
    return super.wants(w, base, start, end);
  }

  visit(w: JsonWalker, value: string): string | null {
    if (this.pass == PASS_COLLECT) {
      if (w.pathIs(TOP_TYPE)) this.type = value;
      else if (w.pathIs(OPENAI_FINISH)) this.finished.push(this.choiceOf(w));
      else if (w.pathIs(TOP_ID)) this.id = value;
      else if (w.pathIs(TOP_ITEM_ID)) this.itemId = value;
      else this.model = value;
      return null;
    }
    const key = this.streamKey(w);
    if (key.length == 0) return super.visit(w, value);
    if (key.charCodeAt(0) == 0x78) this.itemOf.set(key, this.itemId); // "x": Responses API
    const out = this.streamText(key, value);
    return out == value ? null : out;
  }

  number(w: JsonWalker, base: usize, start: i32, end: i32): void {
    if (this.pass != PASS_COLLECT) return;
    if (this.api == ApiFormat.OpenAI) {
      if (w.pathIs(OPENAI_INDEX)) {
        const p = w.index(2);
        while (this.choiceIndex.length <= p) this.choiceIndex.push(-1);
        this.choiceIndex[p] = intAt(base, start, end);
      } else if (w.pathIs(OPENAI_TOOL_INDEX)) {
        this.toolIndex.set(w.index(2).toString() + "." + w.index(5).toString(), intAt(base, start, end));
      } else if (w.pathIs(TOP_CREATED) && end - start < 20) {
        this.created = String.UTF8.decodeUnsafe(base + <usize>start, <usize>(end - start));
      } else if (w.pathIs(TOP_OUTPUT_INDEX)) {
        this.outputIndex = intAt(base, start, end);
      } else if (w.pathIs(TOP_CONTENT_INDEX)) {
        this.contentIndex = intAt(base, start, end);
      }
    } else if (w.pathIs(TOP_INDEX)) {
      this.blockIndex = intAt(base, start, end);
    }
  }
}

/** Stream key of a Responses API delta: "x<output>.<content>:<delta event type>". */
export function responsesKey(outputIndex: i32, contentIndex: i32, deltaType: string): string {
  return "x" + outputIndex.toString() + "." + contentIndex.toString() + ":" + deltaType;
}

/** Event types the filter may write back into an `event:` line: [a-z0-9._] only, so never a line break. */
function plainType(t: string): bool {
  if (t.length > 100) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x5f)) return false;
  }
  return true;
}
