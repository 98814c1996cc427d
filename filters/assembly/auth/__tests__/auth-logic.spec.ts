import { pickKey, bearerToken } from "../keys";
import { matchRoute, Route } from "../../sdk/routes";
import { parseAuthConfig } from "../config";
import { decodeAuthorizeResponse, Decision } from "../authorize-pb";
import { ProtoWriter } from "../../sdk/pb";
import { ApiFormat } from "../../sdk/api-error";

describe("key extraction", () => {
  it("reads bearer tokens case-insensitively", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer  abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBe("");
    expect(bearerToken("Bearer")).toBe("");
  });
  it("takes the first header that carries a key", () => {
    expect(pickKey([null, "k2", "k3", null])).toBe("k2");
    expect(pickKey(["Bearer k1", "k2", null, null])).toBe("k1");
    expect(pickKey(["Basic zz", null, null, "g"])).toBe("g");
    expect(pickKey([null, "  ", null, null])).toBe("");
  });
});

// Module-level: AssemblyScript test callbacks cannot capture locals (no closures).
const routes: Array<Route> = [new Route("/openai", "openai", ApiFormat.OpenAI), new Route("/anthropic", "anthropic", ApiFormat.Anthropic)];

describe("route matching", () => {
  it("matches whole path segments only", () => {
    expect(matchRoute(routes, "/openai/v1/chat/completions")!.provider).toBe("openai");
    expect(matchRoute(routes, "/anthropic/v1/messages")!.api).toBe(ApiFormat.Anthropic);
    expect(matchRoute(routes, "/openai?x=1")!.provider).toBe("openai");
    expect(matchRoute(routes, "/openaiX/v1")).toBeNull();
    expect(matchRoute(routes, "/health")).toBeNull();
  });
});

describe("plugin configuration", () => {
  it("parses the generator's JSON", () => {
    const r = parseAuthConfig("{\"module\":\"auth\",\"failure_mode\":\"open\",\"timeout_ms\":100,\"sidecar_cluster\":\"sc\",\"routes\":[{\"prefix\":\"/mock\",\"provider\":\"mock\",\"api\":\"anthropic\"}]}");
    expect(r.error).toBe("");
    const c = r.config!;
    expect(c.failOpen).toBe(true);
    expect(c.timeoutMs).toBe(100);
    expect(c.sidecarCluster).toBe("sc");
    expect(c.routes[0].api).toBe(ApiFormat.Anthropic);
  });
  it("rejects an empty configuration with a message", () => {
    expect(parseAuthConfig("").config).toBeNull();
    expect(parseAuthConfig("").error).toBe("configuration is empty");
  });
  it("names the bad key", () => {
    expect(parseAuthConfig("{\"failure_mode\":\"maybe\",\"routes\":[]}").error).toBe("failure_mode must be \"closed\" or \"open\"");
    expect(parseAuthConfig("{\"routes\":[{\"prefix\":\"x\",\"provider\":\"p\",\"api\":\"openai\"}]}").error).toBe("routes[0].prefix must be a string starting with /");
    expect(parseAuthConfig("{\"timeout_ms\":0,\"routes\":[]}").error).toBe("timeout_ms must be a number from 1 to 60000");
  });
});

describe("AuthorizeResponse decoding", () => {
  it("decodes every field", () => {
    const w = new ProtoWriter();
    w.uint(1, 1);
    w.string(5, "tenant-a");
    w.string(6, "key1");
    w.string(7, "authorization");
    w.string(8, "Bearer sk-x");
    w.string(99, "unknown field is skipped");
    const a = decodeAuthorizeResponse(w.finish())!;
    expect(a.decision).toBe(Decision.Allow);
    expect(a.tenantId).toBe("tenant-a");
    expect(a.upstreamAuthValue).toBe("Bearer sk-x");
  });
  it("returns null on garbage", () => {
    const junk = new ArrayBuffer(3);
    store<u8>(changetype<usize>(junk), 0x0a);
    store<u8>(changetype<usize>(junk) + 1, 0x7f);
    expect(decodeAuthorizeResponse(junk)).toBeNull();
  });
});
