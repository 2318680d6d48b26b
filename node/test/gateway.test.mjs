// The AI gateway as a consumer uses it: chat (JSON, streamed, and over the WebSocket) through a
// gateway API billed to a consumer key, wallet and usage, billing logs by the project, and the
// consumer's errors. The AI
// upstream is a loopback stand-in (a third party); the platform is the real in-process one.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { AerostackClient, AerostackError, AuthError, GatewaySocket, NetworkError, SDK, ValidationError } from "aerostack";
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

// ---- gateway.connectWebSocket -----------------------------------------------------------------

const hi = (content = "hi") => [{ role: "user", content }];

test("connectWebSocket: a chat streamed over the socket, token by token, then the answer", async () => {
  const slug = `ws-${uid()}`;
  const con = await consumer(slug, 100);
  const socket = await client.gateway.connectWebSocket(slug, { consumerKey: con.key });
  assert.ok(socket instanceof GatewaySocket);
  assert.match(socket.url, new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/api/gateway/${slug}/ws$`));
  assert.deepEqual([socket.state, socket.readyState, socket.apiSlug], ["open", 1, slug]);
  const tokens = [];
  const answer = await socket.chat(hi(), { onToken: (t) => tokens.push(t) });
  // gateway.complete's { content, tokensUsed }, plus the usage the platform billed.
  assert.deepEqual(answer, { content: "echo: hi ", tokensUsed: 4, usage: { promptTokens: 2, completionTokens: 2, totalTokens: 4 } });
  assert.deepEqual(tokens, ["echo: ", "hi "]);
  // Two chats at once: each gets its own answer.
  const [a, b] = await Promise.all([socket.chat(hi("a")), socket.chat(hi("b"))]);
  assert.deepEqual([a.content, b.content], ["echo: a ", "echo: b "]);
  assert.equal((await client.gateway.wallet(slug, { consumerKey: con.key })).balance, 100 - 12);
  await socket.close();
  assert.deepEqual([socket.state, socket.readyState], ["closed", 3]);
  await assert.rejects(socket.chat(hi()), (e) => e instanceof NetworkError && /closed/.test(e.message));
});

test("connectWebSocket: a refused key rejects at connect with AuthError", async () => {
  const slug = `wskey-${uid()}`;
  const con = await consumer(slug, 100);
  await assert.rejects(
    client.gateway.connectWebSocket(slug, { consumerKey: "ask_test_00000000000000000000000000000000" }),
    (e) => e instanceof AuthError && e.code === "AUTH_INVALID_KEY" && e.status === 401 && /consumer key/i.test(e.message),
  );
  const other = `wsother-${uid()}`;
  await consumer(other, 1);
  await assert.rejects(client.gateway.connectWebSocket(other, { consumerKey: con.key }), (e) => e instanceof AuthError && e.status === 403);
  const keyless = new AerostackClient({ projectId: p.projectId, apiKey: p.apiKey, baseUrl: p.apiUrl, ignoreEnv: true });
  await assert.rejects(keyless.gateway.connectWebSocket(slug), (e) => e instanceof ValidationError && e.field === "consumer_key");
  // The client's consumer key is the default, as for the HTTP calls.
  const s = await keyless.gateway.setConsumerKey(con.key).connectWebSocket(slug);
  await s.close();
});

test("connectWebSocket: an error frame, then a successful chat on the same socket", async () => {
  const slug = `wserr-${uid()}`;
  const con = await consumer(slug, 100);
  const socket = await client.gateway.connectWebSocket(slug, { consumerKey: con.key });
  const errors = [];
  socket.on("error", (ev) => errors.push(ev));
  const raw = await socket.send({ type: "chat", messages: [] });
  await assert.rejects(socket.chat(hi(), { temperature: 9 }), (e) => e instanceof ValidationError && /temperature/.test(e.message));
  assert.equal(errors.length, 2);
  assert.equal(errors[0].request, raw);
  assert.ok(errors[0].error instanceof ValidationError, String(errors[0].error));
  assert.equal(errors[0].code, "VALIDATION_ERROR");
  socket.off("error");
  assert.equal((await socket.chat(hi("still here"))).content, "echo: still here ");
  assert.ok((await socket.ping()) >= 0);
  await socket.close();

  // An empty wallet: the chat rejects as the HTTP call does; the socket goes on.
  const broke = `wsbroke-${uid()}`;
  const poor = await consumer(broke, 0);
  const s = await client.gateway.connectWebSocket(broke, { consumerKey: poor.key });
  await assert.rejects(s.chat(hi()), (e) => e instanceof AerostackError && e.code === "INSUFFICIENT_CREDITS");
  assert.ok((await s.ping()) >= 0);
  await s.close();
});

test("connectWebSocket: for await over the events, ended by close", async () => {
  const slug = `wsiter-${uid()}`;
  const con = await consumer(slug, 100);
  const socket = await client.gateway.connectWebSocket(slug, { consumerKey: con.key });
  const seen = [];
  const loop = (async () => {
    for await (const ev of socket) seen.push(ev);
  })();
  const chatId = await socket.send({ type: "chat", messages: hi("yo") });
  const pongs = [];
  socket.on("pong", (ev) => pongs.push(ev.request));
  await socket.ping();
  await socket.close(4000, "bye");
  await loop;
  assert.deepEqual(
    seen.map((e) => [e.type, e.request ?? null]),
    [["token", chatId], ["token", chatId], ["done", chatId], ["pong", chatId + 1], ["close", null]],
  );
  assert.equal(seen[2].content, "echo: yo ");
  assert.deepEqual(seen[4], { type: "close", code: 4000, reason: "bye" });
  assert.deepEqual(pongs, [chatId + 1]);
  // A loop over a closed socket ends at once.
  for await (const ev of socket) assert.fail(`no event after close: ${JSON.stringify(ev)}`);
});

test("connectWebSocket: an open socket nobody listens to lets the process exit; close ends a listening one", async () => {
  const slug = `wsexit-${uid()}`;
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const script = `
    import { AerostackClient } from "aerostack";
    const c = new AerostackClient({ projectId: ${JSON.stringify(p.projectId)}, apiKey: ${JSON.stringify(p.apiKey)}, baseUrl: ${JSON.stringify(p.apiUrl)}, ignoreEnv: true });
    await c.request("POST", "/local/gateway/apis", { slug: ${JSON.stringify(slug)} });
    const { key } = await c.request("POST", "/local/gateway/keys", { api_slug: ${JSON.stringify(slug)}, credits: 100 });
    const idle = await c.gateway.connectWebSocket(${JSON.stringify(slug)}, { consumerKey: key });
    const s = await c.gateway.connectWebSocket(${JSON.stringify(slug)}, { consumerKey: key });
    s.on("token", () => {});
    s.on("close", (ev) => console.log("closed", ev.code));
    console.log((await s.chat([{ role: "user", content: "x" }])).content.trim());
    setTimeout(() => s.close(), 100);
  `;
  // Not spawnSync: the stand-in upstream answers on this process's event loop.
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: pkg, env: { ...process.env, AEROSTACK_LOG: "", DEBUG: "" } });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const killer = setTimeout(() => child.kill(), 30_000);
  const code = await new Promise((resolve) => child.on("exit", resolve));
  clearTimeout(killer);
  assert.equal(code, 0, `the process did not exit by itself: ${err}`);
  assert.deepEqual(out.trim().split("\n"), ["echo: x", "closed 1000"]);
});
