// Realtime against the in-process platform: seed 001's snippet, for-await, presence, history,
// and reconnecting after a platform restart with persisted messages caught up.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";

import { AerostackClient, RealtimeClient } from "aerostack";
import { startPlatform, uid, sleep } from "./helpers.mjs";

async function until(pred, what, ms = 10_000) {
  const deadline = performance.now() + ms;
  while (!(await pred())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let p;
before(async () => (p = await startPlatform()));
after(() => p.stop());

test("seed 001's realtime snippet: table changes, publish, presence, socket.emit, history", async () => {
  const id = uid();
  const client = p.client();
  const other = p.client();
  const orders = `orders_${id}`;
  const orderId = `o-${id}`;
  await client.db.query(`CREATE TABLE ${orders} (id TEXT PRIMARY KEY, total REAL)`);
  const room = other.realtime.channel(`orders/${orderId}`);
  const emitted = [];
  room.on("order:updated", (e) => emitted.push(e));
  const peer = other.realtime.channel(orders);
  const notes = [];
  const joins = [];
  peer.on("notification", (e) => notes.push(e)).on("presence:join", (e) => joins.push(e));
  await room.subscribe();
  await peer.subscribe();

  const changes = [];
  const channel = client.realtime.channel(orders);
  channel.on("INSERT", async (payload) => changes.push(payload));
  channel.on("UPDATE", async (payload) => changes.push(payload));
  await channel.subscribe();
  await channel.publish("notification", { text: "New order received" });
  await channel.track({ userId: "123", name: "Bot", status: "online" });
  await client.socket.emit("order:updated", { id: orderId }, `orders/${orderId}`);
  assert.ok(Array.isArray(await channel.getHistory(50)));

  await client.db.query(`INSERT INTO ${orders} (id, total) VALUES (?, ?)`, [orderId, 9.5]);
  await client.db.query(`UPDATE ${orders} SET total = ? WHERE id = ?`, [12.0, orderId]);
  await until(() => changes.length >= 2, "INSERT and UPDATE");
  const [ins, upd] = changes;
  assert.deepEqual([ins.event, ins.data.id, ins.data.total], ["INSERT", orderId, 9.5]);
  assert.equal(ins.topic, channel.topic);
  assert.equal(channel.topic, `table/${orders}/${p.projectId}`);
  assert.equal(ins.kind, "db_change");
  assert.deepEqual([upd.event, upd.data.total, upd.old.total], ["UPDATE", 12.0, 9.5]);
  await until(() => notes.length && emitted.length && joins.length, "publish, emit and presence");
  assert.equal(notes[0].data.text, "New order received");
  assert.deepEqual(emitted[0].data, { id: orderId });
  assert.deepEqual(joins.at(-1).data.state, { userId: "123", name: "Bot", status: "online" });
  await until(() => peer.presence().some((x) => x.state?.name === "Bot"), "merged presence");
  await client.close();
  await other.close();
});

test("for await over a channel, persisted publish and history, untrack, unsubscribe", async () => {
  const id = uid();
  const a = p.client();
  const b = p.client();
  const sub = b.realtime.channel(`chat/${id}`);
  await sub.subscribe();
  const pub = a.realtime.channel(`chat/${id}`);
  await pub.subscribe();
  const seen = [];
  const reading = (async () => {
    for await (const ev of sub) {
      if (ev.event !== "msg") continue;
      seen.push(ev.data.n);
      if (seen.length === 3) break;
    }
  })();
  for (const n of [1, 2, 3]) {
    const ack = await pub.publish("msg", { n }, { persist: true });
    assert.ok(ack.id && ack.persisted);
  }
  await reading;
  assert.deepEqual(seen, [1, 2, 3]);
  const history = await sub.getHistory(10);
  assert.deepEqual(history.map((m) => m.data.n), [3, 2, 1], "newest first");
  const older = await sub.getHistory(10, history[0].createdAt);
  assert.ok(older.every((m) => m.data.n < 3));
  // an iterator with a timeout ends by itself
  const quiet = [];
  for await (const ev of sub.events("nothing-here", 100)) quiet.push(ev);
  assert.deepEqual(quiet, []);
  await pub.track({ name: "a" });
  await until(() => sub.presence().length === 1, "presence");
  await pub.untrack();
  await until(() => sub.presence().length === 0, "presence leave");
  await sub.unsubscribe();
  await a.close();
  await b.close();
});

test("reconnect after a platform restart; a persisted message sent while away is caught up", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aerostack-rt-"));
  const first = await startPlatform({ dataDir: dir });
  const port = Number(new URL(first.url).port);
  const fast = { backoffInitialMs: 50, backoffMaxMs: 300, heartbeatIntervalMs: 1000, pongTimeoutMs: 1000 };
  const a = first.client();
  const b = first.client();
  a.realtime.configure(fast);
  b.realtime.configure(fast);
  const statuses = [];
  b.realtime.onStatus((ev) => statuses.push(ev.status));
  const id = uid();
  const sub = b.realtime.channel(`chat/${id}`);
  const got = [];
  sub.on("msg", (e) => got.push(e));
  await sub.subscribe();
  const pub = a.realtime.channel(`chat/${id}`);
  await pub.publish("msg", { n: 1 }, { persist: true });
  await until(() => got.length === 1, "the first message");

  await first.stop();
  await until(() => statuses.includes("reconnecting"), "the lost connection");
  const second = await startPlatform({ dataDir: dir, port });
  try {
    assert.equal(second.apiKey, first.apiKey, "the same project from the same data directory");
    await until(() => sub.isSubscribed, "the re-subscription");
    await pub.publish("msg", { n: 2 }, { persist: true });
    await until(() => got.length === 2, "a message after the restart");
    assert.deepEqual(got.map((e) => e.data.n), [1, 2]);
    assert.equal(statuses.at(-1), "connected");
    await b.realtime.disconnect();
    assert.equal(b.realtime.status, "disconnected");
    await pub.publish("msg", { n: 3 }, { persist: true });
    await b.realtime.connect();
    await until(() => got.length === 3, "the missed message");
    assert.equal(got[2].data.n, 3);
    assert.equal(got[2].replayed, true);
  } finally {
    await a.close();
    await b.close();
    await second.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("setAuth: a user's token before the first channel, and in-band afterwards", async () => {
  const client = p.client();
  const email = `rt-${uid()}@example.com`;
  const session = await client.auth.register(email, "securePassword123");
  client.setAuth(session.accessToken, session.user.id);
  const ch = client.realtime.channel(`chat/${uid()}`);
  await ch.subscribe();
  const ack = await ch.publish("hello", { n: 1 }, { persist: true });
  assert.ok(ack.id);
  client.setAuth(session.accessToken);
  assert.equal(client.realtime.status, "connected");
  await client.close();
});

test("the official RealtimeClient names: sendChat and chatRoom, onStatusChange, onMaxRetriesExceeded", async () => {
  const client = p.client();
  const room = `lobby-${uid()}`;
  const statuses = [];
  const off = client.realtime.onStatusChange((s) => statuses.push(s));
  const got = [];
  const ch = client.realtime.chatRoom(room);
  ch.on("message", (e) => got.push(e));
  await ch.subscribe();
  client.realtime.sendChat(room, "hello", { lang: "en" });
  await until(() => got.length === 1, "the chat message");
  assert.equal(got[0].topic.startsWith(`chat/${room}`), true);
  assert.equal(JSON.stringify(got[0].data).includes("hello"), true, JSON.stringify(got[0].data));
  assert.ok(statuses.includes("connected"), String(statuses));
  off();
  assert.throws(() => client.realtime.sendChat(" ", "x"), (e) => e.field === "room_id" || e.field === "roomId");
  await client.close();

  // Nothing listens on this port: one failed reconnect, then the connection gives up.
  const lost = new AerostackClient({ projectId: p.projectId, apiKey: p.apiKey, baseUrl: "http://127.0.0.1:9/v1", ignoreEnv: true });
  lost.realtime.configure({ maxReconnectAttempts: 1 });
  let gaveUp = 0;
  lost.realtime.onMaxRetriesExceeded(() => gaveUp++);
  lost.realtime.channel(`x-${uid()}/y`);
  await until(() => gaveUp === 1, "onMaxRetriesExceeded", 15_000);
  await lost.close();
});

test("a channel filter picks the rows; the standalone RealtimeClient", async () => {
  const client = p.client();
  const tasks = `tasks_${uid()}`;
  await client.db.query(`CREATE TABLE ${tasks} (id INTEGER PRIMARY KEY, title TEXT, done INTEGER)`);
  // The official standalone client: its own connection, the same channels.
  const rt = new RealtimeClient({ baseUrl: p.apiUrl, projectId: p.projectId, apiKey: p.apiKey, maxReconnectAttempts: 3 });
  const seen = [];
  const ch = rt.channel(tasks, { filter: { done: 1 } });
  ch.on("INSERT", (e) => seen.push(e.data.title));
  await ch.subscribe();
  await client.db.query(`INSERT INTO ${tasks} (title, done) VALUES ('open', 0), ('finished', 1)`);
  await until(() => seen.length === 1, "the filtered INSERT");
  // The string form replaces the filter on the same channel object.
  assert.equal(rt.channel(tasks, { filter: "title=eq.second" }), ch);
  await ch.subscribe();
  await client.db.query(`INSERT INTO ${tasks} (title, done) VALUES ('other', 1), ('second', 0)`);
  await until(() => seen.length === 2, "the second filtered INSERT");
  assert.deepEqual(seen, ["finished", "second"]);
  assert.throws(() => rt.channel(tasks, { filter: [1] }), (e) => e.code === "VALIDATION_ERROR" && e.field === "filter");
  await assert.rejects(rt.channel(tasks, { filter: { nope: 1 } }).subscribe(), (e) => e.code === "VALIDATION_ERROR" && /nope/.test(e.message));
  await rt.close();
  await client.close();
});
