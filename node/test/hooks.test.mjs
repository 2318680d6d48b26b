// Logic Modules and queue workers: seed 000's two JavaScript examples verbatim (test/fixtures/
// seed000), served by `serve()` and by the `aerostack-worker` command, reached through the custom
// API URL and through the queue. A loopback server stands in for SendGrid (a third party).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { serve } from "aerostack/hooks";
import { startPlatform, uid, sleep } from "./helpers.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SEED = path.join(HERE, "fixtures", "seed000");

let p;
let client;
let sendgrid;
const mails = [];
let modules;

before(async () => {
  p = await startPlatform();
  client = p.client();
  await client.db.query("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, slug TEXT, project_id TEXT)");
  await client.db.query("CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, email TEXT)");
  for (const [name, slug] of [["Blue shirt", "blue-shirt"], ["Red shirt", "red-shirt"], ["Hat", "hat"]]) {
    await client.db.query("INSERT INTO products (name, slug, project_id) VALUES (?, ?, ?)", [name, slug, p.projectId]);
  }
  await client.secrets.set("SENDGRID_KEY", "sg-test-key");
  sendgrid = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      mails.push({ path: req.url, headers: req.headers, body: JSON.parse(body || "null") });
      res.writeHead(202).end();
    });
  });
  await new Promise((r) => sendgrid.listen(0, "127.0.0.1", r));
  // The module folder: the seed files as written, the SendGrid URL pointed at the stand-in.
  modules = fs.mkdtempSync(path.join(os.tmpdir(), "aerostack-modules-"));
  fs.writeFileSync(path.join(modules, "package.json"), '{"type": "module"}\n');
  fs.copyFileSync(path.join(SEED, "search-products.js"), path.join(modules, "search-products.js"));
  const worker = fs.readFileSync(path.join(SEED, "send-welcome-email.js"), "utf8");
  fs.writeFileSync(path.join(modules, "send-welcome-email.js"), worker.replace("https://api.sendgrid.com", `http://127.0.0.1:${sendgrid.address().port}`));
});

after(async () => {
  sendgrid.close();
  fs.rmSync(modules, { recursive: true, force: true });
  await p.stop();
});

async function customApi(slug, body, key = p.apiKey) {
  const r = await fetch(`${p.url}/api/v1/public/projects/${p.projectSlug}/custom/${slug}`, {
    method: "POST",
    headers: { "X-API-Key": key, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function welcomeFlow(userId) {
  await client.db.query("INSERT INTO users (id, name, email) VALUES (?, ?, ?)", [userId, "Ann", `${userId}@example.com`]);
  const before = mails.length;
  const r = await customApi("signup", { user_id: userId, email: `${userId}@example.com` });
  assert.deepEqual(r, { status: 200, body: { queued: true } });
  for (let i = 0; i < 250 && mails.length === before; i++) await sleep(20);
  const mail = mails.at(-1);
  assert.ok(mail, "the queue worker called SendGrid");
  assert.equal(mail.path, "/v3/mail/send");
  assert.equal(mail.headers.authorization, "Bearer sg-test-key");
  assert.deepEqual(mail.body.personalizations, [{ to: [{ email: `${userId}@example.com` }] }]);
  assert.equal(mail.body.subject, "Welcome to Aerostack!");
  // the job ends once the handler returned (just after its fetch)
  let done = [];
  for (let i = 0; i < 250 && !done.some((j) => j.data.user_id === userId); i++) {
    done = (await client.queue.jobs("completed", "send-welcome-email", 100)).jobs;
    await sleep(20);
  }
  assert.ok(done.some((j) => j.data.user_id === userId), "the job completed");
}

test("serve(): seed 000's Logic Module through the custom API URL, and its queue worker through the queue", async () => {
  const worker = await serve({ modules: modules, apiKey: p.apiKey, baseUrl: p.apiUrl });
  try {
    assert.deepEqual(worker.modules.map((m) => m.slug).sort(), ["search-products", "signup"]);
    assert.deepEqual(worker.jobs.map((j) => j.type), ["send-welcome-email"]);
    const r = await customApi("search-products", { q: "shirt", limit: 5 });
    assert.equal(r.status, 200);
    assert.equal(r.body.count, 2);
    assert.deepEqual(r.body.results.map((x) => x.slug).sort(), ["blue-shirt", "red-shirt"]);
    assert.equal((await client.call("search-products", { q: "hat" })).count, 1);
    await welcomeFlow(`u-${uid()}`);
  } finally {
    await worker.drain();
  }
  assert.ok(worker.closed);
});

test("serve() from code: functions, a failing handler, the scoped sdk's services", async () => {
  const worker = await serve({
    apiKey: p.apiKey,
    baseUrl: p.apiUrl,
    modules: [
      { slug: "whoami", handler: async (sdk, event) => ({ project: sdk.projectId, method: event.method, cached: await sdk.cache.set("w", 1).then(() => sdk.cache.get("w")) }) },
      { slug: "boom", handler: async () => { throw new Error("boom on purpose"); } },
      { slug: "fetcher", handler: async (sdk) => { const r = await sdk.fetch(`${p.url}/v1/health`); return { ok: r.ok, status: r.status, body: await r.json() }; } },
    ],
    jobs: { doubleIt: async (sdk, job) => ({ doubled: job.data.n * 2 }) },
  });
  try {
    assert.deepEqual(await client.call("whoami", {}), { project: p.projectId, method: "POST", cached: 1 });
    await assert.rejects(client.call("boom", {}, "POST", { retry: false }), (e) => e.message.includes("boom on purpose"));
    const f = await client.call("fetcher", {});
    assert.equal(f.ok, true);
    assert.equal(f.body.ok, true);
    const { jobId } = await client.queue.send("double-it", { n: 21 });
    const job = await client.queue.wait(jobId, 10_000);
    assert.equal(job.status, "completed");
    assert.deepEqual(job.result, { doubled: 42 });
  } finally {
    await worker.stop(2000);
  }
});

test("npx aerostack-worker ./modules/ serves the folder; SIGTERM drains and exits", async () => {
  const bin = path.join(HERE, "..", "bin", "aerostack-worker.cjs");
  const child = spawn(process.execPath, [bin, modules], {
    env: { ...process.env, AEROSTACK_API_KEY: p.apiKey, AEROSTACK_API_URL: p.apiUrl },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  try {
    await client.local.waitServed("search-products", 15_000);
    assert.equal((await customApi("search-products", { q: "Hat" })).body.count, 1);
    await welcomeFlow(`u-${uid()}`);
  } finally {
    child.kill("SIGTERM");
  }
  const { code } = await exited;
  assert.equal(code, 0, stderr);
  assert.match(stderr, /serving modules \[search-products, signup\] and jobs \[send-welcome-email\]/);
});
