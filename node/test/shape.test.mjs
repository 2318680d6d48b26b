// Results in JavaScript's shapes (src/shape.ts): every time the SDK reports is a Date, every key it
// owns is camelCase, and the user's own data (rows, cached values, payloads, message data,
// tracked state, custom fields) comes back exactly as stored, whatever its keys are called.
// The SDK face (@aerostack/sdk-node) keeps the wire's shapes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { AerostackClient, SDK } from "aerostack";
import { serve } from "aerostack/hooks";
import { startPlatform, uid, sleep } from "./helpers.mjs";

let p;
let client;
before(async () => {
  p = await startPlatform();
  client = p.client();
});
after(async () => {
  await client.close();
  await p.stop();
});

const TEXT = "2026-01-02T03:04:05.678Z";
/** User data whose keys no SDK may rename. */
const weird = () => ({ "Weird-Key": 1, created_at: TEXT, user_id: "u", camelKey: { "Nested Key": [{ "x-y": true }] } });

const isDate = (v) => v instanceof Date && !Number.isNaN(v.getTime());
const recent = (v) => isDate(v) && Math.abs(Date.now() - v.getTime()) < 2 * 3600_000;

/** Every key outside the user's data is camelCase (no `_`), checked recursively. */
function camelOnly(v, where, skip = []) {
  if (Array.isArray(v)) return v.forEach((x, i) => camelOnly(x, `${where}[${i}]`, skip));
  if (v === null || typeof v !== "object" || v instanceof Date) return;
  for (const [k, x] of Object.entries(v)) {
    assert.ok(!k.includes("_"), `${where}.${k} is not camelCase`);
    if (!skip.includes(k)) camelOnly(x, `${where}.${k}`, skip);
  }
}

test("auth: a session and its user in camelCase, times as Date, custom fields as stored", async () => {
  const email = `shape-${uid()}@example.com`;
  const s = await client.auth.register(email, "Sup3rSecret", "T", weird());
  assert.ok(s.accessToken && s.refreshToken && s.requiresVerification === false, JSON.stringify(s));
  assert.ok(recent(s.user.createdAt) && isDate(s.expiresAt) && s.expiresAt > new Date());
  assert.deepEqual(s.user.customFields, weird());
  assert.equal(s.user.emailVerified, false);
  assert.ok("emailVerifiedAt" in s.user && !("email_verified_at" in s.user));
  camelOnly(s, "session", ["customFields", "metadata"]);
  const me = await client.auth.getCurrentUser(s.accessToken);
  assert.ok(recent(me.createdAt));
  assert.deepEqual(me.customFields, weird());
  const outbox = await client.local.outbox(email);
  assert.ok(outbox.length && outbox.every((m) => recent(m.createdAt)));
});

test("db rows, cache values and job payloads are the user's: never renamed, never converted", async () => {
  const rows = await client.db.query(`SELECT '${TEXT}' AS created_at, 1 AS user_id, 2 AS "Weird-Key"`);
  assert.deepEqual(rows.results, [{ created_at: TEXT, user_id: 1, "Weird-Key": 2 }]);
  assert.deepEqual(await client.db.queryOne(`SELECT 3 AS last_error`), { last_error: 3 });
  camelOnly(rows.meta, "meta");
  const batch = await client.db.batch([`SELECT 1 AS "Weird-Key"`]);
  assert.deepEqual(batch.results[0].results, [{ "Weird-Key": 1 }]);

  const key = `shape:${uid()}`;
  await client.cache.set(key, weird(), 600);
  assert.deepEqual(await client.cache.get(key), weird());
  assert.deepEqual(await client.cache.getMany([key]), { [key]: weird() });
  const page = await client.cache.list(key);
  assert.equal(page.listComplete, true);
  assert.ok(isDate(page.keys[0].expiration) && page.keys[0].expiration > new Date());
  const all = await client.cache.listAll(key).toArray();
  assert.ok(isDate(all[0].expiration));

  const type = `shape-${uid()}`;
  const { jobId } = await client.queue.send(type, weird(), 3600);
  const rec = await client.queue.job(jobId);
  assert.ok(recent(rec.createdAt) && recent(rec.updatedAt) && isDate(rec.runAt));
  assert.ok(rec.runAt - rec.createdAt > 59 * 60_000);
  assert.deepEqual(rec.data, weird());
  assert.equal(rec.maxRetries, 3);
  assert.ok("lastError" in rec && "projectId" in rec);
  camelOnly(rec, "job", ["data", "result"]);
  const jobs = await client.queue.jobs(undefined, type);
  assert.ok(recent(jobs.jobs[0].createdAt) && jobs.listComplete === true);
  const streamed = await client.queue.jobsAll(undefined, type).toArray();
  assert.ok(recent(streamed[0].createdAt) && streamed[0].data.created_at === TEXT);
});

test("storage: descriptions carry lastModified as Date", async () => {
  const key = `shape/${uid()}.txt`;
  const up = await client.storage.upload(Buffer.from("x"), { path: key, contentType: "text/plain" });
  assert.equal(up.contentType, "text/plain");
  assert.ok(recent((await client.storage.metadata(key)).lastModified));
  const page = await client.storage.list("shape/");
  assert.ok(page.objects.every((o) => recent(o.lastModified)));
  const all = await client.storage.listAll("shape/").toArray();
  assert.ok(all.length && all.every((o) => recent(o.lastModified)));
});

test("search metadata is the user's", async () => {
  const type = `shape-${uid()}`;
  await client.ai.search.ingest("Refunds are accepted within 30 days", type, `d-${type}`, weird());
  const found = await client.ai.search.query("refunds", 1, [type]);
  assert.deepEqual(found[0].metadata, weird());
  assert.deepEqual((await client.ai.search.get(`d-${type}`)).metadata, weird());
});

test("realtime: events, acks, presence and history carry Dates; data and state as sent; getHistory pages by Date", async () => {
  const a = p.client();
  const b = p.client();
  const name = `times/${uid()}`;
  const got = [];
  const sub = b.realtime.channel(name);
  sub.on("*", (e) => got.push(e));
  await sub.subscribe();
  const pub = a.realtime.channel(name);
  await pub.subscribe();
  await pub.track(weird());
  const acks = [];
  for (let n = 0; n < 3; n++) {
    acks.push(await pub.publish("note", { n, ...weird() }, { persist: true }));
    await sleep(5); // a ms apart: `before` pages by the millisecond
  }
  assert.ok(acks.every((x) => recent(x.timestamp)));
  for (let i = 0; i < 200 && !(got.filter((e) => e.event === "note").length === 3 && got.some((e) => e.kind === "presence")); i++) await sleep(25);
  const notes = got.filter((e) => e.event === "note");
  assert.deepEqual(notes.map((e) => e.data.n), [0, 1, 2]);
  assert.ok(notes.every((e) => recent(e.timestamp)));
  assert.equal(notes[0].data.created_at, TEXT); // the message's data is the user's
  assert.deepEqual(notes[0].data.camelKey, weird().camelKey);
  camelOnly(notes[0], "event", ["data"]);
  const join = got.find((e) => e.event === "presence:join");
  assert.ok(join && recent(join.data.joinedAt), JSON.stringify(got));
  assert.deepEqual(join.data.state, weird()); // tracked state: as tracked
  assert.ok(sub.presence().every((x) => recent(x.joinedAt) && x.state["Weird-Key"] === 1));

  const history = await sub.getHistory(10);
  assert.deepEqual(history.map((m) => m.data.n), [2, 1, 0]);
  assert.ok(history.every((m) => recent(m.createdAt) && m.data.user_id === "u"));
  const older = await sub.getHistory(10, history[0].createdAt); // a Date pages back
  assert.deepEqual(older.map((m) => m.data.n), [1, 0]);
  const byMs = await sub.getHistory(10, history[0].createdAt.getTime());
  assert.deepEqual(byMs.map((m) => m.data.n), [1, 0]);
  await assert.rejects(sub.getHistory(10, "yesterday"), (e) => e.code === "VALIDATION_ERROR" && /before.*Date/.test(e.message));
  const emitted = await a.socket.emit("note", { n: 9 }, name);
  assert.ok(recent(emitted.timestamp));
  await a.close();
  await b.close();
});

test("a handler's event: camelCase, timestamp as Date, data/query/headers as sent, seed 000's project_id", async () => {
  const slug = `shape-${uid()}`;
  const type = `shape-job-${uid()}`;
  let jobEvent;
  const w = await serve({
    apiKey: p.apiKey,
    baseUrl: p.apiUrl,
    modules: {
      [slug]: async (sdk, event) => ({
        keys: Object.keys(event).sort(),
        date: event.timestamp instanceof Date,
        same: event.project_id === event.projectId && event.projectId === sdk.projectId,
        data: event.data,
      }),
    },
    jobs: { [type]: async (sdk, job) => { jobEvent = job; return weird(); } },
  });
  try {
    await client.local.waitServed(slug);
    const r = await client.call(slug, weird());
    assert.deepEqual(r.keys, ["data", "event", "headers", "method", "projectId", "query", "slug", "timestamp"]);
    assert.equal(r.date, true);
    assert.equal(r.same, true);
    assert.deepEqual(r.data, weird()); // the caller's body, and the module's answer, as sent
    const { jobId } = await client.queue.send(type, weird());
    const done = await client.queue.wait(jobId, 10_000);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.result, weird());
    assert.ok(recent(jobEvent.createdAt) && jobEvent.maxRetries === 3 && jobEvent.data.user_id === "u");
    assert.ok(done.history.every((h) => isDate(h.startedAt)));
  } finally {
    await w.stop();
  }
});

test("the SDK face keeps the wire's shapes", async () => {
  const sdk = new SDK({ apiKeyAuth: p.apiKey, serverURL: p.apiUrl });
  const key = `wire-${uid()}`;
  await sdk.cache.set(key, 1, 60);
  const page = await sdk.cache.list(key);
  assert.equal(page.list_complete, true);
  assert.equal(typeof page.keys[0].expiration, "string");
  const q = await sdk.queue.queueEnqueue({ requestBody: { type: "wire", data: { a: 1 } } });
  assert.ok(q.jobId);
  const up = await sdk.storage.storageUpload({ requestBody: { key: `${key}.txt`, file: Buffer.from("x"), contentType: "text/plain" } });
  assert.equal(up.content_type, "text/plain");
});

test("withOptions clients and scoped clients shape the same way", async () => {
  const c = client.withOptions({ timeoutMs: 5000 });
  const { jobId } = await c.queue.send(`shape-${uid()}`, {}, 3600);
  assert.ok(recent((await c.queue.job(jobId)).createdAt));
  assert.ok(new AerostackClient({ baseUrl: p.apiUrl, apiKey: p.apiKey, projectId: p.projectId, ignoreEnv: true }));
});
