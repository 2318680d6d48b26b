// The SDK face of @aerostack/sdk-node: every generated operation, the CacheFacade, errors.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { SDK, createClient, FetchError, ResponseError, ServerError, ValidationError, RequiredError } from "aerostack";
import { startPlatform, uid } from "./helpers.mjs";

let p;
let sdk;
before(async () => {
  p = await startPlatform();
  sdk = new SDK({ apiKeyAuth: p.apiKey, serverURL: p.apiUrl });
});
after(() => p.stop());

test("every generated operation, with { requestBody } and with the generator's wrappers", async () => {
  const id = uid();
  const email = `sdk-${id}@example.com`;
  const up = await sdk.auth.authSignup({ requestBody: { email, password: "securePassword123", name: "S" } });
  assert.ok(up.token);
  assert.equal(up.user.email, email);
  assert.ok((await sdk.authentication.authSignin({ authSigninRequest: { email, password: "securePassword123" } })).token);

  await sdk.database.dbQuery({ requestBody: { sql: `CREATE TABLE sdk_${id} (id INTEGER PRIMARY KEY, v TEXT)` } });
  const b = await sdk.database.dbBatch({ dbBatchRequest: { queries: [{ sql: `INSERT INTO sdk_${id} (v) VALUES (?)`, params: ["a"] }, { sql: `INSERT INTO sdk_${id} (v) VALUES (?)`, params: ["b"] }] } });
  assert.equal(b.success, true);
  const q = await sdk.database.dbQuery({ dbQueryRequest: { sql: `SELECT v FROM sdk_${id} ORDER BY id`, params: [] }, xRequestID: `req-${id}` });
  assert.deepEqual(q.results, [{ v: "a" }, { v: "b" }]);

  const c = sdk.cache;
  assert.equal((await c.cacheSet({ requestBody: { key: `k${id}`, value: "v", ttl: 60 } })).success, true);
  assert.deepEqual(await c.cacheGet({ cacheGetRequest: { key: `k${id}` } }), { value: "v", exists: true });
  assert.equal((await c.cacheSetMany({ requestBody: { entries: [{ key: `m${id}1`, value: 1 }, { key: `m${id}2`, value: 2 }] } })).count, 2);
  assert.equal((await c.cacheGetMany({ requestBody: { keys: [`m${id}1`, `m${id}2`] } })).results.length, 2);
  assert.equal((await c.cacheList({ requestBody: { prefix: `m${id}` } })).list_complete, true);
  assert.deepEqual((await c.cacheKeys({ requestBody: { prefix: `m${id}` } })).keys.sort(), [`m${id}1`, `m${id}2`]);
  assert.equal((await c.cacheExpire({ requestBody: { key: `m${id}1`, ttl: 30 } })).success, true);
  assert.equal((await c.cacheIncrement({ requestBody: { key: `n${id}`, amount: 2, initialValue: 10 } })).value, 12);
  assert.equal((await c.cacheDeleteMany({ requestBody: { keys: [`m${id}1`, `m${id}2`] } })).deleted, 2);
  assert.equal((await c.cacheDelete({ requestBody: { key: `k${id}` } })).success, true);
  assert.equal((await c.cacheFlush({ requestBody: { prefix: `n${id}` } })).success, true);

  const job = await sdk.queue.queueEnqueue({ requestBody: { type: "send-email", data: { to: email }, delay: 600 } });
  assert.equal((await sdk.queue.queueGetJob({ requestBody: { jobId: job.jobId } })).job.type, "send-email");
  assert.ok((await sdk.queue.queueListJobs({ requestBody: { type: "send-email" } })).jobs.some((j) => j.id === job.jobId));
  assert.equal((await sdk.queue.queueCancelJob({ requestBody: { jobId: job.jobId } })).success, true);

  const s = sdk.storage;
  const res = await s.storageUpload({ requestBody: { key: `f/${id}.txt`, file: Buffer.from("abc"), contentType: "text/plain" } });
  assert.ok(res.url.endsWith(`f/${id}.txt`));
  assert.equal((await s.storageGet({ requestBody: { key: `f/${id}.txt` } })).toString(), "abc");
  assert.equal((await s.storageGetUrl({ requestBody: { key: `f/${id}.txt` } })).url, res.url);
  assert.equal((await s.storageExists({ requestBody: { key: `f/${id}.txt` } })).exists, true);
  assert.equal((await s.storageGetMetadata({ requestBody: { key: `f/${id}.txt` } })).size, 3);
  assert.equal((await s.storageCopy({ requestBody: { sourceKey: `f/${id}.txt`, destKey: `f/${id}-2.txt` } })).success, true);
  assert.equal((await s.storageMove({ requestBody: { sourceKey: `f/${id}-2.txt`, destKey: `f/${id}-3.txt` } })).success, true);
  assert.deepEqual(new Set((await s.storageList({ requestBody: { prefix: `f/${id}` } })).objects.map((o) => o.key)), new Set([`f/${id}.txt`, `f/${id}-3.txt`]));
  assert.equal((await s.storageDelete({ requestBody: { key: `f/${id}-3.txt` } })).success, true);

  const a = sdk.ai;
  assert.equal((await a.ingest({ requestBody: { content: "reset your password", type: `d${id}`, id: `x${id}` } })).success, true);
  assert.equal((await a.query({ requestBody: { text: "password", topK: 1, types: [`d${id}`] } })).results[0].id, `x${id}`);
  assert.equal((await a.searchGet({ requestBody: { id: `x${id}` } })).exists, true);
  assert.equal((await a.searchUpdate({ requestBody: { id: `x${id}`, content: "new text" } })).success, true);
  assert.equal((await a.searchCount({ requestBody: { type: `d${id}` } })).count, 1);
  assert.ok((await a.listTypes()).types.some((t) => t.type === `d${id}`));
  assert.equal((await a._delete({ requestBody: { id: `x${id}` } })).success, true);
  assert.equal((await a.deleteByType({ requestBody: { type: `d${id}` } })).success, true);
  assert.equal((await a.configure({ requestBody: { embeddingModel: "english" } })).success, true);
  await assert.rejects(a.aiChat({ requestBody: { messages: [{ role: "user", content: "hi" }] } }, { retries: false }), ServerError);

  const e = await sdk.services.servicesInvoke({ requestBody: { serviceName: "billing", data: {} } }, { retries: { strategy: "none" } }).catch((x) => x);
  assert.ok(e instanceof ServerError && e instanceof ResponseError);
  assert.equal(e.code, "WORKER_NOT_CONNECTED");
  await assert.rejects(sdk.database.dbQuery({ sql: "SELECT 1" }), (x) => x instanceof ValidationError && x instanceof RequiredError && x.field === "requestBody");
});

test("the CacheFacade, realtime, rpc, setApiKey, createClient", async () => {
  const id = uid();
  const c = sdk.cache;
  await c.set(`f${id}`, { a: 1 }, 60);
  assert.deepEqual(await c.get(`f${id}`), { a: 1 });
  assert.equal(await c.exists(`f${id}`), true);
  assert.deepEqual(await c.getMany([`f${id}`]), { [`f${id}`]: { a: 1 } });
  assert.equal(await c.increment(`i${id}`, 1, 5), 6);
  assert.deepEqual(await c.keys(`f${id}`), [`f${id}`]);
  assert.equal(await c.delete(`f${id}`), true);
  assert.equal((await sdk.rpc.db.query("SELECT 3 AS three")).results[0].three, 3);
  assert.equal(sdk.realtime.status, "idle");
  const other = createClient({ apiKey: "ac_secret_wrong", serverUrl: p.apiUrl });
  await assert.rejects(other.cache.get("x"), (e) => e.isAuthError());
  other.setApiKey(p.apiKey);
  assert.equal(await other.cache.get(`nothing-${id}`), null);
  const local = new SDK({ apiKey: p.apiKey, serverIdx: 0, serverURL: p.apiUrl, timeoutMs: 5000, retryConfig: { strategy: "backoff", backoff: { initialInterval: 10, maxInterval: 50, exponent: 1.5, maxElapsedTime: 1000 }, retryConnectionErrors: true } });
  assert.deepEqual((await local.database.dbQuery({ requestBody: { sql: "SELECT 1 AS one" } })).results, [{ one: 1 }]);
});

test("fetchApi: every request goes through the user's own fetch; its failures are network errors", async () => {
  const seen = [];
  const myFetch = async (url, init) => {
    seen.push({ url, method: init.method, headers: Object.fromEntries(init.headers.map(([n, v]) => [n.toLowerCase(), v])) });
    return fetch(url, init);
  };
  const hosted = new SDK({ apiKeyAuth: p.apiKey, serverURL: p.apiUrl, fetchApi: myFetch });
  const id = uid();
  assert.deepEqual((await hosted.database.dbQuery({ requestBody: { sql: "SELECT 7 AS seven" } })).results, [{ seven: 7 }]);
  await hosted.cache.cacheSet({ requestBody: { key: `h${id}`, value: 1 } });
  assert.deepEqual(await hosted.cache.cacheGet({ requestBody: { key: `h${id}` } }), { value: 1, exists: true });
  const up = await hosted.storage.storageUpload({ requestBody: { key: `h/${id}.txt`, file: Buffer.from("hosted"), contentType: "text/plain" } });
  assert.equal(up.size, 6);
  assert.equal(seen.length, 4);
  assert.ok(seen[0].url.endsWith("/v1/db/query") && seen[0].method === "POST");
  assert.equal(seen[0].headers["x-aerostack-key"], p.apiKey);
  assert.ok(seen[0].headers["x-request-id"]);
  const e = await hosted.services.servicesInvoke({ requestBody: { serviceName: "nobody", data: {} } }, { retries: false }).catch((x) => x);
  assert.equal(e.code, "WORKER_NOT_CONNECTED");
  let calls = 0;
  const broken = new SDK({ apiKeyAuth: p.apiKey, serverURL: p.apiUrl, fetchApi: async () => { calls += 1; throw new Error("proxy down"); } });
  const n = await broken.database.dbQuery({ requestBody: { sql: "SELECT 1" } }, { retries: false }).catch((x) => x);
  assert.ok(n instanceof FetchError, String(n));
  assert.match(n.message, /proxy down/);
  assert.equal(calls, 1);
});
