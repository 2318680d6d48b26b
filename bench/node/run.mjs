#!/usr/bin/env node
// The Node half of `make bench`: the `aerostack` package vs Node's `fetch` vs undici's `request`
// making the same HTTP calls (db.query, cache.get), against the local platform and against the
// Rust static responder (`aerostack-bench --serve-static 0`, so the client's own cost is visible),
// sequentially and with 100 and 1,000 calls in flight; then `require`/`import` time and the
// memory of a process holding a client. Every measurement runs in a fresh process (worker.mjs),
// --rounds times in turn with the baselines', and the median is reported: a burst of other work on
// the machine then moves one measurement, not the ratio.
//
//     node bench/node/run.mjs [--out FILE] [--readme README.md] [--seconds N] [--rounds N]
//
// The package uses the release addon (target/release/libaerostack_node.so) when it exists
// (`make bench` builds it), else the debug one, and says which.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const START = "<!-- bench-node:start -->";
const END = "<!-- bench-node:end -->";

const args = { seconds: 1, rounds: 3 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--out") args.out = process.argv[++i];
  else if (a === "--readme") args.readme = process.argv[++i];
  else if (a === "--seconds") args.seconds = Number(process.argv[++i]);
  else if (a === "--rounds") args.rounds = Number(process.argv[++i]);
  else throw new Error(`unknown argument ${a}; use --out FILE --readme README.md --seconds N --rounds N`);
}

const release = path.join(ROOT, "target", "release", "libaerostack_node.so");
const env = { ...process.env };
if (fs.existsSync(release)) env.AEROSTACK_NODE_ADDON = release;
process.env.AEROSTACK_NODE_ADDON = env.AEROSTACK_NODE_ADDON ?? "";
if (!process.env.AEROSTACK_NODE_ADDON) delete process.env.AEROSTACK_NODE_ADDON;
execFileSync(process.execPath, [path.join(ROOT, "node", "scripts", "build.cjs")], { stdio: "inherit" });
if (!fs.existsSync(path.join(HERE, "node_modules", "undici"))) {
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: HERE, stdio: "inherit" });
}

const { LocalPlatform } = await import(path.join(ROOT, "node", "dist", "esm", "local.mjs"));

async function staticResponder() {
  const bin = path.join(ROOT, "target", "release", "aerostack-bench");
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build --release -p aerostack-bench (make bench does)`);
  const child = spawn(bin, ["--serve-static", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(String(d).trim()));
    child.once("exit", (c) => reject(new Error(`the static responder exited (${c})`)));
  });
  return { api: `${url}/v1`, stop: () => child.kill() };
}

function measure(impl, op, conc, api, key) {
  const r = spawnSync(process.execPath, [path.join(HERE, "worker.mjs"), impl, op, String(conc), String(args.seconds), api, key], { env, encoding: "utf8", timeout: 120_000 });
  const line = r.stdout.split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) return { failed: `exit ${r.status}: ${r.stderr.slice(-300)}` };
  return JSON.parse(line);
}

/** The middle measurement by rate; a failed one fails the cell. */
function medianRun(runs) {
  return runs.find((r) => r.failed) ?? [...runs].sort((a, b) => a.rate - b.rate)[Math.floor(runs.length / 2)];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function importMs(kind) {
  const target = path.join(ROOT, "node", kind === "require" ? "dist/cjs/index.js" : "dist/esm/index.mjs");
  const code =
    kind === "require"
      ? `const t = performance.now(); require(${JSON.stringify(target)}); console.log(performance.now() - t)`
      : `const t = performance.now(); await import(${JSON.stringify(target)}); console.log(performance.now() - t)`;
  const argv = kind === "require" ? ["-e", code] : ["--input-type=module", "-e", code];
  const times = [];
  for (let i = 0; i < 7; i++) times.push(Number(execFileSync(process.execPath, argv, { env, encoding: "utf8" })));
  return median(times);
}

function rssMiB(withClient, api, key) {
  const code = withClient
    ? `const { AerostackClient } = require(${JSON.stringify(path.join(ROOT, "node", "dist", "cjs", "index.js"))});
       const c = new AerostackClient({ apiKey: ${JSON.stringify(key)}, baseUrl: ${JSON.stringify(api)}, ignoreEnv: true });
       c.cache.get("bench:key").then(() => { global.gc?.(); console.log(process.memoryUsage().rss); process.exit(0); });`
    : `global.gc?.(); console.log(process.memoryUsage().rss)`;
  return Number(execFileSync(process.execPath, ["--expose-gc", "-e", code], { env, encoding: "utf8" })) / 2 ** 20;
}

const MODES = [
  ["sequential", 1],
  ["100 in flight", 100],
  ["1,000 in flight", 1000],
];
const OPS = [
  ["db.query", "db"],
  ["cache.get", "cache"],
];
const IMPLS = ["ours", "fetch", "undici"];

const fmt = (r) => (r.failed ? "failed" : `${(r.rate / 1000).toFixed(1)}k`);
const ratio = (a, b) => (a.failed || b.failed ? "–" : `${(a.rate / b.rate).toFixed(2)}×`);

const platform = await LocalPlatform.start({ fromEnv: false });
const stat = await staticResponder();
const lines = [];
try {
  await platform.client().cache.set("bench:key", { hello: "world", n: 42 });
  const addon = env.AEROSTACK_NODE_ADDON ? "release addon" : "debug addon (build the release one with cargo build --release -p aerostack-node)";
  lines.push(`Node ${process.version}, ${os.cpus().length} cores, ${addon}; ${args.seconds} s per measurement, each in a fresh process; the median of ${args.rounds} taken in turn with the baselines'. Calls/s (k = 1,000):`, "");
  lines.push("| target | call | mode | aerostack | fetch | undici request | ÷ fetch | ÷ undici |", "|---|---|---|---|---|---|---|---|");
  for (const [label, api] of [["static responder", stat.api], ["local platform", platform.apiUrl]]) {
    for (const [opLabel, op] of OPS) {
      for (const [mode, conc] of MODES) {
        const runs = Object.fromEntries(IMPLS.map((impl) => [impl, []]));
        for (let round = 0; round < args.rounds; round++) {
          for (const impl of IMPLS) runs[impl].push(measure(impl, op, conc, api, platform.apiKey));
        }
        const r = Object.fromEntries(IMPLS.map((impl) => [impl, medianRun(runs[impl])]));
        const row = `| ${label} | ${opLabel} | ${mode} | ${fmt(r.ours)} | ${fmt(r.fetch)} | ${fmt(r.undici)} | ${ratio(r.ours, r.fetch)} | ${ratio(r.ours, r.undici)} |`;
        lines.push(row);
        console.error(row);
      }
    }
  }
  const base = rssMiB(false);
  const held = rssMiB(true, platform.apiUrl, platform.apiKey);
  lines.push("", `\`require("aerostack")\`: ${importMs("require").toFixed(1)} ms; \`import "aerostack"\`: ${importMs("import").toFixed(1)} ms (median of 7 fresh processes).`);
  lines.push(`Memory: a process holding a client after one call ${held.toFixed(1)} MiB RSS (an empty node process: ${base.toFixed(1)} MiB).`);
  lines.push("", "Targets (issue 9): ≥ 2× fetch and ≥ 1× undici sequentially, ≥ 3× fetch at 100 in flight, against the static responder.");
} finally {
  stat.stop();
  await platform.stop();
}
const md = lines.join("\n");
console.log(md);
if (args.out) {
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, md + "\n");
}
if (args.readme) {
  const text = fs.readFileSync(args.readme, "utf8");
  if (!text.includes(START) || !text.includes(END)) throw new Error(`${args.readme}: no ${START} ... ${END} section`);
  const [head, rest] = text.split(START);
  const tail = rest.split(END)[1];
  fs.writeFileSync(args.readme, `${head}${START}\n${md}\n${END}${tail}`);
}
