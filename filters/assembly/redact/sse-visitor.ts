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
      if (this.api == ApiFormat.OpenAI) return w.pathIs(OPENAI_FINISH) || w.pathIs(TOP_ID) || w.pathIs(TOP_MODEL);
      return w.pathIs(TOP_TYPE);
    }
    if (this.streamKey(w).length > 0) return true;
    return super.wants(w, base, start, end);
  }

  visit(w: JsonWalker, value: string): string | null {
    if (this.pass == PASS_COLLECT) {
      if (this.api == ApiFormat.Anthropic) this.type = value;
      else if (w.pathIs(OPENAI_FINISH)) this.finished.push(this.choiceOf(w));
      else if (w.pathIs(TOP_ID)) this.id = value;
      else this.model = value;
      return null;
    }
    const key = this.streamKey(w);
    if (key.length == 0) return super.visit(w, value);
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
      }
    } else if (w.pathIs(TOP_INDEX)) {
      this.blockIndex = intAt(base, start, end);
    }
  }
}
