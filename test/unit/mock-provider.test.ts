// The bundled mock provider, driven over real HTTP by the official SDKs where they apply, so the
// shapes it sends are the ones those clients accept. Expected replies and usage are computed
// from the rules in mock-provider/README.md, not from the mock's own helpers.

import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startMockProvider, type MockProvider, type RecordedRequest } from "../../mock-provider/server.ts";

// --- the documented rules, restated independently -------------------------------------------

function codePoints(s: string): number {
  return Array.from(s).length;
}

function expectedReply(lastUserText: string): string {
  return "mock reply to: " + Array.from(lastUserText).slice(0, 40).join("");
}

function words(s: string): number {
  return s.split(/\s+/).filter((w: string) => w !== "").length;
}

function promptTokens(...texts: string[]): number {
  return Math.ceil(texts.reduce((n: number, t: string) => n + codePoints(t), 0) / 4);
}

// --- helpers -----------------------------------------------------------------------------------

const USER_TEXT: string = "Please summarise the quarterly report for the board, in three bullets.";
const SYSTEM_TEXT: string = "You are terse.";

function openaiClient(mock: MockProvider): OpenAI {
  return new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
}

function anthropicClient(mock: MockProvider): Anthropic {
  return new Anthropic({ baseURL: mock.url, apiKey: "sk-ant-test", maxRetries: 0 });
}

async function postJson(mock: MockProvider, path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${mock.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

/** Event names of an SSE body, in order. */
function eventNames(sse: string): string[] {
  return sse
    .split("\n")
    .filter((line: string) => line.startsWith("event: "))
    .map((line: string) => line.slice("event: ".length));
}

/** Waits for a condition the test cannot await directly (server-side socket state). */
async function eventually(condition: () => boolean, timeoutMs: number = 2000): Promise<void> {
  const deadline: number = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error: unknown) {
    return error;
  }
  assert.fail("expected a rejection");
}

// --- tests -------------------------------------------------------------------------------------

describe("mock provider", () => {
  let mock: MockProvider;

  before(async () => {
    mock = await startMockProvider({ port: 0 });
  });
  after(async () => {
    await mock.close();
  });
  beforeEach(() => {
    mock.clear();
  });

  describe("OpenAI", () => {
    it("answers a chat completion with the derived reply and usage", async () => {
      const completion: OpenAI.ChatCompletion = await openaiClient(mock).chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: SYSTEM_TEXT },
          { role: "user", content: USER_TEXT },
        ],
      });
      const reply: string = expectedReply(USER_TEXT);
      assert.equal(completion.object, "chat.completion");
      assert.match(completion.id, /^chatcmpl-/);
      assert.equal(completion.model, "gpt-4o-mini");
      assert.equal(typeof completion.created, "number");
      assert.equal(completion.choices.length, 1);
      assert.equal(completion.choices[0].index, 0);
      assert.equal(completion.choices[0].message.role, "assistant");
      assert.equal(completion.choices[0].message.content, reply);
      assert.equal(completion.choices[0].finish_reason, "stop");
      const prompt: number = promptTokens(SYSTEM_TEXT, USER_TEXT);
      assert.deepEqual(completion.usage, {
        prompt_tokens: prompt,
        completion_tokens: words(reply),
        total_tokens: prompt + words(reply),
      });
    });

    it("streams role, content pieces, finish and the include_usage chunk", async () => {
      const stream = await openaiClient(mock).chat.completions.create(
        {
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: USER_TEXT }],
          stream: true,
          stream_options: { include_usage: true },
        },
        { headers: { "x-mock-chunk-size": "10" } },
      );
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);

      const reply: string = expectedReply(USER_TEXT);
      assert.ok(chunks.every((c: OpenAI.ChatCompletionChunk) => c.object === "chat.completion.chunk"));
      assert.equal(chunks[0].choices[0].delta.role, "assistant");
      const contentChunks: OpenAI.ChatCompletionChunk[] = chunks.filter(
        (c: OpenAI.ChatCompletionChunk) => (c.choices[0]?.delta.content ?? "") !== "",
      );
      assert.equal(contentChunks.length, Math.ceil(codePoints(reply) / 10));
      assert.equal(contentChunks.map((c: OpenAI.ChatCompletionChunk) => c.choices[0].delta.content).join(""), reply);
      const finish: OpenAI.ChatCompletionChunk = chunks[chunks.length - 2];
      assert.equal(finish.choices[0].finish_reason, "stop");
      const last: OpenAI.ChatCompletionChunk = chunks[chunks.length - 1];
      assert.deepEqual(last.choices, []);
      assert.deepEqual(last.usage, {
        prompt_tokens: promptTokens(USER_TEXT),
        completion_tokens: words(reply),
        total_tokens: promptTokens(USER_TEXT) + words(reply),
      });
    });

    it("sends no usage chunk without include_usage, and ends with [DONE]", async () => {
      const res: Response = await postJson(
        mock,
        "/v1/chat/completions",
        JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
      );
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      const text: string = await res.text();
      assert.ok(!text.includes('"usage"'));
      assert.ok(text.endsWith("data: [DONE]\n\n"));
    });

    it("truncates at max_tokens with finish_reason length", async () => {
      const completion: OpenAI.ChatCompletion = await openaiClient(mock).chat.completions.create({
        model: "m",
        max_tokens: 2,
        messages: [{ role: "user", content: USER_TEXT }],
      });
      assert.equal(completion.choices[0].message.content, "mock reply");
      assert.equal(completion.choices[0].finish_reason, "length");
      assert.equal(completion.usage?.completion_tokens, 2);
    });

    it("serves legacy completions and the model list", async () => {
      const client: OpenAI = openaiClient(mock);
      const completion: OpenAI.Completion = await client.completions.create({ model: "m", prompt: "Say hello" });
      assert.equal(completion.object, "text_completion");
      assert.equal(completion.choices[0].text, expectedReply("Say hello"));
      assert.equal(completion.usage?.prompt_tokens, promptTokens("Say hello"));

      const models: OpenAI.Model[] = [];
      for await (const model of client.models.list()) models.push(model);
      assert.ok(models.length > 0);
      assert.ok(models.every((m: OpenAI.Model) => m.object === "model"));
    });
  });

  describe("Anthropic", () => {
    it("answers a message with the derived reply and usage", async () => {
      const message: Anthropic.Message = await anthropicClient(mock).messages.create({
        model: "mock-claude",
        max_tokens: 256,
        system: SYSTEM_TEXT,
        messages: [
          { role: "user", content: "earlier question" },
          { role: "assistant", content: "earlier answer" },
          { role: "user", content: [{ type: "text", text: USER_TEXT }] },
        ],
      });
      const reply: string = expectedReply(USER_TEXT);
      assert.equal(message.type, "message");
      assert.equal(message.role, "assistant");
      assert.equal(message.model, "mock-claude");
      assert.match(message.id, /^msg_/);
      assert.deepEqual(message.content, [{ type: "text", text: reply }]);
      assert.equal(message.stop_reason, "end_turn");
      assert.equal(message.usage.input_tokens, promptTokens(SYSTEM_TEXT, "earlier question", "earlier answer", USER_TEXT));
      assert.equal(message.usage.output_tokens, words(reply));
    });

    it("streams through the SDK's MessageStream to the same message", async () => {
      const stream = anthropicClient(mock).messages.stream({
        model: "mock-claude",
        max_tokens: 256,
        messages: [{ role: "user", content: USER_TEXT }],
      });
      let text: string = "";
      stream.on("text", (delta: string) => {
        text += delta;
      });
      const message: Anthropic.Message = await stream.finalMessage();
      const reply: string = expectedReply(USER_TEXT);
      assert.equal(text, reply);
      assert.deepEqual(message.content, [{ type: "text", text: reply }]);
      assert.equal(message.stop_reason, "end_turn");
      assert.equal(message.usage.input_tokens, promptTokens(USER_TEXT));
      assert.equal(message.usage.output_tokens, words(reply));
    });

    it("streams Anthropic's event sequence", async () => {
      const res: Response = await postJson(
        mock,
        "/v1/messages",
        JSON.stringify({ model: "m", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] }),
        { "x-mock-reply": "abcdefgh", "x-mock-chunk-size": "3" },
      );
      const sse: string = await res.text();
      assert.deepEqual(eventNames(sse), [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ]);
      for (const block of sse.split("\n\n").filter((b: string) => b !== "")) {
        const [eventLine, dataLine] = block.split("\n");
        const data: { type: string } = JSON.parse(dataLine.slice("data: ".length)) as { type: string };
        assert.equal(data.type, eventLine.slice("event: ".length));
      }
      assert.ok(sse.includes('"usage":{"output_tokens":1}'));
    });

    it("x-mock-split-at cuts the streamed reply at code-point offsets; x-mock-write-bytes re-cuts the body", async () => {
      const res: Response = await postJson(
        mock,
        "/v1/chat/completions",
        JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
        { "x-mock-reply-b64": Buffer.from("ab😀cdéf").toString("base64"), "x-mock-split-at": "2,3,3,99", "x-mock-chunk-delay-ms": "1", "x-mock-write-bytes": "7" },
      );
      const sse: string = await res.text();
      const deltas: string[] = sse.split("\n\n").filter((b: string) => b.startsWith("data: {"))
        .map((b: string) => (JSON.parse(b.slice(6)) as OpenAI.ChatCompletionChunk).choices[0]?.delta.content ?? "")
        .filter((c: string) => c !== "");
      assert.deepEqual(deltas, ["ab", "😀", "cdéf"]);
    });

    it("counts tokens and lists models in Anthropic's shape", async () => {
      const client: Anthropic = anthropicClient(mock);
      const count: Anthropic.MessageTokensCount = await client.messages.countTokens({
        model: "m",
        system: SYSTEM_TEXT,
        messages: [{ role: "user", content: USER_TEXT }],
      });
      assert.equal(count.input_tokens, promptTokens(SYSTEM_TEXT, USER_TEXT));
      const page = await client.models.list();
      assert.ok(page.data.length > 0);
      assert.equal(page.data[0].type, "model");
    });
  });

  describe("control headers", () => {
    it("x-mock-reply and x-mock-chunk-size split a value across deltas", async () => {
      const reply: string = "Call 555-123-4567 today";
      const stream = await openaiClient(mock).chat.completions.create(
        { model: "m", messages: [{ role: "user", content: "x" }], stream: true },
        { headers: { "x-mock-reply": reply, "x-mock-chunk-size": "5" } },
      );
      const pieces: string[] = [];
      for await (const chunk of stream) {
        const content: string | null | undefined = chunk.choices[0]?.delta.content;
        if (content) pieces.push(content);
      }
      assert.deepEqual(pieces, ["Call ", "555-1", "23-45", "67 to", "day"]);
    });

    it("x-mock-reply-b64 carries non-ASCII replies; chunks never split a code point", async () => {
      const reply: string = "Grüße 😀 an Zoë";
      const message: Anthropic.Message = await anthropicClient(mock).messages.create(
        { model: "m", max_tokens: 64, messages: [{ role: "user", content: "x" }] },
        { headers: { "x-mock-reply-b64": Buffer.from(reply, "utf8").toString("base64") } },
      );
      assert.deepEqual(message.content, [{ type: "text", text: reply }]);
      assert.equal(message.usage.output_tokens, words(reply));

      const res: Response = await postJson(
        mock,
        "/v1/chat/completions",
        JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "x" }] }),
        { "x-mock-reply-b64": Buffer.from("😀😀😀", "utf8").toString("base64"), "x-mock-chunk-size": "1" },
      );
      const sse: string = await res.text();
      assert.equal(sse.split('"content":"😀"').length - 1, 3);
    });

    it("x-mock-latency-ms delays the response", async () => {
      const started: number = Date.now();
      const res: Response = await postJson(mock, "/v1/chat/completions", JSON.stringify({ model: "m", messages: [] }), {
        "x-mock-latency-ms": "80",
      });
      assert.equal(res.status, 200);
      assert.ok(Date.now() - started >= 75, "answered before the injected latency");
    });

    it("x-mock-chunk-delay-ms spaces the SSE events", async () => {
      const started: number = Date.now();
      const res: Response = await postJson(
        mock,
        "/v1/chat/completions",
        JSON.stringify({ model: "m", stream: true, messages: [] }),
        { "x-mock-reply": "abcdef", "x-mock-chunk-size": "3", "x-mock-chunk-delay-ms": "25" },
      );
      const sse: string = await res.text();
      // role, two content pieces, finish, [DONE]: four gaps between five events.
      assert.equal(sse.split("\n\n").filter((e: string) => e !== "").length, 5);
      assert.ok(Date.now() - started >= 4 * 25 - 5, "events were not spaced");
    });
  });

  describe("errors", () => {
    it("injects a 429 the OpenAI SDK raises as RateLimitError, with retry-after", async () => {
      const error: unknown = await rejectionOf(
        openaiClient(mock).chat.completions.create(
          { model: "m", messages: [{ role: "user", content: "hi" }] },
          { headers: { "x-mock-status": "429" } },
        ),
      );
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.status, 429);
      assert.equal(error.code, "rate_limit_exceeded");
      assert.equal(error.headers.get("retry-after"), "1");
    });

    it("injects 5xx the OpenAI SDK raises as InternalServerError, even for streams", async () => {
      const error: unknown = await rejectionOf(
        openaiClient(mock).chat.completions.create(
          { model: "m", messages: [{ role: "user", content: "hi" }], stream: true },
          { headers: { "x-mock-status": "503" } },
        ),
      );
      assert.ok(error instanceof OpenAI.InternalServerError);
      assert.equal(error.status, 503);
      assert.equal(error.type, "server_error");
    });

    it("injects errors in Anthropic's format", async () => {
      const client: Anthropic = anthropicClient(mock);
      const limited: unknown = await rejectionOf(
        client.messages.create(
          { model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
          { headers: { "x-mock-status": "429", "x-mock-retry-after": "7" } },
        ),
      );
      assert.ok(limited instanceof Anthropic.RateLimitError);
      assert.equal(limited.type, "rate_limit_error");
      assert.equal(limited.headers.get("retry-after"), "7");
      assert.equal(limited.requestID, limited.headers.get("request-id"));

      const overloaded: unknown = await rejectionOf(
        client.messages.create(
          { model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
          { headers: { "x-mock-status": "529" } },
        ),
      );
      assert.ok(overloaded instanceof Anthropic.InternalServerError);
      assert.equal(overloaded.status, 529);
      assert.equal(overloaded.type, "overloaded_error");
    });

    it("answers a non-JSON body with 400 in each API's format", async () => {
      const openaiRes: Response = await postJson(mock, "/v1/chat/completions", "{not json");
      assert.equal(openaiRes.status, 400);
      const openaiBody = (await openaiRes.json()) as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(openaiBody.error).sort(), ["code", "message", "param", "type"]);
      assert.equal(openaiBody.error.type, "invalid_request_error");

      const anthropicRes: Response = await postJson(mock, "/v1/messages", "{not json");
      assert.equal(anthropicRes.status, 400);
      const anthropicBody = (await anthropicRes.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(anthropicBody.type, "error");
      assert.equal(anthropicBody.error.type, "invalid_request_error");
      assert.equal(typeof anthropicBody.error.message, "string");
    });

    it("rejects a missing model, a non-object body and missing messages with 400", async () => {
      for (const path of ["/v1/chat/completions", "/v1/messages"]) {
        for (const body of ['{"messages":[]}', "[1,2]", "null", '{"model":"m"}', '{"model":"m","messages":"x"}', ""]) {
          const res: Response = await postJson(mock, path, body);
          assert.equal(res.status, 400, `${path} ${body}`);
        }
      }
      const legacy: Response = await postJson(mock, "/v1/completions", '{"prompt":"x"}');
      assert.equal(legacy.status, 400);
    });

    it("answers unknown paths and methods with a 404 JSON error", async () => {
      const res: Response = await fetch(`${mock.url}/v2/whatever`);
      assert.equal(res.status, 404);
      assert.ok(((await res.json()) as { error: { message: string } }).error.message.includes("/v2/whatever"));
      const wrongMethod: Response = await fetch(`${mock.url}/v1/messages`, { headers: { "anthropic-version": "2023-06-01" } });
      assert.equal(wrongMethod.status, 404);
      assert.equal(((await wrongMethod.json()) as { type: string }).type, "error");
    });

    it("survives odd bodies and malformed HTTP", async () => {
      const odd: string[] = [
        '{"model":"m","messages":[null,1,"x",{"role":"user","content":{"a":1}},{"role":"user","content":[null,{"text":5}]}]}',
        '{"model":"m","messages":[],"stream":"yes","stream_options":7,"max_tokens":-3}',
        '{"model":"m","system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"image"}]}]}',
        "\u0000\uffff",
      ];
      for (const body of odd) {
        for (const path of ["/v1/chat/completions", "/v1/messages", "/v1/completions", "/v1/messages/count_tokens"]) {
          const res: Response = await postJson(mock, path, body, { "x-mock-chunk-size": "abc", "x-mock-latency-ms": "-5" });
          assert.ok(res.status === 200 || res.status === 400, `${path} ${body} -> ${res.status}`);
          await res.arrayBuffer();
        }
      }
      const socket: Socket = connect(mock.port, "127.0.0.1");
      await once(socket, "connect");
      socket.end("NOT HTTP AT ALL\r\n\r\n");
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      await once(socket, "close");
      assert.match(Buffer.concat(chunks).toString("latin1"), /^HTTP\/1\.1 400/);

      const health: Response = await fetch(`${mock.url}/__mock/health`);
      assert.equal(health.status, 200);
    });
  });

  describe("request log", () => {
    it("records what arrived, in-process and over HTTP", async () => {
      await openaiClient(mock).chat.completions.create({ model: "m", messages: [{ role: "user", content: "logged" }] });
      assert.equal(mock.requests.length, 1);
      const recorded: RecordedRequest = mock.requests[0];
      assert.equal(recorded.method, "POST");
      assert.equal(recorded.path, "/v1/chat/completions");
      assert.equal(recorded.headers.authorization, "Bearer sk-test");
      assert.deepEqual(recorded.json, { model: "m", messages: [{ role: "user", content: "logged" }] });
      assert.equal(JSON.parse(recorded.body).model, "m");
      assert.equal(typeof recorded.time, "number");

      await postJson(mock, "/v1/messages?beta=true", "{broken");
      const overHttp: RecordedRequest[] = (await (await fetch(`${mock.url}/__mock/requests`)).json()) as RecordedRequest[];
      assert.equal(overHttp.length, 2, "the /__mock/ request itself is not logged");
      assert.equal(overHttp[1].path, "/v1/messages");
      assert.equal(overHttp[1].url, "/v1/messages?beta=true");
      assert.equal(overHttp[1].body, "{broken");
      assert.equal(overHttp[1].json, null);

      const cleared: Response = await fetch(`${mock.url}/__mock/requests`, { method: "DELETE" });
      assert.equal(cleared.status, 204);
      assert.equal(mock.requests.length, 0);
    });

    it("waitForRequest resolves for logged and future requests", async () => {
      await postJson(mock, "/v1/chat/completions", JSON.stringify({ model: "first", messages: [] }));
      const first: RecordedRequest = await mock.waitForRequest();
      assert.equal((first.json as { model: string }).model, "first");
      const next: Promise<RecordedRequest> = mock.waitForRequest((r: RecordedRequest) => r.headers["x-tag"] === "later");
      await postJson(mock, "/v1/chat/completions", JSON.stringify({ model: "m", messages: [] }), { "x-tag": "later" });
      assert.equal((await next).headers["x-tag"], "later");
    });

    it("keeps only the newest logLimit requests and counts all of them", async () => {
      const small: MockProvider = await startMockProvider({ logLimit: 3 });
      try {
        for (let i = 0; i < 5; i++) {
          await (await postJson(small, "/v1/chat/completions", JSON.stringify({ model: `m${i}`, messages: [] }))).text();
        }
        assert.deepEqual(
          small.requests.map((r: RecordedRequest) => (r.json as { model: string }).model),
          ["m2", "m3", "m4"],
        );
        const stats = (await (await fetch(`${small.url}/__mock/stats`)).json()) as { requests: number; cpu: NodeJS.CpuUsage };
        assert.equal(stats.requests, 5);
        assert.equal(typeof stats.cpu.user, "number");
        const cpu: NodeJS.CpuUsage = small.cpuUsage();
        assert.ok(cpu.user >= 0 && cpu.system >= 0);
      } finally {
        await small.close();
      }
    });
  });

  describe("hang", () => {
    it("accepts, never answers, and releases the socket when the client gives up", async () => {
      const abort: AbortController = new AbortController();
      const request: Promise<Response> = fetch(`${mock.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "x-mock-hang": "1" },
        body: "{}",
        signal: abort.signal,
      });
      await mock.waitForRequest((r: RecordedRequest) => r.headers["x-mock-hang"] === "1");
      assert.equal(mock.hanging, 1);
      abort.abort();
      await assert.rejects(request, { name: "AbortError" });
      await eventually(() => mock.hanging === 0);
    });

    it("lets an SDK client time out", async () => {
      const client: OpenAI = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "k", maxRetries: 0, timeout: 100 });
      const error: unknown = await rejectionOf(
        client.chat.completions.create({ model: "m", messages: [] }, { headers: { "x-mock-hang": "1" } }),
      );
      assert.ok(error instanceof OpenAI.APIConnectionTimeoutError);
      await eventually(() => mock.hanging === 0);
    });

    it("close() destroys hung connections and fails pending waits", async () => {
      const own: MockProvider = await startMockProvider();
      const request: Promise<Response> = postJson(own, "/v1/messages", "{}", { "x-mock-hang": "true" });
      await own.waitForRequest();
      assert.equal(own.hanging, 1);
      // Assertions attached before close(), which is what settles both promises.
      const requestFails: Promise<void> = assert.rejects(request);
      const waitFails: Promise<void> = assert.rejects(
        own.waitForRequest((r: RecordedRequest) => r.path === "/never"),
        /closed/,
      );
      await own.close();
      await requestFails;
      await waitFails;
      assert.equal(own.hanging, 0);
      await own.close();
    });
  });
});

describe("mock-provider CLI", () => {
  it("prints its URL, serves, and exits 0 on SIGTERM", async () => {
    const root: string = fileURLToPath(new URL("../../", import.meta.url));
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      ["--import", "tsx", "mock-provider/main.ts", "--port", "0", "--latency-ms", "0"],
      { cwd: root },
    );
    try {
      let stdout: string = "";
      child.stdout.setEncoding("utf8");
      const line: string = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk: string) => {
          stdout += chunk;
          if (stdout.includes("\n")) resolve(stdout.split("\n")[0]);
        });
        child.once("exit", (code: number | null) => reject(new Error(`exited early with ${code}`)));
      });
      const match: RegExpMatchArray | null = line.match(/^mock-provider listening on (http:\/\/127\.0\.0\.1:\d+)$/);
      assert.ok(match, line);
      const health: Response = await fetch(`${match[1]}/__mock/health`);
      assert.equal(health.status, 200);

      const exited: Promise<unknown[]> = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
