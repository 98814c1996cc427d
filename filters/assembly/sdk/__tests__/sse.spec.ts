import { SseParser, SseEvent } from "../sse";

function feed(p: SseParser, text: string): Array<SseEvent> {
  const b = String.UTF8.encode(text);
  return p.feed(changetype<usize>(b), b.byteLength);
}

describe("SseParser", () => {
  it("parses events with names, multi-line data and comments", () => {
    const p = new SseParser();
    const ev = feed(p, ": ping\nevent: message_start\ndata: {\"a\":1}\n\ndata: x\ndata: y\n\n");
    expect(ev.length).toBe(2);
    expect(ev[0].event).toBe("message_start");
    expect(ev[0].data).toBe("{\"a\":1}");
    expect(ev[1].event).toBe("");
    expect(ev[1].data).toBe("x\ny");
  });

  it("reassembles events split at every byte offset, CRLF included", () => {
    const text = "event: e1\r\ndata: caf\u00e9 \u{1F600}\r\n\r\ndata: [DONE]\n\n";
    const whole = String.UTF8.encode(text);
    for (let cut = 0; cut <= whole.byteLength; cut++) {
      const p = new SseParser();
      const a = p.feed(changetype<usize>(whole), cut);
      const b = p.feed(changetype<usize>(whole) + <usize>cut, whole.byteLength - cut);
      const all = a.concat(b);
      expect(all.length).toBe(2);
      expect(all[0].event).toBe("e1");
      expect(all[0].data).toBe("caf\u00e9 \u{1F600}");
      expect(all[1].data).toBe("[DONE]");
    }
  });

  it("drops an over-long line instead of buffering it", () => {
    const p = new SseParser(16);
    const ev = feed(p, "data: " + "x".repeat(100) + "\n\ndata: ok\n\n");
    expect(p.overflows).toBe(1);
    expect(ev.length).toBe(1);
    expect(ev[0].data).toBe("ok");
  });
});
