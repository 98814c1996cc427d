import { parseJson, jsonString, JsonKind } from "../json";
import { topLevelValues, stringAt } from "../json-field";

describe("parseJson", () => {
  it("parses objects, arrays, strings with escapes, numbers and literals", () => {
    const r = parseJson("{\"a\":[1,2.5,-3e2],\"b\":\"x\\\"y\\u0041\",\"c\":true,\"d\":null}");
    expect(r.error).toBe("");
    const v = r.value!;
    expect(v.kind).toBe(JsonKind.Object);
    const a = v.get("a")!;
    expect(a.items.length).toBe(3);
    expect(a.items[1].n).toBe(2.5);
    expect(a.items[2].n).toBe(-300.0);
    expect(v.get("b")!.s).toBe("x\"yA");
    expect(v.get("c")!.b).toBe(true);
    expect(v.get("d")!.kind).toBe(JsonKind.Null);
    expect(v.get("missing")).toBeNull();
  });

  it("reports errors instead of throwing", () => {
    expect(parseJson("{\"a\":").value).toBeNull();
    expect(parseJson("{\"a\":1} trailing").value).toBeNull();
    expect(parseJson("{\"a\" 1}").error.length).toBeGreaterThan(0);
  });
});

describe("jsonString", () => {
  it("escapes quotes, backslashes and control characters", () => {
    expect(jsonString("a\"b\\c\nd\u0001")).toBe("\"a\\\"b\\\\c\\nd\\u0001\"");
  });
});

describe("JsonValue.get with a repeated key", () => {
  it("resolves to the last occurrence, as json-field.ts's topLevelValues does", () => {
    const text = "{\"model\":\"allowed\",\"x\":1,\"model\":\"forbidden\"}";
    const v = parseJson(text).value!;
    expect(v.get("model")!.s).toBe("forbidden");
    const b = String.UTF8.encode(text);
    const at = topLevelValues(changetype<usize>(b), b.byteLength, ["model"]);
    expect(stringAt(changetype<usize>(b), b.byteLength, at[0])!).toBe(v.get("model")!.s);
  });
  it("still finds a key named once, and null for an absent one", () => {
    const v = parseJson("{\"a\":1,\"b\":2}").value!;
    expect(v.get("a")!.n).toBe(1);
    expect(v.get("c")).toBeNull();
  });
});

function offsets(text: string, names: Array<string>): Int32Array {
  const b = String.UTF8.encode(text);
  return topLevelValues(changetype<usize>(b), b.byteLength, names);
}

describe("topLevelValues key matching", () => {
  it("matches whole names only, byte for byte", () => {
    const at = offsets("{\"model_x\":1,\"mode\":2,\"model\":3}", ["model", "mode", "absent"]);
    expect(at[0]).toBe(30);
    expect(at[1]).toBe(20);
    expect(at[2]).toBe(-1);
  });
  it("resolves an escaped key to the name it spells, last occurrence winning", () => {
    const at = offsets("{\"model\":\"a\",\"mod\\u0065l\":\"b\"}", ["model"]);
    expect(at[0]).toBe(26);
    const back = offsets("{\"mod\\u0065l\":\"b\",\"model\":\"a\"}", ["model"]);
    expect(back[0]).toBe(26);
  });
  it("matches a name that is not ASCII", () => {
    const at = offsets("{\"caf\u00e9\":1,\"x\":2}", ["x", "caf\u00e9"]);
    expect(at[1]).toBe(9);
    expect(at[0]).toBe(15);
  });
});
