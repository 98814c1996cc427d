import { formatResetDuration, rateLimitHeaders, formatRfc3339, anthropicRateLimitHeaders } from "../rate-limit-headers";
import { estimatePromptTokens, requestFacts } from "../estimate";
import { NoLimitsCache } from "../no-limits-cache";
import { parseQuotaConfig } from "../config";
import { RateLimits, ReserveRequest, encodeReserveRequest, decodeReserveResponse, Decision } from "../reserve-pb";
import { ProtoWriter } from "../../sdk/pb";

function facts(json: string): string {
  const b = String.UTF8.encode(json);
  const f = requestFacts(changetype<usize>(b), b.byteLength);
  return f.model + "|" + f.maxOutputTokens.toString();
}

describe("formatResetDuration", () => {
  it("writes OpenAI's (Go's) duration format", () => {
    expect(formatResetDuration(0)).toBe("0s");
    expect(formatResetDuration(250)).toBe("250ms");
    expect(formatResetDuration(1000)).toBe("1s");
    expect(formatResetDuration(1500)).toBe("1.5s");
    expect(formatResetDuration(1050)).toBe("1.05s");
    expect(formatResetDuration(59999)).toBe("59.999s");
    expect(formatResetDuration(360000)).toBe("6m0s");
    expect(formatResetDuration(3723000)).toBe("1h2m3s");
    expect(formatResetDuration(86400000)).toBe("24h0m0s");
  });
});

describe("rateLimitHeaders", () => {
  it("writes three headers per kind of limit the answer has", () => {
    const l = new RateLimits();
    expect(rateLimitHeaders(l).length).toBe(0);
    l.hasRequestLimit = true; l.limitRequests = 60; l.remainingRequests = 59; l.resetRequestsMs = 1000;
    const h = rateLimitHeaders(l);
    expect(h.join(",")).toBe("x-ratelimit-limit-requests,60,x-ratelimit-remaining-requests,59,x-ratelimit-reset-requests,1s");
    l.hasTokenLimit = true; l.limitTokens = 1000; l.remainingTokens = 0; l.resetTokensMs = 30500;
    expect(rateLimitHeaders(l).slice(6).join(",")).toBe("x-ratelimit-limit-tokens,1000,x-ratelimit-remaining-tokens,0,x-ratelimit-reset-tokens,30.5s");
  });
});

describe("formatRfc3339", () => {
  it("writes UTC instants to the second, across leap days and year ends", () => {
    expect(formatRfc3339(0)).toBe("1970-01-01T00:00:00Z");
    expect(formatRfc3339(951782400000)).toBe("2000-02-29T00:00:00Z");
    expect(formatRfc3339(1700000000999)).toBe("2023-11-14T22:13:20Z");
    expect(formatRfc3339(1735689599000)).toBe("2024-12-31T23:59:59Z");
    expect(formatRfc3339(1735689600000)).toBe("2025-01-01T00:00:00Z");
    expect(formatRfc3339(4107542400000)).toBe("2100-03-01T00:00:00Z");
  });
});

describe("anthropicRateLimitHeaders", () => {
  it("writes Anthropic's names, the reset rounded up to the second", () => {
    const l = new RateLimits();
    expect(anthropicRateLimitHeaders(l, 0).length).toBe(0);
    l.hasTokenLimit = true; l.limitTokens = 1000; l.remainingTokens = 7; l.resetTokensMs = 1;
    // now + 1 ms lands exactly on a second: that second.
    expect(anthropicRateLimitHeaders(l, 1735689598999).join(",")).toBe(
      "anthropic-ratelimit-tokens-limit,1000,anthropic-ratelimit-tokens-remaining,7,anthropic-ratelimit-tokens-reset,2024-12-31T23:59:59Z");
    // 1 ms past a second: the next one (never earlier than the real reset).
    expect(anthropicRateLimitHeaders(l, 1735689599000)[5]).toBe("2025-01-01T00:00:00Z");
  });
});

describe("estimate", () => {
  it("counts one prompt token per 4 body bytes, rounded up", () => {
    expect(estimatePromptTokens(0)).toBe(0);
    expect(estimatePromptTokens(1)).toBe(1);
    expect(estimatePromptTokens(4)).toBe(1);
    expect(estimatePromptTokens(401)).toBe(101);
  });
  it("reads the model and the first valid output cap in one pass", () => {
    expect(facts("{\"model\":\"gpt-4o\",\"messages\":[{\"max_tokens\":5}],\"max_tokens\":300}")).toBe("gpt-4o|300");
    expect(facts("{\"max_completion_tokens\":42,\"model\":\"o3\"}")).toBe("o3|42");
    expect(facts("{\"model\":\"gpt-5\",\"max_output_tokens\":7}")).toBe("gpt-5|7");
    expect(facts("{\"model\":\"claude\",\"max_tokens\": 1024 }")).toBe("claude|1024");
  });
  it("ignores caps that are not non-negative integers, and missing fields", () => {
    expect(facts("{\"model\":\"m\",\"max_tokens\":-5}")).toBe("m|0");
    expect(facts("{\"model\":\"m\",\"max_tokens\":1.5}")).toBe("m|0");
    expect(facts("{\"model\":\"m\",\"max_tokens\":1e3}")).toBe("m|0");
    expect(facts("{\"model\":\"m\",\"max_tokens\":\"100\"}")).toBe("m|0");
    expect(facts("{\"model\":\"m\",\"max_tokens\":null,\"max_completion_tokens\":9}")).toBe("m|9");
    expect(facts("{\"max_tokens\":99999999999999999999}")).toBe("|0");
    expect(facts("{}")).toBe("|0");
    expect(facts("[1,2]")).toBe("|0");
  });
});

describe("NoLimitsCache", () => {
  it("remembers a tenant and key until the sidecar's TTL ends", () => {
    const c = new NoLimitsCache(10);
    const k = NoLimitsCache.keyOf("t1", "k1");
    c.put(k, 500, 1000);
    expect(c.has(k, 1499)).toBe(true);
    expect(c.has(k, 1500)).toBe(false);
    expect(c.size).toBe(0);
  });
  it("stores nothing for a TTL of 0 or a cache of size 0, and forgets on demand", () => {
    const c = new NoLimitsCache(10);
    c.put("a", 0, 0);
    expect(c.has("a", 0)).toBe(false);
    const off = new NoLimitsCache(0);
    off.put("a", 100, 0);
    expect(off.has("a", 0)).toBe(false);
    c.put("b", 100, 0);
    c.forget("b");
    expect(c.has("b", 1)).toBe(false);
  });
  it("starts over when full", () => {
    const c = new NoLimitsCache(2);
    c.put("a", 100, 0);
    c.put("b", 100, 0);
    c.put("c", 100, 0);
    expect(c.size).toBe(1);
    expect(c.has("c", 1)).toBe(true);
  });
});

describe("parseQuotaConfig", () => {
  const routes = ",\"routes\":[{\"prefix\":\"/openai\",\"provider\":\"openai\",\"api\":\"openai\"}]}";
  it("reads every field", () => {
    const r = parseQuotaConfig("{\"module\":\"quota\",\"failure_mode\":\"open\",\"timeout_ms\":100,\"sidecar_cluster\":\"sc\",\"max_body_bytes\":2048,\"no_limits_max_entries\":5" + routes);
    expect(r.error).toBe("");
    const c = r.config!;
    expect(c.failOpen).toBe(true);
    expect(c.timeoutMs).toBe(100);
    expect(c.sidecarCluster).toBe("sc");
    expect(c.maxBodyBytes).toBe(2048);
    expect(c.noLimitsMaxEntries).toBe(5);
    expect(c.routes.length).toBe(1);
  });
  it("names the bad field", () => {
    expect(parseQuotaConfig("").error).toBe("configuration is empty");
    expect(parseQuotaConfig("{\"failure_mode\":\"maybe\"" + routes).error).toBe("failure_mode must be \"closed\" or \"open\"");
    expect(parseQuotaConfig("{\"timeout_ms\":0" + routes).error).toBe("timeout_ms must be a number from 1 to 60000");
    expect(parseQuotaConfig("{\"no_limits_max_entries\":-1" + routes).error).toBe("no_limits_max_entries must be a number from 0 to 1000000");
    expect(parseQuotaConfig("{\"timeout_ms\":5}").error).toBe("routes must be a non-empty array");
  });
});

describe("reserve-pb", () => {
  it("encodes the request with the proto's field numbers", () => {
    const r = new ReserveRequest();
    r.requestId = "r"; r.tenantId = "t"; r.keyId = "k"; r.provider = "p"; r.model = "m";
    r.estimatedPromptTokens = 300; r.maxOutputTokens = 5; r.reservationId = "z";
    const b = Uint8Array.wrap(encodeReserveRequest(r));
    // 0x0a "r", 0x12 "t", 0x1a "k", 0x22 "p", 0x2a "m", 0x30 varint 300, 0x38 5, 0x42 "z"
    const want: u8[] = [0x0a, 1, 0x72, 0x12, 1, 0x74, 0x1a, 1, 0x6b, 0x22, 1, 0x70, 0x2a, 1, 0x6d, 0x30, 0xac, 0x02, 0x38, 5, 0x42, 1, 0x7a];
    expect(b.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(b[i]).toBe(want[i]);
  });
  it("decodes every answer field, and refuses truncated bytes", () => {
    const w = new ProtoWriter();
    w.uint(1, 2); w.string(2, "quota.rpm_exceeded"); w.string(3, "slow down"); w.uint(4, 429); w.uint(5, 7);
    w.bool(6, true); w.uint(7, 10); w.uint(8, 0); w.uint(9, 6500);
    w.bool(10, true); w.uint(11, 1000); w.uint(12, 200); w.uint(13, 60000); w.bool(14, true); w.uint(15, 1000);
    const bytes = w.finish();
    const a = decodeReserveResponse(bytes)!;
    expect(a.decision).toBe(Decision.Deny);
    expect(a.code).toBe("quota.rpm_exceeded");
    expect(a.message).toBe("slow down");
    expect(a.httpStatus).toBe(429);
    expect(a.retryAfterS).toBe(7);
    expect(a.limits.hasRequestLimit).toBe(true);
    expect(a.limits.limitRequests).toBe(10);
    expect(a.limits.remainingRequests).toBe(0);
    expect(a.limits.resetRequestsMs).toBe(6500);
    expect(a.limits.hasTokenLimit).toBe(true);
    expect(a.limits.limitTokens).toBe(1000);
    expect(a.limits.remainingTokens).toBe(200);
    expect(a.limits.resetTokensMs).toBe(60000);
    expect(a.unmetered).toBe(true);
    expect(a.noLimitsTtlMs).toBe(1000);
    expect(decodeReserveResponse(bytes.slice(0, bytes.byteLength - 1))).toBeNull();
  });
  it("treats an unknown decision as unspecified", () => {
    const w = new ProtoWriter();
    w.uint(1, 9);
    expect(decodeReserveResponse(w.finish())!.decision).toBe(Decision.Unspecified);
  });
});
