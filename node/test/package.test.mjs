// The package itself: ESM and CommonJS load the same classes; types check under --strict;
// an idle client lets the process exit; worker_threads; `npm install ./node` from a throwaway
// folder gives a working package.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { after, before, test } from "node:test";

import * as esm from "aerostack";
import * as esmLocal from "aerostack/local";
import * as esmHooks from "aerostack/hooks";
import { startPlatform } from "./helpers.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.resolve(HERE, "..");
const require = createRequire(import.meta.url);

let p;
before(async () => (p = await startPlatform()));
after(() => p.stop());

test("ESM and CommonJS give the same classes (one copy: instanceof holds across both)", () => {
  const cjs = require("aerostack");
  assert.equal(cjs.AerostackClient, esm.AerostackClient);
  assert.equal(cjs.AerostackError, esm.AerostackError);
  assert.equal(require("aerostack/local").LocalPlatform, esmLocal.LocalPlatform);
  assert.equal(require("aerostack/hooks").serve, esmHooks.serve);
  for (const name of ["AerostackClient", "Aerostack", "AerostackError", "ClientError", "AuthError", "AuthenticationError", "ValidationError", "NotFoundError", "ConflictError", "RateLimitError", "ServerError", "NetworkError", "TimeoutError", "CancelledError", "ConfigError", "DecodeError", "setLogger", "VERSION"]) {
    assert.ok(name in esm, `aerostack exports ${name}`);
  }
  assert.match(esm.VERSION, /^\d+\.\d+\.\d+/);
});

test("every engine option name in error messages has a JavaScript spelling", () => {
  const addon = require(path.join(PKG, "dist", "cjs", "native.js")).native;
  for (const [engine, js] of addon.engineOptionNames()) assert.ok(js, `${engine} has no JavaScript spelling`);
});

test("the examples type-check with tsc --strict --noEmit", () => {
  const tsc = path.join(PKG, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "--strict", "--noEmit", "--module", "node16", "--moduleResolution", "node16", "--target", "ES2022", "--lib", "ES2022,DOM,DOM.Iterable", "--types", "node", "--skipLibCheck", path.join(HERE, "types", "example.ts"), path.join(HERE, "types", "example-esm.mts")], { cwd: PKG, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("a program whose client is idle exits by itself (and one with an open channel until it closes)", () => {
  const script = `
    import { AerostackClient } from "aerostack";
    const c = new AerostackClient({ projectId: ${JSON.stringify(p.projectId)}, apiKey: ${JSON.stringify(p.apiKey)}, baseUrl: ${JSON.stringify(p.apiUrl)} });
    console.log((await c.db.query("SELECT 1 AS one")).results[0].one);
    const ch = c.realtime.channel("chat/exit-test");
    ch.on("x", () => {});
    await ch.subscribe();
    setTimeout(() => ch.unsubscribe(), 200);
  `;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: PKG, encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "1");
  assert.ok(performance.now() - t0 < 10_000, "exited soon after the channel closed");
});

test("works in worker_threads", async () => {
  const w = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const { AerostackClient } = require(workerData.pkg);
     const c = new AerostackClient(workerData.opts);
     c.cache.set("wt", 7).then(() => c.cache.get("wt")).then((v) => parentPort.postMessage(v), (e) => parentPort.postMessage(String(e)));`,
    { eval: true, workerData: { pkg: PKG, opts: { projectId: p.projectId, apiKey: p.apiKey, baseUrl: p.apiUrl } } },
  );
  const got = await new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  assert.equal(got, 7);
  await w.terminate();
});

test("npm install ./node from a throwaway folder gives a package that loads from ESM and CommonJS", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aerostack-npm-install-"));
  try {
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "throwaway", version: "1.0.0", private: true }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", PKG], { cwd: dir, stdio: "pipe" });
    fs.writeFileSync(path.join(dir, "esm.mjs"), `import { AerostackClient } from "aerostack"; import { LocalPlatform } from "aerostack/local";
      const p = await LocalPlatform.start({ fromEnv: false }); const c = p.client();
      console.log((await c.db.query("SELECT 2 AS two")).results[0].two); await p.stop();`);
    fs.writeFileSync(path.join(dir, "cjs.cjs"), `const { AerostackClient, ValidationError } = require("aerostack");
      new AerostackClient({ apiKey: "k", baseUrl: "http://127.0.0.1:9/v1", ignoreEnv: true }).db.query(undefined).catch((e) => console.log(e instanceof ValidationError, e.field));`);
    assert.equal(execFileSync(process.execPath, ["esm.mjs"], { cwd: dir, encoding: "utf8" }).trim(), "2");
    assert.equal(execFileSync(process.execPath, ["cjs.cjs"], { cwd: dir, encoding: "utf8" }).trim(), "true sql");
    assert.ok(fs.existsSync(path.join(dir, "node_modules", ".bin", "aerostack-worker")));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the quickstart runs against an in-process platform and touches every service", () => {
  const r = spawnSync(process.execPath, [path.join(PKG, "examples", "quickstart.mjs"), "--local"], { cwd: PKG, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const s of ["auth.register", "db.query", "cache.get", "storage.upload", "ai.embed", "secrets.get", "call (custom API)", "services.invoke", "queue.send", "realtime INSERT", "socket.emit", "errors"]) {
    assert.ok(r.stdout.includes(s), `the quickstart printed ${s}:\n${r.stdout}`);
  }
});

test("nothing is printed by default; AEROSTACK_LOG=debug logs the engine's retries to stderr", async () => {
  const http = await import("node:http");
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    hits += 1;
    if (hits % 2 === 1) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "0" });
      res.end(JSON.stringify({ error: { code: "SERVICE_UNAVAILABLE", message: "again" } }));
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const script = `import { AerostackClient } from "aerostack";
    const c = new AerostackClient({ apiKey: "k", baseUrl: "http://127.0.0.1:${server.address().port}/v1", ignoreEnv: true, retry: { initialIntervalMs: 5, maxIntervalMs: 10 } });
    await c.request("GET", "/x");`;
  const run = (extra) =>
    new Promise((resolve) => {
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: PKG, env: { ...process.env, AEROSTACK_LOG: "", DEBUG: "", ...extra } });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      child.on("exit", (code) => resolve({ code, err }));
    });
  try {
    const quiet = await run({});
    assert.equal(quiet.code, 0, quiet.err);
    assert.equal(quiet.err, "");
    const loud = await run({ AEROSTACK_LOG: "debug" });
    assert.equal(loud.code, 0, loud.err);
    assert.match(loud.err, /aerostack:engine retrying GET http:\/\/127\.0\.0\.1:\d+\/v1\/x/);
  } finally {
    server.close();
  }
});
