// The AI gateway as a consumer uses it: chat (JSON and streamed) through a gateway API billed to a
// consumer key, wallet and usage, billing logs by the project, and the consumer's errors. The AI
// upstream is a loopback stand-in (a third party); the platform is the real in-process one.
import assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, test } from "node:test";

import { AerostackClient, AerostackError, SDK, ValidationError } from "aerostack";
import { startPlatform, uid } from "./helpers.mjs";

/** An OpenAI-compatible stand-in: a fixed answer echoing the last message, JSON or SSE. */
function fakeUpstream() {
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw || "{}");
      const text = `echo: ${body.messages?.at(-1)?.content ?? ""}`;
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const w of text.split(" ")) res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: w + " " } }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 } })}\n\n`);
        res.end("data: [DONE]\n\n");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "c1", object: "chat.completion", model: body.model, choices: [{ message: { role: "assistant", content: text }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

let upstream;
let p;
let client;
before(async () => {
  upstream = await fakeUpstream();
  p = await startPlatform({ aiBaseUrl: `http://127.0.0.1:${upstream.address().port}/v1`, aiModel: "test-model" });
  client = p.client();
});
after(async () => {
  await client.close();
  await p.stop();
  upstream.close();
});

async function consumer(slug, credits) {
  await client.request("POST", "/local/gateway/apis", { slug });
  return client.request("POST", "/local/gateway/keys", { api_slug: slug, credits });
}

test("chat and chatStream are billed to the consumer; wallet and usage show it", async () => {
  const slug = `chat-${uid()}`;
  const con = await consumer(slug, 100);
  assert.match(con.key, /^ask_test_/);
  const gw = new AerostackClient({ projectId: p.projectId, apiKey: p.apiKey, baseUrl: p.apiUrl, consumerKey: con.key, ignoreEnv: true }).gateway;
  const answer = await gw.chat(slug, [{ role: "user", content: "hi" }]);
  assert.equal(answer.text, "echo: hi");
  assert.equal(answer.usage.totalTokens, 5);
  let streamed = "";
  for await (const chunk of client.gateway.setConsumerKey(con.key).chatStream(slug, [{ role: "user", content: "yo" }])) streamed += chunk.delta;
  assert.equal(streamed.trim(), "echo: yo");
  const wallet = await gw.wallet(slug);
  assert.deepEqual([wallet.balance, wallet.totalPurchased, wallet.totalConsumed], [91, 100, 9]);
  const usage = await gw.usage(slug, 7);
  assert.deepEqual([usage.totalTokens, usage.totalRequests, usage.days.length], [9, 2, 1]);
});

test("billingLog debits the consumer; the consumer's errors", async () => {
  const slug = `bill-${uid()}`;
  const con = await consumer(slug, 10);
  const logged = await client.gateway.billingLog(con.consumer_id, con.api_id, 10);
  assert.deepEqual([logged.success, logged.loggedUnits], [true, 10]);
  await assert.rejects(client.gateway.chat(slug, [{ role: "user", content: "hi" }], { consumerKey: con.key }), (e) => e instanceof AerostackError && e.code === "INSUFFICIENT_CREDITS" && e.status === 402);
  await assert.rejects(client.gateway.billingLog(con.consumer_id, con.api_id, 0), (e) => e instanceof ValidationError && e.field === "units");
  const keyless = new AerostackClient({ projectId: p.projectId, apiKey: p.apiKey, baseUrl: p.apiUrl, ignoreEnv: true });
  await assert.rejects(keyless.gateway.wallet(), (e) => e instanceof ValidationError && e.field === "consumer_key");
});

test("the official forms: complete({ apiSlug, messages }) and stream({ onToken, onDone })", async () => {
  const slug = `official-${uid()}`;
  const con = await consumer(slug, 100);
  const gw = client.gateway.setConsumerKey(con.key);
  assert.deepEqual(await gw.complete({ apiSlug: slug, messages: [{ role: "user", content: "hi" }], model: "m1" }), { content: "echo: hi", tokensUsed: 5 });
  let text = "";
  let done;
  await gw.stream({ apiSlug: slug, messages: [{ role: "user", content: "yo" }], onToken: (d) => (text += d), onDone: (u) => (done = u) });
  assert.equal(text.trim(), "echo: yo");
  assert.deepEqual(done, { tokensUsed: 4 });
  await assert.rejects(gw.stream({ apiSlug: slug, messages: [] }), (e) => e instanceof ValidationError && e.field === "onToken");
  await assert.rejects(gw.complete({ apiSlug: slug }), (e) => e instanceof ValidationError && e.field === "messages");
});

test("chatApi(slug): chat with history, streamed or not; usage and wallet of that API", async () => {
  const slug = `bot-${uid()}`;
  const con = await consumer(slug, 100);
  const bot = client.gateway.setConsumerKey(con.key) && client.chatApi(slug);
  assert.deepEqual(await bot.chat({ message: "hi", history: [{ role: "user", content: "earlier" }] }), { content: "echo: hi", tokensUsed: 5 });
  const pieces = [];
  const streamed = await bot.chat({ message: "yo", stream: true, onToken: (d) => pieces.push(d) });
  assert.equal(streamed.content.trim(), "echo: yo");
  assert.equal(streamed.tokensUsed, 4);
  assert.equal(pieces.join(""), streamed.content);
  assert.equal((await bot.wallet()).totalConsumed, 9);
  assert.equal((await bot.usage(7)).totalRequests, 2);
  await assert.rejects(bot.chat({}), (e) => e instanceof ValidationError && e.field === "message");
});

test("the SDK face: the generated gateway operations and streamGateway", async () => {
  const slug = `sdkgw-${uid()}`;
  const con = await consumer(slug, 100);
  const sdk = new SDK({ apiKeyAuth: p.apiKey, serverURL: p.apiUrl, consumerKey: con.key });
  const res = await sdk.gateway.gatewayChatCompletions({ apiSlug: slug, chatCompletionRequest: { messages: [{ role: "user", content: "hi" }] } });
  assert.equal(res.choices[0].message.content, "echo: hi");
  assert.equal(res.usage.total_tokens, 5);
  const { wallet } = await sdk.gateway.gatewayGetWallet({ apiSlug: slug });
  assert.deepEqual([wallet.balance, wallet.total_consumed], [95, 5]);
  const logged = await sdk.gateway.gatewayBillingLog({ requestBody: { consumerId: con.consumer_id, apiId: con.api_id, units: 5 } });
  assert.equal(logged.loggedUnits, 5);
  let text = "";
  let done;
  await sdk.streamGateway({ apiSlug: slug, messages: [{ role: "user", content: "yo" }], systemPrompt: "be brief", onToken: (d) => (text += d), onDone: (r) => (done = r) });
  assert.equal(text.trim(), "echo: yo");
  assert.deepEqual(done, { text, tokensUsed: 4 });
  // A missing path parameter is named; a failure goes to onError when given.
  await assert.rejects(sdk.gateway.gatewayChatCompletions({ requestBody: { messages: [] } }), (e) => e instanceof ValidationError && /apiSlug/.test(e.message));
  const bare = new SDK({ apiKeyAuth: p.apiKey, serverURL: p.apiUrl });
  let failed;
  await bare.streamGateway({ apiSlug: slug, messages: [{ role: "user", content: "x" }], consumerKey: "ask_test_nope", onToken: () => {}, onError: (e) => (failed = e) });
  assert.ok(failed instanceof AerostackError, String(failed));
  assert.equal((await bare.gateway.gatewayGetWallet({ apiSlug: slug, consumerKey: con.key })).wallet.balance, 86);
});

test("client.stream(response, handlers): a streamed answer from your own fetch", async () => {
  const slug = `own-${uid()}`;
  const con = await consumer(slug, 100);
  const post = (key) =>
    fetch(`${p.url}/api/gateway/${slug}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hello there" }], stream: true }),
    });
  const tokens = [];
  let done;
  const text = await client.stream(await post(con.key), { onToken: (t) => tokens.push(t), onDone: (d) => (done = d) });
  assert.equal(text.trim(), "echo: hello there");
  assert.equal(tokens.join(""), text);
  assert.deepEqual(done, { content: text, tokensUsed: 4 });
  // An error answer is read as the engine reads its own: the platform's code and status.
  await assert.rejects(client.stream(await post("ask_test_nope")), (e) => e instanceof AerostackError && e.status === 401);
  let failed;
  assert.equal(await client.stream(await post("ask_test_nope"), { onError: (e) => (failed = e) }), "");
  assert.equal(failed.status, 401);
});
