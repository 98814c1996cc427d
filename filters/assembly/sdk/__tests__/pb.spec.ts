import { ProtoWriter, ProtoReader } from "../pb";

describe("protobuf codec", () => {
  it("round-trips varint and string fields and skips defaults", () => {
    const w = new ProtoWriter();
    w.uint(1, 2);
    w.string(2, "auth.invalid_key");
    w.uint(4, 401);
    w.string(9, "");
    w.uint(10, 0);
    const buf = w.finish();
    const r = new ProtoReader(buf);
    expect(r.next()).toBe(true);
    expect(r.field).toBe(1);
    expect(r.value).toBe(2);
    expect(r.next()).toBe(true);
    expect(r.field).toBe(2);
    expect(r.string()).toBe("auth.invalid_key");
    expect(r.next()).toBe(true);
    expect(r.field).toBe(4);
    expect(r.value).toBe(401);
    expect(r.next()).toBe(false);
    expect(r.ok).toBe(true);
  });

  it("flags truncated input", () => {
    const w = new ProtoWriter();
    w.string(1, "hello");
    const full = w.finish();
    const cut = full.slice(0, 4);
    const r = new ProtoReader(cut);
    expect(r.next()).toBe(false);
    expect(r.ok).toBe(false);
  });

  it("encodes multi-byte varints", () => {
    const w = new ProtoWriter();
    w.uint(1, 300);
    const b = Uint8Array.wrap(w.finish());
    expect(b.length).toBe(3);
    expect(b[0]).toBe(0x08);
    expect(b[1]).toBe(0xac);
    expect(b[2]).toBe(0x02);
  });
});
