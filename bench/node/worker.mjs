// One measurement of the Node bench, in a fresh process (see run.mjs):
//   node worker.mjs <impl> <op> <concurrency> <seconds> <apiUrl> <apiKey>
// impl: ours | fetch | undici; op: db | cache. Prints {"rate": calls per second, "calls": n}.
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const [impl, op, conc, secs, api, key] = process.argv.slice(2);
const concurrency = Number(conc);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const DB = { sql: "SELECT 42 AS id, 'item 42' AS name", params: [] };
const CACHE = { key: "bench:key" };
const route = op === "db" ? "/db/query" : "/cache/get";
const payload = op === "db" ? DB : CACHE;
const headers = (id) => ({ "content-type": "application/json", "x-aerostack-key": key, "x-request-id": id, "user-agent": `${impl}-bench` });

let call;
if (impl === "ours") {
  const { AerostackClient } = await import(path.join(ROOT, "node", "dist", "esm", "index.mjs"));
  const c = new AerostackClient({ apiKey: key, baseUrl: api, ignoreEnv: true });
  call = op === "db" ? () => c.db.query(DB.sql, DB.params) : () => c.cache.get(CACHE.key);
} else if (impl === "fetch") {
  const url = api + route;
  const body = JSON.stringify(payload);
  call = async () => {
    const r = await fetch(url, { method: "POST", headers: headers(randomUUID()), body });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  };
} else if (impl === "undici") {
  const { request, Agent } = await import("undici");
  const dispatcher = new Agent({ connections: Math.max(concurrency, 1) });
  const url = api + route;
  const body = JSON.stringify(payload);
  call = async () => {
    const r = await request(url, { method: "POST", headers: headers(randomUUID()), body, dispatcher });
    if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}`);
    return r.body.json();
  };
} else throw new Error(`unknown impl ${impl}`);

async function runFor(ms) {
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await call();
        n += 1;
      }
    }),
  );
  return n;
}

await runFor(300); // warm up: connections, JIT
const t0 = performance.now();
const n = await runFor(Number(secs) * 1000);
const elapsed = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ rate: n / elapsed, calls: n }));
process.exit(0);
