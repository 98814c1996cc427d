// The redact module as shipped (build/release/redact.wasm) in the fake host: entities in every
// place a prompt can hide are replaced before the body goes upstream (the rest of the JSON byte for
// byte unchanged), blocked entities refuse the request in the route's API format, a tenant policy in
// filter state leash.policy overrides the plugin defaults, bad bodies are refused, and responses —
// JSON and SSE split anywhere — reach the client redacted and well-formed.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { FakeHost, type HttpStream } from "../host/index.ts";

const WASM = fileURLToPath(new URL("../../build/release/redact.wasm", import.meta.url));
const ROUTES = [{ prefix: "/openai", provider: "openai", api: "openai" }, { prefix: "/anthropic", provider: "anthropic", api: "anthropic" }];
const EMAIL = "jane.doe@example.com";
const CARD = "4111 1111 1111 1111";

async function load(settings: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<FakeHost> {
  const host = await FakeHost.load(WASM, {
    rootId: "redact",
    pluginConfig: JSON.stringify({ module: "redact", failure_mode: "closed", timeout_ms: 0, sidecar_cluster: "leash_sidecar", max_body_bytes: 1 << 20, routes: ROUTES, settings, ...extra }),
  });
  assert.ok(host.startOk, host.logs.map((l) => l.message).join("\n"));
  return host;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function post(host: FakeHost, path: string, body: string | Uint8Array, opts: { policy?: string; chunks?: number } = {}): HttpStream {
  const s = host.newHttpStream();
  if (opts.policy !== undefined) s.filterState.set("leash.policy", enc(opts.policy));
  const bytes = typeof body === "string" ? enc(body) : body;
  s.requestHeaders([[":method", "POST"], [":path", path], ["content-type", "application/json"], ["content-length", String(bytes.length)], ["accept-encoding", "gzip"]], false);
  const n = opts.chunks ?? 1;
  const step = Math.ceil(bytes.length / n) || 1;
  for (let i = 0; i < bytes.length; i += step) s.requestBody(bytes.subarray(i, Math.min(bytes.length, i + step)), i + step >= bytes.length);
  if (bytes.length === 0) s.requestBody(new Uint8Array(0), true);
  return s;
}

function denial(s: HttpStream): { status: number; code: string; body: Record<string, any> } {
  assert.ok(s.localResponse, "expected a local response");
  const r = s.localResponse!;
  return { status: r.status, code: r.headers.find(([k]) => k === "x-leash-code")?.[1] ?? "", body: JSON.parse(r.body) };
}

describe("redact: request bodies", () => {
  it("rejects a plugin configuration with an unknown entity or action", async () => {
    for (const settings of [{ entities: { mail: "mask" } }, { entities: { email: "drop" } }, { stream_holdback_chars: 5 }]) {
      const host = await FakeHost.load(WASM, { rootId: "redact", pluginConfig: JSON.stringify({ routes: ROUTES, settings }) });
      assert.equal(host.startOk, false, JSON.stringify(settings));
    }
  });

  it("masks entities in every OpenAI prompt location and leaves every other byte as it was", async () => {
    const host = await load();
    const body = JSON.stringify({
      model: "gpt-4o", user: EMAIL,
      messages: [
        { role: "system", content: `Escalate to ${EMAIL}` },
        { role: "user", name: "jane", content: [{ type: "text", text: `mail ${EMAIL} now` }, { type: "image_url", image_url: { url: "https://x.test/a.png" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "send", arguments: JSON.stringify({ to: EMAIL }) } }] },
        { role: "tool", tool_call_id: "call_1", content: `sent to ${EMAIL}` },
      ],
      temperature: 0.2,
    });
    const s = post(host, "/openai/v1/chat/completions", body, { chunks: 3 });
    assert.equal(s.localResponse, null);
    const out = s.requestBodyText;
    assert.ok(!out.includes(EMAIL), out);
    assert.equal(out, body.replaceAll(EMAIL, "[EMAIL_1]"), "only the entities changed, one placeholder for one address");
    assert.equal(s.requestHeader("content-length"), undefined, "content-length removed: the body may change length");
    assert.equal(s.requestHeader("accept-encoding"), undefined, "responses must come back readable");
  });

  it("masks legacy prompt and input, as strings and arrays", async () => {
    const host = await load();
    for (const body of [
      { model: "m", prompt: `to ${EMAIL}` },
      { model: "m", prompt: ["a", `to ${EMAIL}`] },
      { model: "m", input: `to ${EMAIL}` },
      { model: "m", input: [`to ${EMAIL}`] },
      { model: "m", input: [{ role: "user", content: [{ type: "input_text", text: `to ${EMAIL}` }] }] },
    ]) {
      const s = post(host, "/openai/v1/completions", JSON.stringify(body));
      assert.equal(s.requestBodyText, JSON.stringify(body).replace(EMAIL, "[EMAIL_1]"));
    }
  });

  it("masks Anthropic system (string and blocks), text, tool_use input and tool_result content", async () => {
    const host = await load();
    const body = JSON.stringify({
      model: "claude", max_tokens: 10,
      system: [{ type: "text", text: `ops: ${EMAIL}` }],
      messages: [
        { role: "user", content: `I am ${EMAIL}` },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "lookup", input: { name: EMAIL, nested: { list: [`x ${EMAIL}`] } } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: `found ${EMAIL}` }] }, { type: "tool_result", tool_use_id: "toolu_1", content: `raw ${EMAIL}` }] },
      ],
    });
    const s = post(host, "/anthropic/v1/messages", body);
    assert.equal(s.requestBodyText, body.replaceAll(EMAIL, "[EMAIL_1]"));
    const system = JSON.stringify({ model: "claude", system: `ops: ${EMAIL}`, messages: [] });
    assert.equal(post(host, "/anthropic/v1/messages", system).requestBodyText, system.replace(EMAIL, "[EMAIL_1]"));
  });

  it("finds entities written with JSON escapes and re-escapes the rewritten string", async () => {
    const host = await load();
    const body = '{"model":"m","messages":[{"role":"user","content":"Mail jane.doe\\u0040example.com \\"quoted\\"\\n\\u00e9t\\u00e9 \\ud83d\\ude00"}]}';
    const s = post(host, "/openai/v1/chat/completions", body);
    const out = s.requestBodyText;
    assert.equal(JSON.parse(out).messages[0].content, 'Mail [EMAIL_1] "quoted"\nété 😀');
    assert.ok(!out.includes("example.com"));
  });

  it("numbers distinct entities and leaves checksum-failing numbers and ids alone", async () => {
    const host = await load();
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: `a@x.io, b@y.io, a@x.io; order 4111 1111 1111 1112; v1.2.3.4; id 550e8400-e29b-41d4-a716-446655440000` }] });
    const content: string = JSON.parse(post(host, "/openai/v1/chat/completions", body).requestBodyText).messages[0].content;
    assert.equal(content, "[EMAIL_1], [EMAIL_2], [EMAIL_1]; order 4111 1111 1111 1112; v1.2.3.4; id 550e8400-e29b-41d4-a716-446655440000");
  });

  it("hash (keyed by the tenant's hash_key; mask without a key) and allow actions", async () => {
    const host = await load({ entities: { email: "hash", phone: "allow" } });
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: `${EMAIL} or +1 415 555 0100` }] });
    const content = (policy?: string): string =>
      JSON.parse(post(host, "/openai/v1/chat/completions", body, { policy }).requestBodyText).messages[0].content;
    const keyA = '{"redact":{"hash_key":"' + "a".repeat(64) + '"}}';
    const keyB = '{"redact":{"hash_key":"' + "b".repeat(64) + '"}}';
    assert.match(content(keyA), /^\[EMAIL:[0-9a-f]{12}\] or \+1 415 555 0100$/);
    assert.equal(content(keyA), content(keyA), "one tenant: the same value hashes the same");
    assert.notEqual(content(keyA).slice(0, 20), content(keyB).slice(0, 20), "two tenants: different hashes");
    assert.equal(content(), "[EMAIL_1] or +1 415 555 0100", "no key: an unkeyed hash would be guessable, so mask");
    const bad = denial(post(host, "/openai/v1/chat/completions", body, { policy: '{"redact":{"hash_key":"short"}}' }));
    assert.equal(bad.code, "guard.policy_invalid");
  });

  it("blocks a card (policy block) with 400 guard.pii_blocked in the OpenAI format, nothing forwarded", async () => {
    const host = await load({ entities: { card: "block" } });
    const s = post(host, "/openai/v1/chat/completions", JSON.stringify({ model: "m", messages: [{ role: "user", content: `card ${CARD}` }] }));
    const d = denial(s);
    assert.equal(d.status, 400);
    assert.equal(d.code, "guard.pii_blocked");
    assert.equal(d.body.error.code, "guard.pii_blocked");
    assert.equal(d.body.error.type, "invalid_request_error");
    assert.match(d.body.error.message, /card/);
    assert.ok(!s.localResponse!.body.includes("4111"), "the value is never echoed");
    assert.notEqual(s.lastOutcome?.effective, 0, "the body was not continued upstream");
  });

  it("blocks secrets by default (guard.secret_blocked), wherever they sit; a secret set to mask is masked", async () => {
    const host = await load();
    const ghp = "ghp_" + "a1B2c3D4e5".repeat(3) + "F6g7h8";
    for (const body of [
      { model: "m", messages: [{ role: "user", content: `token ${ghp}` }] },
      { model: "m", messages: [{ role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: JSON.stringify({ t: ghp }) } }] }] },
      { model: "m", input: [{ role: "user", content: [{ type: "input_text", text: `postgres://app:S3cr3t-pw@db.internal:5432/prod` }] }] },
    ]) {
      const s = post(host, "/openai/v1/chat/completions", JSON.stringify(body));
      const d = denial(s);
      assert.deepEqual([d.status, d.code, d.body.error.code], [400, "guard.secret_blocked", "guard.secret_blocked"], JSON.stringify(body));
      assert.ok(!s.localResponse!.body.includes("a1B2c3") && !s.localResponse!.body.includes("S3cr3t"));
    }
    const masked = await load({ entities: { github_token: "mask" } });
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: `token ${ghp}` }] });
    assert.equal(post(masked, "/openai/v1/chat/completions", body).requestBodyText, body.replace(ghp, "[GITHUB_TOKEN_1]"));
  });

  it("blocks on an Anthropic route in the Anthropic error format", async () => {
    const host = await load({ entities: { ssn: "block" } });
    const s = post(host, "/anthropic/v1/messages", JSON.stringify({ model: "c", messages: [{ role: "user", content: "ssn 123-45-6789" }] }));
    const d = denial(s);
    assert.equal(d.status, 400);
    assert.equal(d.body.type, "error");
    assert.equal(d.body.error.type, "invalid_request_error");
    assert.equal(d.body.error.code, "guard.pii_blocked");
  });

  it("a tenant policy in leash.policy overrides the plugin defaults; an unreadable one refuses (503)", async () => {
    const host = await load();
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: `I am ${EMAIL}` }] });
    assert.equal(denial(post(host, "/openai/v1/chat/completions", body, { policy: '{"redact":{"entities":{"email":"block"}}}' })).code, "guard.pii_blocked");
    assert.equal(post(host, "/openai/v1/chat/completions", body, { policy: '{"injection":{"action":"flag"}}' }).requestBodyText, body.replace(EMAIL, "[EMAIL_1]"));
    assert.equal(post(host, "/openai/v1/chat/completions", body, { policy: '{"redact":{"entities":{"email":"allow"}}}' }).requestBodyText, body);
    assert.equal(post(host, "/openai/v1/chat/completions", body).requestBodyText, body.replace(EMAIL, "[EMAIL_1]"), "defaults again without a policy");
    const off = post(host, "/openai/v1/chat/completions", body, { policy: '{"redact":{"enabled":false}}' });
    assert.equal(off.requestBodyText, body, "a tenant that turned redaction off");
    assert.equal(off.requestHeader("content-length"), String(Buffer.byteLength(body)));
    const bad = denial(post(host, "/openai/v1/chat/completions", body, { policy: '{"redact":{"entities":{"email":"drop"}}}' }));
    assert.deepEqual([bad.status, bad.code], [503, "guard.policy_invalid"]);
  });
});

describe("redact: bad input", () => {
  const cases: Array<[string, string | Uint8Array]> = [
    ["not JSON", "hello " + EMAIL],
    ["truncated JSON", `{"model":"m","messages":[{"role":"user","content":"${EMAIL}`],
    ["deeply nested JSON", '{"a":' + "[".repeat(300) + "]".repeat(300) + "}"],
    ["invalid UTF-8", new Uint8Array([...enc('{"model":"m","prompt":"'), 0xff, 0xfe, ...enc(`${EMAIL}"}`)])],
    ["a top-level array", `["${EMAIL}"]`],
    ["an empty body", ""],
  ];
  for (const [name, body] of cases) {
    it(`${name} → 400 gateway.invalid_json, never forwarded`, async () => {
      const host = await load();
      for (const path of ["/openai/v1/chat/completions", "/anthropic/v1/messages"]) {
        const s = post(host, path, body);
        const d = denial(s);
        assert.deepEqual([d.status, d.code], [400, "gateway.invalid_json"]);
        if (path.startsWith("/anthropic")) assert.equal(d.body.type, "error"); else assert.equal(d.body.error.code, "gateway.invalid_json");
        assert.notEqual(s.lastOutcome?.effective, 0, "the body was not continued upstream");
      }
    });
  }

  it("a declared body over max_body_bytes → 413 at headers; a chunked one when it grows past it", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"], ["content-length", String(10 * 1024 * 1024)]], false);
    assert.deepEqual([denial(s).status, denial(s).code], [413, "gateway.body_too_large"]);
    const c = host.newHttpStream();
    c.requestHeaders([[":method", "POST"], [":path", "/anthropic/v1/messages"], ["transfer-encoding", "chunked"]], false);
    const chunk = enc(`{"prompt":"${"x".repeat(600 * 1024)}`);
    c.requestBody(chunk, false);
    c.requestBody(chunk, false);
    const d = denial(c);
    assert.deepEqual([d.status, d.code, d.body.error.type], [413, "gateway.body_too_large", "request_too_large"]);
    assert.notEqual(c.lastOutcome?.effective, 0);
  });

  it("a body followed by trailers is redacted (or refused) at the trailers, never forwarded unread", async () => {
    const host = await load();
    const s = host.newHttpStream();
    s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"]], false);
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: `mail ${EMAIL}` }] });
    s.requestBody(body.slice(0, 20), false);
    s.requestBody(body.slice(20), false);
    s.requestTrailers([["x-trailer", "1"]]);
    assert.equal(s.localResponse, null);
    assert.equal(s.requestBodyText, body.replace(EMAIL, "[EMAIL_1]"));
    const bad = host.newHttpStream();
    bad.requestHeaders([[":method", "POST"], [":path", "/openai/v1/chat/completions"]], false);
    bad.requestBody(`{"prompt":"${EMAIL}`, false);
    bad.requestTrailers([["x-trailer", "1"]]);
    assert.equal(denial(bad).code, "gateway.invalid_json");
  });

  it("a huge single string is scanned whole: the entity at its end is masked", async () => {
    const host = await load();
    const body = JSON.stringify({ model: "m", prompt: "lorem ipsum ".repeat(80_000) + EMAIL });
    const out = post(host, "/openai/v1/completions", body, { chunks: 17 }).requestBodyText;
    assert.equal(out, body.replace(EMAIL, "[EMAIL_1]"));
  });

  it("leaves requests on other paths and bodiless requests alone; a body on a GET is scanned too", async () => {
    const host = await load();
    const s = host.newHttpStream();
    assert.equal(s.requestHeaders([[":method", "GET"], [":path", "/openai/v1/models"]], true), 0);
    const g = host.newHttpStream();
    g.requestHeaders([[":method", "GET"], [":path", "/openai/v1/chat/completions"]], false);
    g.requestBody(JSON.stringify({ prompt: EMAIL }), true);
    assert.equal(g.requestBodyText, JSON.stringify({ prompt: "[EMAIL_1]" }));
    const o = host.newHttpStream();
    o.requestHeaders([[":method", "POST"], [":path", "/health"], ["content-length", "3"]], false);
    assert.equal(o.requestBody("abc", true), 0);
    assert.equal(o.requestHeader("content-length"), "3");
  });
});

function respond(s: HttpStream, type: string, chunks: Array<string | Uint8Array>): void {
  s.responseHeaders([[":status", "200"], ["content-type", type], ["content-length", "999"]], false);
  chunks.forEach((c, i) => s.responseBody(c, i === chunks.length - 1));
}

function chatRequest(host: FakeHost, path = "/openai/v1/chat/completions"): HttpStream {
  return post(host, path, JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }));
}

/** The SSE events of a body: [event name, data] pairs; asserts the framing. */
function sseEvents(text: string): Array<[string, string]> {
  assert.ok(text === "" || text.endsWith("\n\n"), `SSE body ends mid-event: ${JSON.stringify(text.slice(-40))}`);
  const out: Array<[string, string]> = [];
  for (const block of text.split("\n\n").filter((b) => b !== "")) {
    let name = "";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    out.push([name, data.join("\n")]);
  }
  return out;
}

function openaiText(text: string): string {
  let all = "";
  for (const [, data] of sseEvents(text)) {
    if (data === "[DONE]") continue;
    const chunk = JSON.parse(data);
    for (const c of chunk.choices) all += c.delta?.content ?? "";
  }
  return all;
}

function anthropicText(text: string): string {
  let all = "";
  for (const [name, data] of sseEvents(text)) {
    const ev = JSON.parse(data);
    assert.equal(ev.type, name, "event name and type agree");
    if (ev.type === "content_block_delta") all += ev.delta.text ?? "";
  }
  return all;
}

function openaiSse(pieces: string[]): string {
  const ev = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
  return ev({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }) +
    pieces.map((p) => ev({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })).join("") +
    ev({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) + "data: [DONE]\n\n";
}

function anthropicSse(pieces: string[]): string {
  const ev = (o: { type: string }): string => `event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`;
  return ev({ type: "message_start", message: { id: "msg_1", content: [] } } as { type: string }) +
    ev({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } as { type: string }) +
    pieces.map((p) => ev({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: p } } as { type: string })).join("") +
    ev({ type: "content_block_stop", index: 0 } as { type: string }) +
    ev({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 5 } } as { type: string }) +
    ev({ type: "message_stop" });
}

/** `bytes` cut at `at` (any byte offset, UTF-8 characters included). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const a of [...at, bytes.length]) { out.push(bytes.subarray(prev, a)); prev = a; }
  return out;
}

describe("redact: responses", () => {
  it("masks a non-streamed OpenAI and Anthropic JSON response; content-length removed", async () => {
    const host = await load();
    const s = chatRequest(host);
    const body = JSON.stringify({ id: "c", object: "chat.completion", model: "m", choices: [{ index: 0, message: { role: "assistant", content: `Write to ${EMAIL}`, tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: `{"to":"${EMAIL}"}` } }] }, finish_reason: "stop" }] });
    respond(s, "application/json", [body.slice(0, 30), body.slice(30)]);
    assert.equal(s.responseBodyText, body.replaceAll(EMAIL, "[EMAIL_1]"));
    assert.equal(s.responseHeader("content-length"), undefined);
    const a = chatRequest(host, "/anthropic/v1/messages");
    const ab = JSON.stringify({ id: "msg", type: "message", content: [{ type: "text", text: `card ${CARD}` }] });
    respond(a, "application/json", [ab]);
    assert.equal(a.responseBodyText, ab.replace(CARD, "[CARD_1]"), "block applies as mask in responses");
  });

  it("a non-JSON response body is redacted as text", async () => {
    const host = await load();
    const s = chatRequest(host);
    respond(s, "application/json", [`oops ${EMAIL} {`]);
    assert.equal(s.responseBodyText, "oops [EMAIL_1] {");
  });

  it("an SSE entity split across events and body chunks at every offset is never released raw (OpenAI)", async () => {
    const host = await load();
    const text = `Sure, write to ${EMAIL} or call +1 415 555 0100 today.`;
    const expected = "Sure, write to [EMAIL_1] or call [PHONE_1] today.";
    for (let k = 1; k < text.length; k++) {
      const body = enc(openaiSse([text.slice(0, k), text.slice(k)]));
      const s = chatRequest(host);
      // Body chunks cut at another offset too, so events themselves are split.
      const at = (k * 7) % (body.length - 1) + 1;
      respond(s, "text/event-stream", cut(body, [at]));
      const out = s.responseBodyText;
      assert.ok(!out.includes(EMAIL) && !out.includes("555 0100"), `offset ${k}: ${out}`);
      assert.equal(openaiText(out), expected, `offset ${k}`);
      assert.ok(out.trimEnd().endsWith("data: [DONE]"), "[DONE] stays last");
    }
  });

  it("an SSE body cut at every byte offset keeps its framing and its text (Anthropic)", async () => {
    const host = await load();
    const text = `Card ${CARD} and ${EMAIL} — été`;
    const body = enc(anthropicSse([text.slice(0, 9), text.slice(9, 30), text.slice(30)]));
    for (let at = 1; at < body.length; at++) {
      const s = chatRequest(host, "/anthropic/v1/messages");
      respond(s, "text/event-stream", cut(body, [at]));
      const out = s.responseBodyText;
      assert.ok(!out.includes(EMAIL) && !out.includes("1111 1111"), `offset ${at}`);
      assert.equal(anthropicText(out), "Card [CARD_1] and [EMAIL_1] — été", `offset ${at}`);
    }
  });

  it("text ending in an entity is released, redacted, in an event written before the stream's end", async () => {
    const host = await load();
    const s = chatRequest(host);
    respond(s, "text/event-stream", [openaiSse(["mail ", "jane.doe@exa", "mple.com"])]);
    const events = sseEvents(s.responseBodyText);
    assert.equal(openaiText(s.responseBodyText), "mail [EMAIL_1]");
    const finishAt = events.findIndex(([, d]) => d.includes('"finish_reason":"stop"'));
    const flushAt = events.findIndex(([, d]) => d.includes("[EMAIL_1]"));
    assert.ok(flushAt >= 0 && flushAt < finishAt, "held text released before the finish chunk");
    assert.deepEqual(JSON.parse(events[flushAt][1]), { id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: "[EMAIL_1]" }, finish_reason: null }] });

    const a = chatRequest(host, "/anthropic/v1/messages");
    respond(a, "text/event-stream", [anthropicSse(["to jane.doe@", "example.com"])]);
    const names = sseEvents(a.responseBodyText).map(([n]) => n);
    assert.equal(anthropicText(a.responseBodyText), "to [EMAIL_1]");
    assert.equal(names.lastIndexOf("content_block_delta") + 1, names.indexOf("content_block_stop"));

    // No end event at all (the upstream cut the stream): released at the end of the body.
    const c = chatRequest(host);
    const cutShort = openaiSse(["write to ", "bob@example.org"]).split("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},")[0];
    respond(c, "text/event-stream", [cutShort]);
    assert.equal(openaiText(c.responseBodyText), "write to [EMAIL_1]");
  });

  it("streamed tool-call arguments and reasoning text are redacted per tool call / field", async () => {
    const host = await load();
    const ev = (delta: unknown, fin: string | null = null): string =>
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: fin }] })}\n\n`;
    const body = ev({ reasoning_content: "user is jane.d" }) + ev({ reasoning_content: "oe@example.com" }) +
      ev({ tool_calls: [{ index: 0, id: "t0", type: "function", function: { name: "send", arguments: "{\"to\":\"bob@exa" } }] }) +
      ev({ tool_calls: [{ index: 1, id: "t1", type: "function", function: { name: "log", arguments: "{\"ip\":\"10.1." } }] }) +
      ev({ tool_calls: [{ index: 0, function: { arguments: "mple.org\"}" } }] }) +
      ev({ tool_calls: [{ index: 1, function: { arguments: "2.3\"}" } }] }) + ev({}, "tool_calls") + "data: [DONE]\n\n";
    for (let at = 1; at < body.length; at += 13) {
      const s = chatRequest(host);
      respond(s, "text/event-stream", cut(enc(body), [at]));
      const out = s.responseBodyText;
      assert.ok(!out.includes("example") && !out.includes("10.1.2.3") && !out.includes("jane"), `offset ${at}: ${out}`);
      const args: string[] = ["", ""];
      let reasoning = "";
      for (const [, data] of sseEvents(out)) {
        if (data === "[DONE]") continue;
        const d = JSON.parse(data).choices[0].delta;
        reasoning += d.reasoning_content ?? "";
        for (const t of d.tool_calls ?? []) args[t.index] += t.function?.arguments ?? "";
      }
      // Numbers follow the order entities complete, which depends on the cut: only the labels are fixed.
      assert.match(reasoning, /^user is \[EMAIL_[12]\]$/, `offset ${at}`);
      const parsed = args.map((a) => JSON.parse(a));
      assert.match(parsed[0].to, /^\[EMAIL_[12]\]$/, `offset ${at}`);
      assert.notEqual(parsed[0].to, reasoning.slice(8), "two addresses, two numbers");
      assert.deepEqual(parsed[1], { ip: "[IPV4_1]" }, `offset ${at}`);
    }
  });

  it("Anthropic tool_use input streamed as partial_json: redacted per block, still valid JSON", async () => {
    const host = await load();
    const ev = (o: { type: string }): string => `event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`;
    const parts = ['{"to": "jane.d', 'oe@example.com", "ip": "192.168.', '1.20"}'];
    const body = ev({ type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "send", input: {} } } as { type: string }) +
      parts.map((p) => ev({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: p } } as { type: string })).join("") +
      ev({ type: "content_block_stop", index: 1 } as { type: string }) + ev({ type: "message_stop" });
    const s = chatRequest(host, "/anthropic/v1/messages");
    respond(s, "text/event-stream", cut(enc(body), [50, 51, 200]));
    let json = "";
    for (const [name, data] of sseEvents(s.responseBodyText)) {
      const e = JSON.parse(data);
      assert.equal(e.type, name);
      if (e.type === "content_block_delta") { assert.equal(e.index, 1); json += e.delta.partial_json; }
    }
    assert.deepEqual(JSON.parse(json), { to: "[EMAIL_1]", ip: "[IPV4_1]" });
  });

  it("the hold-back is bounded: a long run that could still be an entity is released at the bound", async () => {
    const host = await load({ stream_holdback_chars: 64 });
    const s = chatRequest(host);
    s.responseHeaders([[":status", "200"], ["content-type", "text/event-stream"]], false);
    const piece = "abcdefghij"; // one endless word: every prefix could be an address's local part
    let sent = 0;
    for (let i = 0; i < 50; i++) {
      s.responseBody(`data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`, false);
      sent += piece.length;
      const released = openaiText(s.responseBodyText).length;
      assert.ok(sent - released <= 64 + piece.length, `held ${sent - released} characters after ${sent}`);
    }
  });

  it("OpenAI Responses API stream: output_text deltas redacted per part, held text released before .done", async () => {
    const host = await load();
    const ev = (o: Record<string, unknown> & { type: string }): string => `event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`;
    const full = `mail ${EMAIL}`;
    const delta = (d: string): string => ev({ type: "response.output_text.delta", item_id: "msg_1", output_index: 0, content_index: 0, delta: d });
    const body = ev({ type: "response.created", response: { id: "resp_1", output: [] } }) + delta("mail jane.d") + delta("oe@example.com") +
      ev({ type: "response.output_text.done", item_id: "msg_1", output_index: 0, content_index: 0, text: full }) +
      ev({ type: "response.completed", response: { id: "resp_1", output: [{ type: "message", content: [{ type: "output_text", text: full }] }] } });
    for (let at = 1; at < body.length; at += 11) {
      const s = host.newHttpStream();
      s.requestHeaders([[":method", "POST"], [":path", "/openai/v1/responses"]], false);
      s.requestBody(JSON.stringify({ model: "m", input: "hi", stream: true }), true);
      respond(s, "text/event-stream", cut(enc(body), [at]));
      const out = s.responseBodyText;
      assert.ok(!out.includes("example.com"), `offset ${at}: ${out}`);
      const events = sseEvents(out).map(([n, d]) => [n, JSON.parse(d)] as const);
      for (const [n, e] of events) assert.equal(e.type, n);
      const deltas = events.filter(([n]) => n === "response.output_text.delta").map(([, e]) => e);
      assert.equal(deltas.map((e) => e.delta).join(""), "mail [EMAIL_1]", `offset ${at}`);
      assert.ok(deltas.every((e) => e.item_id === "msg_1" && e.output_index === 0 && e.content_index === 0));
      const doneAt = events.findIndex(([n]) => n === "response.output_text.done");
      assert.equal(events[doneAt][1].text, "mail [EMAIL_1]");
      assert.ok(events.findIndex(([n, e]) => n === "response.output_text.delta" && e.delta.includes("[EMAIL_1]")) < doneAt);
    }
  });

  it("one stream per choice: interleaved choices are redacted independently", async () => {
    const host = await load();
    const ev = (i: number, c: string | null, fin: string | null = null): string =>
      `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: i, delta: c === null ? {} : { content: c }, finish_reason: fin }] })}\n\n`;
    const body = ev(0, "a: jane.") + ev(1, "b: bob@") + ev(0, "doe@example.com") + ev(1, "example.org ok") + ev(0, null, "stop") + ev(1, null, "stop") + "data: [DONE]\n\n";
    const s = chatRequest(host);
    respond(s, "text/event-stream", [body]);
    const byChoice: string[] = ["", ""];
    for (const [, data] of sseEvents(s.responseBodyText)) {
      if (data === "[DONE]") continue;
      for (const c of JSON.parse(data).choices) byChoice[c.index] += c.delta.content ?? "";
    }
    // Numbered in the order the addresses complete: bob's first.
    assert.deepEqual(byChoice, ["a: [EMAIL_2]", "b: [EMAIL_1] ok"]);
  });

  it("responses: false (plugin or tenant policy) passes responses untouched", async () => {
    const host = await load({ responses: false });
    const s = chatRequest(host);
    const body = JSON.stringify({ choices: [{ message: { content: EMAIL } }] });
    respond(s, "application/json", [body]);
    assert.equal(s.responseBodyText, body);
    const host2 = await load();
    const t = host2.newHttpStream();
    t.filterState.set("leash.policy", enc('{"redact":{"responses":false}}'));
    t.requestHeaders([[":method", "GET"], [":path", "/openai/v1/models"]], true);
    respond(t, "application/json", [body]);
    assert.equal(t.responseBodyText, body);
  });
});
