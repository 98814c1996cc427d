import { takesStreamOptions, withIncludeUsage } from "../stream-options";
import { UsageChunkStripper } from "../usage-chunk";

function inject(json: string): string {
  const b = String.UTF8.encode(json);
  const out = withIncludeUsage(changetype<usize>(b), b.byteLength);
  return out == null ? "(unchanged)" : String.UTF8.decode(out);
}

function strip(s: UsageChunkStripper, text: string, eos: bool): string {
  const b = String.UTF8.encode(text);
  return String.UTF8.decode(s.next(changetype<usize>(b), b.byteLength, eos));
}

describe("takesStreamOptions", () => {
  it("matches the completion endpoints, query string ignored", () => {
    expect(takesStreamOptions("/openai/v1/chat/completions")).toBe(true);
    expect(takesStreamOptions("/openai/v1/completions?x=1")).toBe(true);
    expect(takesStreamOptions("/openai/v1/embeddings")).toBe(false);
    expect(takesStreamOptions("/openai/v1/responses")).toBe(false);
  });
});

describe("withIncludeUsage", () => {
  it("adds stream_options to a stream that has none", () => {
    expect(inject("{\"model\":\"m\",\"stream\":true}")).toBe("{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    expect(inject("{\"stream\": true }\n")).toBe("{\"stream\": true ,\"stream_options\":{\"include_usage\":true}}\n");
  });
  it("adds include_usage to stream_options, empty or not", () => {
    expect(inject("{\"stream\":true,\"stream_options\":{}}")).toBe("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    expect(inject("{\"stream\":true,\"stream_options\":{ \"x\":1}}")).toBe("{\"stream\":true,\"stream_options\":{\"include_usage\":true, \"x\":1}}");
  });
  it("turns include_usage false (or a null stream_options) into true", () => {
    expect(inject("{\"stream\":true,\"stream_options\":{\"include_usage\":false}}")).toBe("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    expect(inject("{\"stream\":true,\"stream_options\":null,\"n\":1}")).toBe("{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":1}");
  });
  it("leaves alone what needs nothing", () => {
    expect(inject("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}")).toBe("(unchanged)");
    expect(inject("{\"stream\":false}")).toBe("(unchanged)");
    expect(inject("{\"model\":\"m\"}")).toBe("(unchanged)");
    expect(inject("{\"messages\":[{\"stream\":true}]}")).toBe("(unchanged)");
  });
  it("reads include_usage of stream_options only, not of a later object", () => {
    expect(inject("{\"stream\":true,\"stream_options\":{},\"metadata\":{\"include_usage\":true}}"))
      .toBe("{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"metadata\":{\"include_usage\":true}}");
  });
});

describe("UsageChunkStripper", () => {
  const chunk = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n";
  const usage = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n";
  const done = "data: [DONE]\n\n";
  it("drops the usage-only chunk and keeps the rest byte for byte", () => {
    const s = new UsageChunkStripper();
    expect(strip(s, chunk + usage + done, true)).toBe(chunk + done);
  });
  it("holds a split event until it is complete, wherever the split falls", () => {
    const all = chunk + usage + done;
    for (let cut = 1; cut < all.length; cut += 7) {
      const s = new UsageChunkStripper();
      const out = strip(s, all.substring(0, cut), false) + strip(s, all.substring(cut), true);
      expect(out).toBe(chunk + done);
    }
  });
  it("keeps chunks with choices, and CRLF events", () => {
    const s = new UsageChunkStripper();
    const crlf = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\r\n\r\n";
    expect(strip(s, chunk, false)).toBe(chunk);
    expect(strip(s, crlf + done, true)).toBe(done);
  });
  it("sends whatever waits at the end of the stream", () => {
    const s = new UsageChunkStripper();
    expect(strip(s, "data: {\"choices\":[{}]}", false)).toBe("");
    expect(strip(s, "", true)).toBe("data: {\"choices\":[{}]}");
  });
  it("says when what it passes on is the chunk itself (no body replace needed)", () => {
    const s = new UsageChunkStripper();
    expect(strip(s, chunk + chunk, false)).toBe(chunk + chunk);
    expect(s.unchanged).toBe(true);
    expect(strip(s, chunk + "data: {", false)).toBe(chunk);
    expect(s.unchanged).toBe(false);
    // The held bytes go out with the next chunk: not the chunk as given.
    expect(strip(s, "\"choices\":[{}]}\n\n", false)).toBe("data: {\"choices\":[{}]}\n\n");
    expect(s.unchanged).toBe(false);
    expect(strip(s, usage, false)).toBe("");
    expect(s.unchanged).toBe(false);
    expect(strip(s, done, true)).toBe(done);
    expect(s.unchanged).toBe(true);
  });
});
