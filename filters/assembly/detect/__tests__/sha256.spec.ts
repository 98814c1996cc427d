import { sha256, hmacSha256, toHex, utf8 } from "../sha256";

function repeatByte(b: u8, n: i32): StaticArray<u8> {
  const out = new StaticArray<u8>(n);
  for (let i = 0; i < n; i++) out[i] = b;
  return out;
}

describe("sha256 (FIPS 180-4 examples)", () => {
  it("hashes the empty string, \"abc\" and the two-block message", () => {
    expect(toHex(sha256(utf8("")), 32)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(sha256(utf8("abc")), 32)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(sha256(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")), 32))
      .toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });
  it("hashes one million \"a\" (many blocks, length over 2^20 bits)", () => {
    expect(toHex(sha256(repeatByte(0x61, 1000000)), 32)).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });
  it("pads correctly at the 55/56/64-byte edges", () => {
    // Values from an independent implementation (Node crypto).
    expect(toHex(sha256(repeatByte(0x61, 55)), 32)).toBe("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    expect(toHex(sha256(repeatByte(0x61, 56)), 32)).toBe("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    expect(toHex(sha256(repeatByte(0x61, 64)), 32)).toBe("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  });
});

describe("hmacSha256 (RFC 4231)", () => {
  it("test case 1: 20-byte key", () => {
    expect(toHex(hmacSha256(repeatByte(0x0b, 20), utf8("Hi There")), 32))
      .toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  });
  it("test case 2: short key", () => {
    expect(toHex(hmacSha256(utf8("Jefe"), utf8("what do ya want for nothing?")), 32))
      .toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });
  it("test case 6: key longer than a block is hashed first", () => {
    expect(toHex(hmacSha256(repeatByte(0xaa, 131), utf8("Test Using Larger Than Block-Size Key - Hash Key First")), 32))
      .toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  });
  it("toHex truncates to the requested bytes", () => {
    expect(toHex(hmacSha256(utf8("Jefe"), utf8("what do ya want for nothing?")), 6)).toBe("5bdcc146bf60");
  });
});
