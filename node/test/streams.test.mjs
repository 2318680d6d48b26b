// Streamed chat through a platform whose AI upstream is a loopback OpenAI-compatible stand-in
// (a third party we cannot run here), chat/complete answers, early stop and abort of a stream.
import assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, test } from "node:test";

import { CancelledError, ValidationError } from "aerostack";
import { startPlatform } from "./helpers.mjs";

const MESSAGES = [{ role: "user", content: "Summarize this." }];
const EXPECTED = "- point one\n- point two\n- point three (Summarize this.)";

let upstream;
let p;
let client;

before(async () => {
  upstream = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw || "{}");
      const last = body.messages?.at(-1)?.content ?? "";
      const text = `- point one\n- point two\n- point three (${last.slice(0, 20)})`;
      const model = body.model ?? "test-model";
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const words = text.split(" ");
        words.forEach((w, i) => res.write(`data: ${JSON.stringify({ model, choices: [{ index: 0, delta: { content: i ? " " + w : w }, finish_reason: null }] })}\n\n`));
        res.write(`data: ${JSON.stringify({ model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ model, choices: [], usage: { prompt_tokens: 3, completion_tokens: words.length, total_tokens: 3 + words.length } })}\n\n`);
        res.end("data: [DONE]\n\n");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "chatcmpl-test", object: "chat.completion", created: 0, model, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 9, total_tokens: 12 } }));
    });
  });
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  p = await startPlatform({ aiBaseUrl: `http://127.0.0.1:${upstream.address().port}/v1`, aiModel: "test-model" });
  client = p.client();
});

after(async () => {
  await p.stop();
  upstream.close();
});

test("ai.chatStream is an async iterator of token chunks", async () => {
  const chunks = [];
  for await (const c of client.ai.chatStream(MESSAGES, { model: "test-model" })) chunks.push(c);
  assert.ok(chunks.length > 3, "one chunk per token, not one blob");
  assert.equal(chunks.map((c) => c.delta ?? "").join(""), EXPECTED);
  assert.ok(chunks.some((c) => c.finishReason === "stop"));
  assert.ok(chunks.filter((c) => c.usage).at(-1).usage.totalTokens > 0);
});

test("chat, complete and seed 000's chat(model, messages) answer", async () => {
  assert.equal((await client.ai.chat(MESSAGES)).text, EXPECTED);
  assert.ok((await client.ai.chat("test-model", MESSAGES)).text.startsWith("- point one"));
  assert.ok((await client.ai.complete("Say hi", { maxTokens: 16 })).text.includes("Say hi"));
});

test("leaving the loop early stops the stream; the client keeps working; errors are typed", async () => {
  const stream = client.ai.chatStream(MESSAGES);
  for await (const c of stream) {
    assert.ok(c.delta);
    break;
  }
  assert.deepEqual(await stream.next(), { done: true, value: undefined });
  assert.equal((await client.ai.chat(MESSAGES)).text, EXPECTED);
  await assert.rejects(client.ai.chatStream([]).toArray(), (e) => e instanceof ValidationError && e.message.includes("messages"));
  await assert.rejects(client.ai.chatStream(MESSAGES, { signal: AbortSignal.abort() }).toArray(), CancelledError);
});
