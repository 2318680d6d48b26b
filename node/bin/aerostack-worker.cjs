#!/usr/bin/env node
// `aerostack-worker <folder or file>...`: serves the Logic Modules and queue workers of the
// module files given (seed 000's JavaScript as written) until SIGTERM/SIGINT, which drains.
// The project comes from AEROSTACK_API_KEY / AEROSTACK_API_URL / AEROSTACK_PROJECT_ID, or from
// --api-key / --base-url / --project-id.
"use strict";
const { serve } = require("../dist/cjs/hooks.js");

function usage(code) {
  process.stderr.write(
    "usage: aerostack-worker [--api-key KEY] [--base-url URL] [--project-id ID] [--concurrency N] <folder|file>...\n",
  );
  process.exit(code);
}

const argv = process.argv.slice(2);
const o = { modules: [], handleSignals: true };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => (i + 1 < argv.length ? argv[++i] : usage(2));
  if (a === "-h" || a === "--help") usage(0);
  else if (a === "--api-key") o.apiKey = value();
  else if (a === "--base-url") o.baseUrl = value();
  else if (a === "--project-id") o.projectId = value();
  else if (a === "--concurrency") o.concurrency = Number(value());
  else if (a.startsWith("-")) usage(2);
  else o.modules.push(a);
}
if (o.modules.length === 0) usage(2);

serve(o).then(
  (w) => {
    const slugs = w.modules.map((m) => m.slug);
    const types = w.jobs.map((j) => j.type);
    process.stderr.write(`aerostack-worker: serving modules [${slugs.join(", ")}] and jobs [${types.join(", ")}]; Ctrl-C or SIGTERM drains\n`);
  },
  (e) => {
    process.stderr.write(`aerostack-worker: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
  },
);
