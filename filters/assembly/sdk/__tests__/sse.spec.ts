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

  it("keeps a line of exactly maxLineBytes, drops one byte more, across chunks", () => {
    const p = new SseParser(16);
    // "data: " + 10 bytes = 16 bytes: kept, though it arrives one byte at a time.
    const line = String.UTF8.encode("data: 0123456789\n\ndata: 0123456789X\n\ndata: ok\n\n");
    let all = new Array<SseEvent>(0);
    for (let i = 0; i < line.byteLength; i++) all = all.concat(p.feed(changetype<usize>(line) + <usize>i, 1));
    expect(p.overflows).toBe(1);
    expect(all.length).toBe(2);
    expect(all[0].data).toBe("0123456789");
    expect(all[1].data).toBe("ok");
  });

  it("buffers a long line split over many chunks (past the first buffer)", () => {
    const p = new SseParser();
    const payload = "y".repeat(5000);
    const whole = String.UTF8.encode("data: " + payload + "\n\n");
    let all = new Array<SseEvent>(0);
    for (let i = 0; i < whole.byteLength; i += 333) {
      const n = whole.byteLength - i < 333 ? whole.byteLength - i : 333;
      all = all.concat(p.feed(changetype<usize>(whole) + <usize>i, n));
    }
    expect(all.length).toBe(1);
    expect(all[0].data).toBe(payload);
  });
});
