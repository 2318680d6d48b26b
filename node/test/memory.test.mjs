// Memory stays flat over 100k calls (100 in flight): nothing per call is kept by the binding
// (deferreds, cancel tokens, JSON texts), with and without an AbortSignal.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as v8 from "node:v8";
import * as vm from "node:vm";

import { startPlatform } from "./helpers.mjs";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");

let p;
before(async () => (p = await startPlatform()));
after(() => p.stop());

async function run(client, n, inFlight, withSignal) {
  let next = 0;
  const ac = new AbortController();
  const opts = withSignal ? { signal: ac.signal } : undefined;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        next += 1;
        await client.cache.get("mem", opts);
      }
    }),
  );
}

function rssMiB() {
  gc();
  return process.memoryUsage().rss / 2 ** 20;
}

test("memory is flat over 100k calls", { timeout: 240_000 }, async () => {
  const client = p.client();
  await client.cache.set("mem", { v: "x".repeat(100) });
  await run(client, 10_000, 100, false); // warm up: pools, allocator arenas
  const base = rssMiB();
  await run(client, 50_000, 100, false);
  await run(client, 50_000, 100, true);
  const grown = rssMiB() - base;
  assert.ok(grown < 48, `rss grew ${grown.toFixed(1)} MiB over 100k calls`);
});
