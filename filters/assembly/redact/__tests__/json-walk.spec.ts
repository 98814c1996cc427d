import { ByteSink } from "../byte-sink";
import { decodeJsonString, writeJsonString } from "../json-text";
import { JsonVisitor, JsonWalker } from "../json-walk";
import { parseRedactConfig, settingsForPolicy } from "../config";
import { Action } from "../../detect/redactor";
import { EntityKind } from "../../detect/finding";

function bytes(s: string): ArrayBuffer { return String.UTF8.encode(s); }

function encoded(s: string): string {
  const sink = new ByteSink();
  writeJsonString(sink, s);
  return String.UTF8.decode(sink.toBuffer());
}

/** Records the path of every string and upper-cases the ones under "text". */
class Recorder extends JsonVisitor {
  seen: Array<string> = new Array<string>(0);
  visit(w: JsonWalker, value: string): string | null {
    let path = "";
    for (let d = 1; d <= w.depth; d++) path += w.isArray(d) ? "[" + w.index(d).toString() + "]" : "." + w.key(d);
    this.seen.push(path + "=" + value);
    return w.governingKey() == "text" ? value.toUpperCase() : null;
  }
}

describe("json-text", () => {
  it("decodes escapes, UTF-8 and surrogate pairs", () => {
    const b = bytes("\"a\\u0040b \\\"q\\\" \\n é 😀 \\ud83d\\ude00\"");
    expect(decodeJsonString(changetype<usize>(b), 0, b.byteLength)).toBe("a@b \"q\" \n é 😀 😀");
  });

  it("re-encodes with escapes where JSON needs them, lone surrogates as \\u escapes", () => {
    expect(encoded("a\"b\\c\n\u0001é😀")).toBe("\"a\\\"b\\\\c\\n\\u0001é😀\"");
    expect(encoded(String.fromCharCode(0xd800) + "x")).toBe("\"\\ud800x\"");
  });
});

describe("JsonWalker", () => {
  it("gives each string value its path and copies everything else byte for byte", () => {
    const doc = "{ \"a\" : [ {\"text\":\"hi\"}, \"x\" ], \"b\":{\"c\":1.5e3,\"text\":\"yo\"}, \"n\":null }";
    const b = bytes(doc);
    const w = new JsonWalker();
    const v = new Recorder();
    const sink = new ByteSink();
    w.walk(changetype<usize>(b), b.byteLength, v, sink);
    expect(v.seen.join(",")).toBe(".a[0].text=hi,.a[1]=x,.b.text=yo");
    expect(w.changed).toBe(true);
    expect(String.UTF8.decode(sink.toBuffer())).toBe(doc.replace("\"hi\"", "\"HI\"").replace("\"yo\"", "\"YO\""));
  });

  it("leaves the sink empty when nothing changed", () => {
    const b = bytes("{\"k\":[\"v\"]}");
    const w = new JsonWalker();
    const sink = new ByteSink();
    w.walk(changetype<usize>(b), b.byteLength, new Recorder(), sink);
    expect(w.changed).toBe(false);
    expect(sink.len).toBe(0);
  });
});

describe("redact config", () => {
  it("reads settings and rejects bad ones", () => {
    const ok = parseRedactConfig("{\"routes\":[{\"prefix\":\"/o\",\"provider\":\"o\",\"api\":\"openai\"}],\"settings\":{\"entities\":{\"email\":\"block\"},\"responses\":false}}");
    expect(ok.error).toBe("");
    const cfg = ok.config!;
    expect(cfg.defaults.policy.get(EntityKind.Email)).toBe(Action.Block);
    expect(cfg.defaults.responsePolicy.get(EntityKind.Email)).toBe(Action.Mask);
    expect(cfg.defaults.policy.get(EntityKind.OpenAiKey)).toBe(Action.Block);
    expect(cfg.defaults.responses).toBe(false);
    expect(parseRedactConfig("{\"routes\":[]}").config).toBeNull();
    expect(parseRedactConfig("{\"routes\":[{\"prefix\":\"/o\",\"provider\":\"o\",\"api\":\"openai\"}],\"settings\":{\"entities\":{\"x\":\"mask\"}}}").config).toBeNull();
  });

  it("merges a tenant policy over the defaults without changing them", () => {
    const cfg = parseRedactConfig("{\"routes\":[{\"prefix\":\"/o\",\"provider\":\"o\",\"api\":\"openai\"}]}").config!;
    const s = settingsForPolicy(cfg.defaults, "{\"redact\":{\"entities\":{\"phone\":\"allow\"}},\"injection\":{}}")!;
    expect(s.policy.get(EntityKind.Phone)).toBe(Action.Allow);
    expect(cfg.defaults.policy.get(EntityKind.Phone)).toBe(Action.Mask);
    expect(settingsForPolicy(cfg.defaults, "{\"redact\":{\"entities\":{\"phone\":\"x\"}}}")).toBeNull();
    expect(settingsForPolicy(cfg.defaults, "not json")).toBeNull();
  });
});
