// Rewrites an SSE response body chunk by chunk. Events are cut out of the byte stream whatever
// the chunking (an event, a line or a UTF-8 character may be split across chunks; the incomplete
// tail is kept for the next chunk, bounded by MAX_EVENT_BYTES), each event's JSON is rewritten by
// the SseVisitor, and the event is written out again: its `event:`, `id:`, `retry:` and comment
// lines as they were, the data as one or more `data:` lines, then a blank line.
//
// Text a stream redactor still holds is released in an event the filter writes itself, just
// before the event that ends its stream (OpenAI: the choice's finish_reason, or [DONE]; Anthropic:
// content_block_stop of its block, or message_delta / message_stop) and at the end of the body.
import { ByteSink } from "./byte-sink";
import { JsonWalker } from "./json-walk";
import { writeJsonString } from "./json-text";
import { SseVisitor, PASS_REWRITE, responsesKey } from "./sse-visitor";
import { checkJson } from "../sdk/json-check";
import { ApiFormat } from "../sdk/api-error";
import { RedactPolicy, RedactState, redactText } from "../detect/redactor";

/** Longest event kept while waiting for its end; a longer one is dropped, never passed on unread. */
export const MAX_EVENT_BYTES: i32 = 1 << 20;
const MAX_EVENT_DEPTH: i32 = 64;

@inline function at(base: usize, i: i32): u32 { return <u32>load<u8>(base + <usize>i); }

function startsWith(base: usize, start: i32, end: i32, prefix: string): bool {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (at(base, start + i) != <u32>prefix.charCodeAt(i)) return false;
  return true;
}

export class SseRewriter {
  visitor: SseVisitor = new SseVisitor();
  private pending: ByteSink = new ByteSink();
  private data: ByteSink = new ByteSink();
  private json: ByteSink = new ByteSink();
  private other: ByteSink = new ByteSink();
  private text: ByteSink = new ByteSink();
  /** Where the search for the end of the pending event resumes, and where its current line starts. */
  private scanned: i32 = 0;
  private lineStart: i32 = 0;
  /** Events dropped for exceeding MAX_EVENT_BYTES. */
  overflows: i32 = 0;

  constructor(public walker: JsonWalker) {}

  begin(api: ApiFormat, policy: RedactPolicy, state: RedactState, holdbackChars: i32): void {
    this.visitor.api = api;
    this.visitor.begin(policy, state);
    this.visitor.holdbackChars = holdbackChars;
  }

  /** Feeds a body chunk; appends to `out` the events it completes, rewritten. */
  push(base: usize, len: i32, out: ByteSink): void {
    this.pending.writeBytes(base, len);
    this.drain(out, false);
  }

  /** End of the body: the unfinished event (if any) as if complete, then every held text. */
  finish(out: ByteSink): void {
    this.drain(out, true);
    this.flushAll(out);
  }

  private drain(out: ByteSink, atEnd: bool): void {
    // event() writes only to the other sinks, so the pending bytes stay put while they are read.
    const base = this.pending.ptr;
    const n = this.pending.len;
    let eventStart = 0;
    let i = this.scanned;
    let lineStart = this.lineStart;
    while (i < n) {
      if (at(base, i) == 0x0a) {
        let lineEnd = i;
        if (lineEnd > lineStart && at(base, lineEnd - 1) == 0x0d) lineEnd--;
        if (lineEnd == lineStart) {
          // Blank line: the event is complete (a blank line with nothing before it is skipped).
          if (lineStart > eventStart) this.event(base, eventStart, lineStart, out);
          eventStart = i + 1;
        }
        lineStart = i + 1;
      }
      i++;
    }
    if (atEnd && n > eventStart) {
      this.event(base, eventStart, n, out);
      eventStart = n;
    }
    if (n - eventStart > MAX_EVENT_BYTES) {
      // Dropping is the fail-closed choice: an event we cannot read in full is not passed on.
      this.overflows++;
      eventStart = n;
    }
    this.pending.dropFront(eventStart);
    this.scanned = n - eventStart;
    this.lineStart = lineStart - eventStart > 0 ? lineStart - eventStart : 0;
  }

  /** One event: bytes [start, end) without the blank line. */
  private event(base: usize, start: i32, end: i32, out: ByteSink): void {
    const data = this.data;
    const other = this.other;
    data.reset();
    other.reset();
    let hasData = false;
    let ls = start;
    while (ls < end) {
      let le = ls;
      while (le < end && at(base, le) != 0x0a) le++;
      const next = le + 1;
      if (le > ls && at(base, le - 1) == 0x0d) le--;
      if (startsWith(base, ls, le, "data")) {
        let v = ls + 4;
        if (v < le && at(base, v) == 0x3a) {
          v++;
          if (v < le && at(base, v) == 0x20) v++;
          if (hasData) data.writeByte(0x0a);
          data.writeBytes(base + <usize>v, le - v);
          hasData = true;
        } else if (v == le) {
          // "data" alone: an empty data line.
          if (hasData) data.writeByte(0x0a);
          hasData = true;
        } else {
          other.writeBytes(base + <usize>ls, le - ls);
          other.writeByte(0x0a);
        }
      } else if (le > ls) {
        other.writeBytes(base + <usize>ls, le - ls);
        other.writeByte(0x0a);
      }
      ls = next;
    }
    if (!hasData) {
      this.writeEvent(out, other, 0, -1);
      return;
    }
    const dbuf = data.toBuffer();
    const dbase = changetype<usize>(dbuf);
    const dlen = dbuf.byteLength;
    if (dlen == 6 && startsWith(dbase, 0, dlen, "[DONE]")) {
      this.flushAll(out);
      this.writeEvent(out, other, dbase, dlen);
      return;
    }
    const check = checkJson(dbase, dlen, MAX_EVENT_DEPTH, false);
    if (!check.ok) {
      // Not JSON: redact it as text, whole.
      const t = String.UTF8.decodeUnsafe(dbase, <usize>dlen);
      const r = redactText(t, this.visitor.policy, this.visitor.state);
      if (r == t) { this.writeEvent(out, other, dbase, dlen); return; }
      const rb = String.UTF8.encode(r);
      this.writeEvent(out, other, changetype<usize>(rb), rb.byteLength);
      return;
    }
    const v = this.visitor;
    v.startEvent();
    this.walker.walk(dbase, dlen, v, this.json);
    // Streams this event ends release their held text first, in events of their own.
    if (v.api == ApiFormat.OpenAI) {
      for (let k = 0; k < v.finished.length; k++) this.flushChoice(out, v.finished[k]);
      if (v.type.startsWith("response.")) {
        // Responses API: a part's ".done" event ends its deltas; the response's end ends them all.
        if (v.type.endsWith(".done")) {
          this.flushKey(out, responsesKey(v.outputIndex, v.contentIndex, v.type.substring(0, v.type.length - 5) + ".delta"));
        } else if (v.type == "response.completed" || v.type == "response.incomplete" || v.type == "response.failed") {
          this.flushAll(out);
        }
      }
    } else if (v.type == "content_block_stop") {
      this.flushKey(out, "b" + v.blockIndex.toString());
      this.flushKey(out, "j" + v.blockIndex.toString());
      this.flushKey(out, "k" + v.blockIndex.toString());
    } else if (v.type == "message_delta" || v.type == "message_stop") {
      this.flushAll(out);
    }
    v.pass = PASS_REWRITE;
    this.walker.walk(dbase, dlen, v, this.json);
    if (!this.walker.changed) { this.writeEvent(out, other, dbase, dlen); return; }
    const jb = this.json.toBuffer();
    this.writeEvent(out, other, changetype<usize>(jb), jb.byteLength);
  }

  /** Writes the kept lines, the data (one `data:` line per line of it; none when len < 0), a blank line. */
  private writeEvent(out: ByteSink, other: ByteSink, base: usize, len: i32): void {
    const ob = other.toBuffer();
    out.writeBytes(changetype<usize>(ob), ob.byteLength);
    if (len >= 0) {
      let ls = 0;
      while (true) {
        let le = ls;
        while (le < len && at(base, le) != 0x0a) le++;
        out.writeAscii("data: ");
        out.writeBytes(base + <usize>ls, le - ls);
        out.writeByte(0x0a);
        if (le >= len) break;
        ls = le + 1;
      }
    }
    out.writeByte(0x0a);
  }

  private flushChoice(out: ByteSink, choice: i32): void {
    const c = choice.toString();
    const order = this.visitor.order;
    for (let i = 0; i < order.length; i++) {
      const key = order[i];
      if (key.startsWith("t") ? key.startsWith("t" + c + ".") : key.substring(1) == c) this.flushKey(out, key);
    }
  }

  private flushAll(out: ByteSink): void {
    const order = this.visitor.order;
    for (let i = 0; i < order.length; i++) this.flushKey(out, order[i]);
  }

  /** Releases what `key`'s redactor holds, in an event of the stream's own format. */
  private flushKey(out: ByteSink, key: string): void {
    const streams = this.visitor.streams;
    if (!streams.has(key)) return;
    const rest = streams.get(key).finish();
    if (rest.length == 0) return;
    const t = this.text;
    t.reset();
    const kind = key.charCodeAt(0);
    if (kind == 0x78) { // x<output>.<content>:<type>, Responses API
      const dot = key.indexOf(".");
      const colon = key.indexOf(":");
      const type = key.substring(colon + 1);
      const content = key.substring(dot + 1, colon);
      t.writeAscii("{\"type\":");
      writeJsonString(t, type);
      t.writeAscii(",\"item_id\":");
      writeJsonString(t, this.visitor.itemOf.has(key) ? this.visitor.itemOf.get(key) : "");
      t.writeAscii(",\"output_index\":" + key.substring(1, dot) + (content == "-1" ? "" : ",\"content_index\":" + content) + ",\"delta\":");
      writeJsonString(t, rest);
      t.writeAscii("}");
      out.writeAscii("event: ");
      out.writeAscii(type);
      out.writeAscii("\ndata: ");
    } else if (this.visitor.api == ApiFormat.OpenAI) {
      const v = this.visitor;
      t.writeAscii("{\"id\":");
      writeJsonString(t, v.id);
      t.writeAscii(",\"object\":\"chat.completion.chunk\",\"created\":" + v.created + ",\"model\":");
      writeJsonString(t, v.model);
      if (kind != 0x74) { // c|f|r|g<choice>: content, refusal, reasoning_content, reasoning
        const field = kind == 0x63 ? "content" : kind == 0x66 ? "refusal" : kind == 0x72 ? "reasoning_content" : "reasoning";
        t.writeAscii(",\"choices\":[{\"index\":" + key.substring(1) + ",\"delta\":{\"" + field + "\":");
        writeJsonString(t, rest);
        t.writeAscii("},\"finish_reason\":null}]}");
      } else { // t<choice>.<tool>
        const dot = key.indexOf(".");
        t.writeAscii(",\"choices\":[{\"index\":" + key.substring(1, dot) + ",\"delta\":{\"tool_calls\":[{\"index\":" +
          key.substring(dot + 1) + ",\"function\":{\"arguments\":");
        writeJsonString(t, rest);
        t.writeAscii("}}]},\"finish_reason\":null}]}");
      }
      out.writeAscii("data: ");
    } else {
      const field = kind == 0x62 ? "text" : kind == 0x6a ? "partial_json" : "thinking";
      const deltaType = kind == 0x62 ? "text_delta" : kind == 0x6a ? "input_json_delta" : "thinking_delta";
      t.writeAscii("{\"type\":\"content_block_delta\",\"index\":" + key.substring(1) + ",\"delta\":{\"type\":\"" +
        deltaType + "\",\"" + field + "\":");
      writeJsonString(t, rest);
      t.writeAscii("}}");
      out.writeAscii("event: content_block_delta\ndata: ");
    }
    const tb = t.toBuffer();
    out.writeBytes(changetype<usize>(tb), tb.byteLength);
    out.writeAscii("\n\n");
  }
}
