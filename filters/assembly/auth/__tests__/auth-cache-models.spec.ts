import { DecisionCache } from "../decision-cache";
import { modelAllowed } from "../models";
import { AuthorizeResponse, decodeAuthorizeResponse } from "../authorize-pb";
import { topLevelString } from "../../sdk/json-field";
import { ProtoWriter } from "../../sdk/pb";

function field(json: string, name: string): string | null {
  const b = String.UTF8.encode(json);
  return topLevelString(changetype<usize>(b), b.byteLength, name);
}

/** What the auth filter does on a hit: find the live entry, then claim its one background refresh. */
function dueForRefresh(c: DecisionCache, key: string, nowMs: u64): bool {
  const e = c.find(key, nowMs);
  return e != null && e.claimRefresh(nowMs);
}

function answer(tenant: string): AuthorizeResponse {
  const a = new AuthorizeResponse();
  a.tenantId = tenant;
  return a;
}

describe("DecisionCache", () => {
  it("returns an answer until its TTL ends", () => {
    const c = new DecisionCache(10);
    const k = DecisionCache.keyOf("openai", "lsh_a");
    c.put(k, answer("t1"), 1000, 5000);
    expect(c.get(k, 5999)!.tenantId).toBe("t1");
    expect(c.get(k, 6000)).toBeNull();
  });
  it("is due for one background refresh once half its TTL has passed, while still live", () => {
    const c = new DecisionCache(10);
    const k = DecisionCache.keyOf("openai", "lsh_a");
    c.put(k, answer("t1"), 1000, 5000);
    expect(dueForRefresh(c, k, 5499)).toBe(false);
    expect(dueForRefresh(c, k, 5500)).toBe(true);
    expect(dueForRefresh(c, k, 5600)).toBe(false);
    expect(c.get(k, 5999)!.tenantId).toBe("t1");
    c.put(k, answer("t2"), 1000, 5700);
    expect(dueForRefresh(c, k, 6199)).toBe(false);
    expect(dueForRefresh(c, k, 6200)).toBe(true);
    expect(dueForRefresh(c, "absent", 6200)).toBe(false);
    const e = new DecisionCache(10);
    e.put(k, answer("t3"), 1000, 0);
    expect(dueForRefresh(e, k, 1000)).toBe(false);
  });
  it("keys by provider and exact key", () => {
    const c = new DecisionCache(10);
    c.put(DecisionCache.keyOf("openai", "lsh_a"), answer("t1"), 1000, 0);
    expect(c.get(DecisionCache.keyOf("anthropic", "lsh_a"), 1)).toBeNull();
    expect(c.get(DecisionCache.keyOf("openai", "lsh_a "), 1)).toBeNull();
    expect(c.get(DecisionCache.keyOf("openai", "lsh_A"), 1)).toBeNull();
  });
  it("does not cache with a zero TTL or zero capacity", () => {
    const c = new DecisionCache(10);
    c.put("k", answer("t"), 0, 0);
    expect(c.size).toBe(0);
    const none = new DecisionCache(0);
    none.put("k", answer("t"), 1000, 0);
    expect(none.size).toBe(0);
  });
  it("stays bounded under a flood of distinct keys", () => {
    const c = new DecisionCache(100);
    for (let i = 0; i < 1000; i++) c.put("k" + i.toString(), answer("t"), 1000, 0);
    expect(c.size).toBeLessThanOrEqual(100);
  });
});

describe("modelAllowed", () => {
  it("allows anything with no policy", () => {
    expect(modelAllowed([], "gpt-4o")).toBe(true);
  });
  it("matches exact names and * prefixes", () => {
    const p: Array<string> = ["gpt-4o*", "claude-3-5-haiku-latest"];
    expect(modelAllowed(p, "gpt-4o-mini")).toBe(true);
    expect(modelAllowed(p, "gpt-4o")).toBe(true);
    expect(modelAllowed(p, "claude-3-5-haiku-latest")).toBe(true);
    expect(modelAllowed(p, "claude-3-5-haiku")).toBe(false);
    expect(modelAllowed(p, "gpt-4")).toBe(false);
    expect(modelAllowed(p, "")).toBe(false);
  });
});

describe("topLevelString", () => {
  it("reads a top-level member, ignoring nested ones of the same name", () => {
    expect(field("{\"messages\":[{\"model\":\"inner\"}],\"model\":\"gpt-4o\"}", "model")).toBe("gpt-4o");
    expect(field("{ \"a\" : {\"model\": \"x\"} , \"model\" : \"m2\" }", "model")).toBe("m2");
  });
  it("decodes escapes and skips strings containing quotes and braces", () => {
    expect(field("{\"s\":\"a \\\"}{ model\",\"model\":\"gpt\\u002d4\"}", "model")).toBe("gpt-4");
  });
  it("answers null when absent or not a string", () => {
    expect(field("{\"a\":1}", "model")).toBeNull();
    expect(field("{\"model\":42}", "model")).toBeNull();
    expect(field("{\"model\":null}", "model")).toBeNull();
  });
});

describe("AuthorizeResponse cache fields", () => {
  it("decodes cache_ttl_ms and repeated allowed_models", () => {
    const w = new ProtoWriter();
    w.uint(1, 1);
    w.uint(9, 750);
    w.string(10, "gpt-4o*");
    w.string(10, "o3");
    const a = decodeAuthorizeResponse(w.finish())!;
    expect(a.cacheTtlMs).toBe(750);
    expect(a.allowedModels.length).toBe(2);
    expect(a.allowedModels[1]).toBe("o3");
  });
});
