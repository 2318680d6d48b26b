// Errors per family (with the official names), retries, timeouts and abort.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { after, before, test } from "node:test";

import {
  AerostackClient,
  AerostackError,
  AuthError,
  AuthenticationError,
  CancelledError,
  ClientError,
  ConfigError,
  ConflictError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
  setLogger,
} from "aerostack";
import { startPlatform, uid, sleep } from "./helpers.mjs";

let p;
let client;
before(async () => {
  p = await startPlatform();
  client = p.client();
});
after(() => p.stop());

/** A loopback server that accepts connections and never answers; records when they close. */
async function hangingServer() {
  const sockets = [];
  const server = net.createServer((s) => {
    const rec = { closed: false };
    sockets.push(rec);
    s.on("close", () => (rec.closed = true));
    s.on("error", () => {});
    s.resume(); // read the request, so the client's hang-up is seen
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/v1`, sockets, close: () => server.close() };
}

/** A loopback server answering 503 (Retry-After 0) `failures` times, then 200 `{ok: true}`. */
async function flakyServer(failures) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    hits += 1;
    if (hits <= failures) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "0" });
      res.end(JSON.stringify({ error: { code: "SERVICE_UNAVAILABLE", message: "try again" } }));
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, hits }));
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/v1`, hits: () => hits, close: () => server.close() };
}

test("the official names are the same classes; every error carries its fields", async () => {
  assert.equal(ClientError, AerostackError);
  assert.equal(AuthenticationError, AuthError);
  const bad = new AerostackClient({ projectId: p.projectId, apiKey: "ac_secret_wrong", baseUrl: p.apiUrl, ignoreEnv: true });
  const e = await bad.db.query("SELECT 1").catch((x) => x);
  assert.ok(e instanceof AuthError && e instanceof AuthenticationError && e instanceof ClientError && e instanceof Error);
  assert.equal(e.family, "auth");
  assert.equal(e.status, 401);
  assert.equal(e.statusCode, 401);
  assert.ok(e.isAuthError() && !e.isNetworkError() && !e.isValidationError());
  assert.ok(e.requestId);
  assert.equal(e.name, "AuthError");
  assert.equal(JSON.parse(JSON.stringify(e)).code, e.code);
});

test("validation errors name the field, before anything is sent", async () => {
  const e = await client.cache.set("k", 1, "soon").catch((x) => x);
  assert.ok(e instanceof ValidationError && e.isValidationError());
  assert.equal(e.field, "ttl");
  assert.equal(e.details.field, "ttl");
  assert.equal(e.status, null);
});

test("not found, conflict, rate limit, server, config families", async () => {
  await assert.rejects(client.storage.get(`nope/${uid()}`), NotFoundError);
  const email = `c-${uid()}@example.com`;
  await client.auth.register(email, "securePassword123");
  await assert.rejects(client.auth.register(email, "securePassword123"), ConflictError);
  await assert.rejects(client.withOptions({ retry: false }).ai.complete("x"), ServerError);
  assert.throws(() => new AerostackClient({ baseUrl: "not a url", apiKey: "k", ignoreEnv: true }), ConfigError);

  const limited = await startPlatform({ rateLimits: { cache_flush: [1, 60_000] } });
  try {
    const c = limited.client({ retry: false });
    await c.cache.flush();
    const e = await c.cache.flush().catch((x) => x);
    assert.ok(e instanceof RateLimitError, String(e));
    assert.ok(e.retryAfterMs > 0 && e.retryable);
  } finally {
    await limited.stop();
  }
});

test("network errors: nothing listens", async () => {
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, "127.0.0.1", r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const c = new AerostackClient({ apiKey: "k", baseUrl: `http://127.0.0.1:${port}/v1`, retry: false, ignoreEnv: true });
  const e = await c.db.query("SELECT 1").catch((x) => x);
  assert.ok(e instanceof NetworkError, String(e));
  assert.ok(e.isNetworkError());
  assert.equal(e.status, null);
});

test("timeoutMs: a call to a server that never answers ends as TimeoutError, per call and per client", async () => {
  const h = await hangingServer();
  try {
    const c = new AerostackClient({ apiKey: "k", baseUrl: h.url, retry: false, ignoreEnv: true });
    const t0 = performance.now();
    const e = await c.db.query("SELECT 1", [], { timeoutMs: 200 }).catch((x) => x);
    assert.ok(e instanceof TimeoutError, String(e));
    assert.ok(performance.now() - t0 < 2000);
    const c2 = new AerostackClient({ apiKey: "k", baseUrl: h.url, retry: false, timeoutMs: 150, ignoreEnv: true });
    await assert.rejects(c2.cache.get("k"), TimeoutError);
  } finally {
    h.close();
  }
});

test("abort: the promise rejects at once with CancelledError and the engine drops the request", async () => {
  const h = await hangingServer();
  try {
    const c = new AerostackClient({ apiKey: "k", baseUrl: h.url, retry: false, ignoreEnv: true });
    const ac = new AbortController();
    const call = c.db.query("SELECT 1", [], { signal: ac.signal });
    await sleep(100);
    assert.equal(h.sockets.length, 1, "the request reached the server");
    const t0 = performance.now();
    ac.abort(new Error("user gave up"));
    const e = await call.catch((x) => x);
    assert.ok(e instanceof CancelledError, String(e));
    assert.equal(e.code, "CANCELLED");
    assert.equal(e.cause?.message, "user gave up");
    assert.ok(performance.now() - t0 < 500);
    for (let i = 0; i < 50 && !h.sockets[0].closed; i++) await sleep(20);
    assert.ok(h.sockets[0].closed, "the engine closed the connection of the aborted request");
    // an already-aborted signal never starts the call
    await assert.rejects(c.db.query("SELECT 1", [], { signal: AbortSignal.abort() }), CancelledError);
    assert.equal(h.sockets.length, 1);
    // AbortSignal.timeout works too
    await assert.rejects(c.cache.get("k", { signal: AbortSignal.timeout(50) }), CancelledError);
  } finally {
    h.close();
  }
  // the client keeps working after an abort
  const ac = new AbortController();
  const live = p.client();
  const pending = live.db.query("SELECT 1 AS one", [], { signal: ac.signal });
  assert.equal((await pending).results[0].one, 1);
  ac.abort();
});

test("retries: a retryable answer is retried (and logged), retry: false sends once", async () => {
  const lines = [];
  setLogger((level, area, message) => lines.push(`${level} ${area} ${message}`));
  const f = await flakyServer(2);
  try {
    const c = new AerostackClient({ apiKey: "k", baseUrl: f.url, ignoreEnv: true, retry: { maxAttempts: 4, initialIntervalMs: 10, maxIntervalMs: 20 } });
    const r = await c.request("GET", "/anything");
    assert.deepEqual(r, { ok: true, hits: 3 });
    assert.ok(lines.filter((l) => l.includes("retrying")).length >= 2, lines.join("\n"));
    const once = await flakyServer(1);
    const c2 = new AerostackClient({ apiKey: "k", baseUrl: once.url, ignoreEnv: true });
    const e = await c2.request("GET", "/x", undefined, { retry: false }).catch((x) => x);
    assert.ok(e instanceof ServerError && e.status === 503 && e.retryable);
    assert.equal(once.hits(), 1);
    once.close();
  } finally {
    setLogger(null);
    f.close();
  }
});

test("a long Retry-After is logged as a warning while the call still waits", async () => {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    hits += 1;
    if (hits === 1) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "2" });
      res.end(JSON.stringify({ error: { code: "SERVICE_UNAVAILABLE", message: "later" } }));
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const seen = [];
  setLogger((level, area, message) => seen.push({ level, area, message, at: performance.now() }));
  try {
    const c = new AerostackClient({ apiKey: "k", baseUrl: `http://127.0.0.1:${server.address().port}/v1`, ignoreEnv: true });
    const t0 = performance.now();
    await c.request("GET", "/slow");
    const done = performance.now();
    const warning = seen.find((l) => l.level === "warning" && l.message.includes("retrying"));
    assert.ok(warning, JSON.stringify(seen));
    assert.ok(done - t0 >= 1500, "the call waited out the Retry-After");
    assert.ok(warning.at < done - 1000, "the warning came while the call waited, not when it ended");
  } finally {
    setLogger(null);
    server.close();
  }
});

test("one AbortSignal shared by 300 calls in flight: one listener, every call cancelled", async () => {
  const h = await hangingServer();
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on("warning", onWarning);
  try {
    const c = new AerostackClient({ apiKey: "k", baseUrl: h.url, retry: false, ignoreEnv: true });
    const ac = new AbortController();
    const calls = Array.from({ length: 300 }, (_, i) => c.cache.get(`k${i}`, { signal: ac.signal }).catch((e) => e));
    await sleep(100);
    ac.abort();
    const results = await Promise.all(calls);
    assert.ok(results.every((e) => e instanceof CancelledError), "every call ended as cancelled");
    await sleep(10);
    assert.deepEqual(warnings.map((w) => w.name), [], "no MaxListenersExceededWarning");
  } finally {
    process.off("warning", onWarning);
    h.close();
  }
});

test("in-process platforms leave the hosted rate limits off unless hostedRateLimits asks for them", async () => {
  const { LocalPlatform } = await import("aerostack/local");
  for (const hosted of [false, true]) {
    const lp = await LocalPlatform.start({ fromEnv: false, hostedRateLimits: hosted });
    const c = lp.client();
    let limited = null;
    for (let i = 0; i < 6 && !limited; i++) {
      await c.auth.register(`rl-${i}-${uid()}@example.com`, "securePassword123").catch((e) => (limited = e));
    }
    assert.equal(limited instanceof RateLimitError, hosted, String(limited));
    await c.close();
    await lp.stop();
  }
});
