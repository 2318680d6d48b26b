// Every method of AerostackClient against the in-process local platform.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";

import { AerostackClient, NotFoundError, ServerError, ValidationError } from "aerostack";
import { otpCode, startPlatform, tokenIn, uid } from "./helpers.mjs";

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

test("auth: register, login, tokens, profile, verification, OTP, password reset, logout", async () => {
  const id = uid();
  const email = `ann-${id}@example.com`;
  const reg = await client.auth.register(email, "securePassword123", "Ann", { plan: "pro" });
  assert.ok(reg.accessToken && reg.refreshToken);
  assert.equal(reg.user.email, email);
  assert.equal(reg.user.name, "Ann");
  const login = await client.auth.login(email, "securePassword123");
  const token = login.accessToken;
  const user = await client.auth.verifyToken(token);
  assert.equal(user.id, login.user.id);
  assert.equal(await client.auth.verifyToken("not-a-token"), null);
  assert.equal((await client.auth.getCurrentUser(token)).email, email);
  assert.equal((await client.auth.updateProfile(token, { name: "Ann B" })).name, "Ann B");
  assert.equal((await client.auth.deleteAvatar(token)).success, true);
  const refreshed = await client.auth.refreshToken(login.refreshToken);
  assert.ok(refreshed.accessToken);
  assert.notEqual(refreshed.refreshToken, login.refreshToken);
  await client.auth.resendVerificationEmail(email);
  const vtoken = tokenIn(await client.local.outbox(email, 1));
  assert.equal((await client.auth.verifyEmail(vtoken)).success, true);
  await client.auth.sendOTP(email, "email");
  const code = otpCode(await client.local.outbox(email, 1));
  assert.ok((await client.auth.verifyOTP(code, email, "email")).accessToken);
  await client.auth.requestPasswordReset(email);
  const rtoken = tokenIn(await client.local.outbox(email, 1));
  assert.equal((await client.auth.resetPassword(rtoken, "newPassword456!")).success, true);
  const again = await client.auth.login(email, "newPassword456!");
  assert.equal((await client.auth.logout(again.accessToken, again.refreshToken)).success, true);
  assert.equal(await client.auth.verifyToken(again.accessToken), null);
  // the Python SDK's names are the same calls
  assert.equal((await client.auth.me(refreshed.accessToken)).email, email);
});

test("db: query, queryOne, batch (all or nothing)", async () => {
  const t = `t_${uid()}`;
  await client.db.query(`CREATE TABLE ${t} (id TEXT PRIMARY KEY, n INTEGER, name TEXT)`);
  const ins = await client.db.query(`INSERT INTO ${t} (id, n, name) VALUES (?, ?, ?) RETURNING *`, ["a", 1, "x"]);
  assert.equal(ins.results[0].id, "a");
  const res = await client.db.batch([
    { sql: `INSERT INTO ${t} (id, n, name) VALUES (?, ?, ?)`, params: ["b", 2, "y"] },
    [`UPDATE ${t} SET n = n + 10 WHERE id = ?`, ["a"]],
  ]);
  assert.equal(res.success, true);
  assert.equal(res.results.length, 2);
  const rows = await client.db.query(`SELECT * FROM ${t} ORDER BY id`);
  assert.deepEqual(rows.results.map((r) => r.id), ["a", "b"]);
  assert.equal(rows.count, 2);
  assert.equal(rows.results[0].n, 11);
  assert.deepEqual(await client.db.queryOne(`SELECT name FROM ${t} WHERE id = ?`, ["b"]), { name: "y" });
  assert.equal(await client.db.queryOne(`SELECT * FROM ${t} WHERE id = ?`, ["zz"]), null);
  await assert.rejects(client.db.batch([`INSERT INTO ${t} (id) VALUES ('c')`, "INSERT INTO nope VALUES (1)"]), (e) => e instanceof ValidationError && e.code === "DB_QUERY_FAILED");
  assert.equal((await client.db.query(`SELECT * FROM ${t}`)).count, 2);
});

test("db.collection: the official SDK's calls, pages, filters, listAll and item events", async () => {
  const posts = client.db.collection(`posts-${uid()}`);
  const first = await posts.create({ title: "Hello", slug: "hello", user_id: "u1" });
  assert.match(first.id, /^item_/);
  assert.equal(first.slug, "hello");
  assert.ok(first.createdAt instanceof Date);
  assert.deepEqual(first.data, { title: "Hello", slug: "hello", user_id: "u1" }); // the data is the user's
  assert.deepEqual(await posts.get(first.id), first);
  for (let i = 0; i < 4; i++) await posts.create({ title: `p${i}`, draft: i % 2 === 0 });
  const page = await posts.list({ limit: 2 });
  assert.deepEqual(page.items.map((i) => i.data.title), ["Hello", "p0"]);
  assert.ok(page.cursor);
  // The official SDK passes filters as plain list parameters.
  assert.deepEqual((await posts.list({ draft: true, order: "desc" })).items.map((i) => i.data.title), ["p2", "p0"]);
  assert.deepEqual((await posts.list({ filter: { draft: false } })).items.map((i) => i.data.title), ["p1", "p3"]);
  const all = [];
  for await (const item of posts.listAll({ pageSize: 2 })) all.push(item.data.title);
  assert.deepEqual(all, ["Hello", "p0", "p1", "p2", "p3"]);
  const updated = await posts.update(first.id, { title: "Hello again" });
  assert.deepEqual(updated.data, { title: "Hello again" });
  assert.equal(await posts.delete(first.id), true);
  assert.equal(await posts.delete(first.id), false);
  assert.equal(await posts.get(first.id), null);
  await assert.rejects(posts.update(first.id, {}), NotFoundError);
  await assert.rejects(client.db.collection("bad name").create({}), (e) => e instanceof ValidationError && e.field === "collection");

  const seen = [];
  const rtClient = p.client();
  const ch = await rtClient.db.collection(posts.name).on("INSERT", (e) => seen.push(e));
  const made = await posts.create({ title: "live" });
  const deadline = Date.now() + 5000;
  while (!seen.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(seen[0]?.data?.id, made.id);
  await ch.unsubscribe();
  await rtClient.close();
});

test("storage: private objects are served only through signed URLs", async () => {
  const key = `private/${uid()}.txt`;
  const up = await client.storage.upload(Buffer.from("hidden"), { path: key, public: false });
  assert.equal(up.public, false);
  assert.equal((await fetch(up.url.split("?")[0])).status, 403);
  const signed = await client.storage.getUrl(key, { expiresIn: 60 });
  assert.equal(await (await fetch(signed)).text(), "hidden");
  assert.equal((await client.storage.metadata(key)).public, false);
  await assert.rejects(client.storage.getUrl(key, { expiresIn: 8 * 24 * 3600 }), (e) => e instanceof ValidationError && e.field === "expires_in");
});

test("cache: every operation", async () => {
  const id = uid();
  const k = `user:${id}`;
  await client.cache.set(k, { name: "Jane", tags: [1, 2] }, 300);
  assert.deepEqual(await client.cache.get(k), { name: "Jane", tags: [1, 2] });
  assert.equal(await client.cache.has(k), true);
  assert.equal(await client.cache.exists(k), true);
  assert.equal(await client.cache.get(`missing:${id}`), null);
  assert.equal(await client.cache.expire(k, 100), true);
  assert.equal(await client.cache.delete(k), true);
  assert.equal(await client.cache.has(k), false);
  assert.equal(await client.cache.setMany({ [`m:${id}:1`]: 1, [`m:${id}:2`]: "two" }, 60), 2);
  assert.deepEqual(await client.cache.getMany([`m:${id}:1`, `m:${id}:2`, `m:${id}:3`]), { [`m:${id}:1`]: 1, [`m:${id}:2`]: "two" });
  assert.deepEqual((await client.cache.keys(`m:${id}:`)).sort(), [`m:${id}:1`, `m:${id}:2`]);
  const page = await client.cache.list(`m:${id}:`, 10);
  assert.deepEqual(new Set(page.keys.map((e) => e.key)), new Set([`m:${id}:1`, `m:${id}:2`]));
  const all = [];
  for await (const e of client.cache.listAll(`m:${id}:`, 1)) all.push(e.key);
  assert.deepEqual(all.sort(), [`m:${id}:1`, `m:${id}:2`]);
  assert.equal(await client.cache.increment(`c:${id}`), 1);
  assert.equal(await client.cache.increment(`c:${id}`, 5), 6);
  assert.equal(await client.cache.increment(`c2:${id}`, -1, 10), 9);
  assert.equal((await client.cache.deleteMany([`m:${id}:1`, `nope:${id}`])).deleted, 1);
  assert.ok((await client.cache.flush(`c`)) >= 2);
});

test("storage: Buffer, file path, stream and Blob uploads with progress; every other operation", async () => {
  const id = uid();
  const data = Buffer.from(`\x89PNG fake image ${id}`);
  const res = await client.storage.upload(data, { path: `avatars/${id}.jpg`, contentType: "image/jpeg" });
  assert.ok(res.url.endsWith(`avatars/${id}.jpg`));
  assert.equal(res.key, `avatars/${id}.jpg`);
  const got = await client.storage.get(`avatars/${id}.jpg`);
  assert.ok(got.data.equals(data));
  assert.equal(got.contentType, "image/jpeg");
  assert.equal(await client.storage.exists(`avatars/${id}.jpg`), true);
  const meta = await client.storage.metadata(`avatars/${id}.jpg`);
  assert.equal(meta.size, data.length);
  assert.equal(meta.contentType, "image/jpeg");
  assert.equal(await client.storage.getUrl(`avatars/${id}.jpg`), res.url);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aerostack-node-"));
  const local = path.join(dir, "doc.txt");
  fs.writeFileSync(local, Buffer.alloc(1 << 20, "a"));
  const progress = [];
  const r2 = await client.storage.upload(local, { path: `docs/${id}.txt`, contentType: "text/plain", onProgress: (s, t) => progress.push([s, t]) });
  assert.equal(r2.size, 1 << 20);
  assert.ok(progress.length >= 1);
  assert.deepEqual(progress.at(-1), [1 << 20, 1 << 20]);
  assert.ok(progress.every((x, i) => i === 0 || x[0] >= progress[i - 1][0]), "progress never goes back");
  const r3 = await client.storage.upload(Readable.from([Buffer.from("from "), Buffer.from("a stream")]), { key: `docs/${id}-obj.txt` });
  assert.equal((await client.storage.get(r3.key)).data.toString(), "from a stream");
  const r4 = await client.storage.upload(new Blob(["from a blob"]), { path: `docs/${id}-blob.txt` });
  assert.equal(r4.size, 11);
  // A stream goes chunk by chunk (never whole in memory): 4 MiB from a generator, with progress.
  async function* chunks() {
    for (let i = 0; i < 64; i++) yield Buffer.alloc(65536, i % 256);
  }
  const sent = [];
  const r5 = await client.storage.upload(Readable.from(chunks()), { path: `streams/${id}.bin`, onProgress: (s) => sent.push(s) });
  assert.equal(r5.size, 64 * 65536);
  assert.equal(sent.at(-1), 64 * 65536);
  const back = (await client.storage.get(`streams/${id}.bin`)).data;
  assert.equal(back.length, 64 * 65536);
  assert.equal(back[65536 * 3], 3);
  // A source that fails mid-way fails the upload with its message, and nothing is stored.
  async function* broken() {
    yield Buffer.from("part");
    throw new Error("disk on fire");
  }
  await assert.rejects(client.storage.upload(Readable.from(broken()), { path: `streams/${id}-broken.bin` }), (e) => /disk on fire/.test(String(e.message)));
  assert.equal(await client.storage.exists(`streams/${id}-broken.bin`), false);
  assert.ok((await client.storage.copy(`docs/${id}.txt`, `docs/${id}-copy.txt`)).endsWith(`docs/${id}-copy.txt`));
  await client.storage.move(`docs/${id}-copy.txt`, `docs/${id}-moved.txt`);
  assert.equal(await client.storage.exists(`docs/${id}-copy.txt`), false);
  const listing = await client.storage.list(`docs/${id}`);
  assert.deepEqual(new Set(listing.objects.map((o) => o.key)), new Set([`docs/${id}.txt`, `docs/${id}-obj.txt`, `docs/${id}-blob.txt`, `docs/${id}-moved.txt`]));
  const every = [];
  for await (const o of client.storage.listAll(`docs/${id}`, 2)) every.push(o.key);
  assert.equal(every.length, 4);
  assert.equal(await client.storage.delete(`docs/${id}.txt`), true);
  assert.equal(await client.storage.metadata(`docs/${id}.txt`), null);
  await assert.rejects(client.storage.get(`docs/${id}.txt`), (e) => e instanceof NotFoundError && e.status === 404 && Boolean(e.requestId));
  await assert.rejects(client.storage.upload(path.join(dir, "missing.bin"), { path: "x" }), (e) => e instanceof ValidationError && e.field === "file");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("ai: embed, search, and chat/complete/chatStream without an upstream say so", async () => {
  const id = uid();
  const vector = await client.ai.embed("text to embed");
  assert.equal(vector.length, 384);
  const s = client.ai.search;
  assert.equal((await s.ingest("How do I reset my password?", `faq${id}`, `d1-${id}`, { lang: "en" })).success, true);
  await s.ingest("Shipping takes three days", `faq${id}`, `d2-${id}`);
  const hits = await s.query("reset password", 1, [`faq${id}`]);
  assert.equal(hits[0].id, `d1-${id}`);
  assert.ok((await s.get(`d1-${id}`)).content.startsWith("How do I"));
  await s.update(`d2-${id}`, "Shipping takes two days");
  assert.equal(await s.count(`faq${id}`), 2);
  assert.ok((await s.listTypes()).some((t) => t.type === `faq${id}`));
  assert.equal(await s.delete(`d1-${id}`), true);
  assert.equal(await s.get(`d1-${id}`), null);
  assert.equal(await s.deleteByType(`faq${id}`), true);
  assert.equal(await s.configure("english"), true);
  const noRetry = client.withOptions({ retry: false });
  await assert.rejects(noRetry.ai.complete("Summarize this.", { model: "gpt-4o-mini", maxTokens: 256, temperature: 0.7 }), (e) => e instanceof ServerError && e.code === "AI_NOT_CONFIGURED" && e.status === 503);
  await assert.rejects(noRetry.ai.chat([{ role: "user", content: "Hi" }]), ServerError);
  await assert.rejects(client.ai.chat("@cf/meta/llama-3-8b-instruct", [{ role: "user", content: "Hi" }], { retry: false }), (e) => e.code === "AI_NOT_CONFIGURED");
  await assert.rejects(noRetry.ai.chatStream([{ role: "user", content: "Hi" }]).toArray(), (e) => e.code === "AI_NOT_CONFIGURED");
});

test("queue, secrets, services, custom APIs, raw requests, socket.emit, local helpers", async () => {
  const id = uid();
  const sent = await client.queue.send("send-welcome-email", { userId: id }, 3600, 3);
  const job = await client.queue.job(sent.jobId);
  assert.equal(job.type, "send-welcome-email");
  assert.deepEqual(job.data, { userId: id });
  const e = await client.queue.enqueue("report", { n: 1 }, 3600);
  assert.ok((await client.queue.jobs(undefined, "report", 50)).jobs.some((j) => j.id === e.jobId));
  const every = [];
  for await (const j of client.queue.jobsAll(undefined, "report", 1)) every.push(j.id);
  assert.ok(every.includes(e.jobId));
  assert.equal((await client.queue.cancel(e.jobId)).success, true);
  assert.equal((await client.queue.getJob(e.jobId)).status, "cancelled");
  assert.equal(await client.queue.job("job_does_not_exist"), null);
  await client.secrets.set(`KEY_${id}`, "s3cret");
  assert.equal(await client.secrets.get(`KEY_${id}`), "s3cret");
  assert.equal(await client.secrets.get(`MISSING_${id}`), null);
  assert.ok((await client.secrets.list()).includes(`KEY_${id}`));
  await assert.rejects(client.services.invoke("billing", { x: 1 }, { retry: false }), (err) => err instanceof ServerError && err.code === "WORKER_NOT_CONNECTED");
  await assert.rejects(client.call("hello", { name: "x" }, "POST", { retry: false }), (err) => err.code === "WORKER_NOT_CONNECTED");
  assert.equal((await client.request("POST", "/cache/get", { key: `none:${id}` })).exists, false);
  const emitted = await client.socket.emit("news", { n: 1 }, `room-${id}`, { persist: true });
  assert.ok(emitted.id);
  const workers = await client.local.workers();
  assert.equal(workers.workers, 0);
  await assert.rejects(client.local.waitServed("nothing-serves-this", 100), (err) => err.family === "timeout");
});

test("a second project is isolated; clients read AEROSTACK_* unless ignoreEnv", async () => {
  const other = await p.createProject(`other-${uid()}`);
  const c2 = new AerostackClient({ projectId: other.id, apiKey: other.apiKey, baseUrl: p.apiUrl });
  const k = `iso:${uid()}`;
  await client.cache.set(k, 1);
  assert.equal(await c2.cache.get(k), null);
  assert.throws(() => new AerostackClient({ apiKey: "k", bogus: 1 }), (e) => e instanceof ValidationError && e.field === "bogus");
});
