#!/usr/bin/env node
// The Node runner of the conformance suite (see tests/conformance/README.md).
//
// Starts ONE in-process local platform (`aerostack/local`) with the options of
// tests/conformance/platform.json, serves the fixture Logic Modules and queue workers with
// `aerostack/hooks`, and runs every case of tests/conformance/cases/*.json through the public
// Node SDK (the package's ESM entry points). Node has one face (Promises), so each case runs once.
//
//     node tests/conformance/node/run.mjs --out results/node.json [--only PATTERN]
//
// Writes {"language": "node", "results": {case_id: {"status", "detail"}}} to --out, prints one
// line per case and last `N passed, N failed`; exits 1 when a case failed. A test harness, not SDK
// code: OPS maps the suite's operation names onto the SDK's idiomatic methods.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SUITE = path.resolve(HERE, "..");
const ROOT = path.resolve(SUITE, "..", "..");
const DEFAULT_CASE_TIMEOUT_MS = 30_000;

// The package must be built (addon + dist/): the build script does only what is missing.
const built = spawnSync(process.execPath, [path.join(ROOT, "node", "scripts", "build.cjs")], { stdio: ["ignore", "inherit", "inherit"] });
if (built.status !== 0) {
  console.error("the Node package could not be built (node/scripts/build.cjs)");
  process.exit(1);
}
const sdk = await import(path.join(ROOT, "node", "dist", "esm", "index.mjs"));
const { LocalPlatform } = await import(path.join(ROOT, "node", "dist", "esm", "local.mjs"));
const { serve } = await import(path.join(ROOT, "node", "dist", "esm", "hooks.mjs"));
const { AerostackClient, AerostackError } = sdk;
// The surface's user-data table (bindings/common/src/user_data.rs), read through the addon: the
// SDK hands out camelCase keys except inside the user's data, and so must the expected shapes.
// The addon hands the paths out in camelCase; the cases are written in the canonical snake_case.
const nativeMod = await import(path.join(ROOT, "node", "dist", "cjs", "native.js"));
const snakePath = (p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const USER_DATA = Object.fromEntries(
  Object.entries(JSON.parse((nativeMod.native ?? nativeMod.default.native).resultPaths()).user_data).map(([op, paths]) => [op, paths.map(snakePath)]),
);

class CaseFailure extends Error {}

// ------------------------------------------------------------------------------------------
// Cases, templates, shapes
// ------------------------------------------------------------------------------------------

function loadCases(dir) {
  const cases = [];
  const seen = new Map();
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    for (const c of JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")).cases) {
      if (seen.has(c.id)) throw new Error(`${f}: duplicate case id ${c.id} (also in ${seen.get(c.id)})`);
      if (("call" in c) === ("scenario" in c)) throw new Error(`${f}: case ${c.id} must have exactly one of call and scenario`);
      seen.set(c.id, f);
      cases.push(c);
    }
  }
  return cases;
}

const TEMPLATE = /\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}/g;
const FULL = /^\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}$/;

function short(v, n = 160) {
  let s;
  try {
    s = JSON.stringify(v, (k, x) => (Buffer.isBuffer(x) ? `<${x.length} bytes>` : x));
  } catch {
    s = String(v);
  }
  if (s === undefined) s = String(v);
  return s.length <= n ? s : s.slice(0, n - 3) + "...";
}

function getPath(value, parts, what) {
  for (const seg of parts) {
    if (Array.isArray(value) && /^\d+$/.test(seg) && Number(seg) < value.length) value = value[Number(seg)];
    else if (value && typeof value === "object" && !Array.isArray(value) && seg in value) value = value[seg];
    else throw new CaseFailure(`${what}: no ${JSON.stringify(seg)} in ${short(value)}`);
  }
  return value;
}

function lookup(vars, ref) {
  const [name, ...p] = ref.split(".");
  if (!(name in vars)) throw new CaseFailure(`unknown template variable \${${ref}} (known: ${Object.keys(vars).sort().join(", ")})`);
  // A saved result is the SDK's (camelCase keys); the case names its paths in snake_case.
  let v = vars[name];
  for (const seg of p) {
    const key = v && typeof v === "object" && !Array.isArray(v) && !(seg in v) ? camel(seg) : seg;
    v = getPath(v, [key], ref);
  }
  return v;
}

// ------------------------------------------------------------------------------------------
// Cases are written in the canonical snake_case names; the Node SDK answers camelCase keys and
// Dates. The runner converts the case's expected paths (never its user data) and turns Dates
// back into the engine's RFC 3339 text.
// ------------------------------------------------------------------------------------------

const camel = (k) => (k.includes("_") ? k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()) : k);

/** Whether the canonical path `at` (`jobs[].data`, `results`) is inside the user's data of `op`. */
function isUser(op, at) {
  return (USER_DATA[op] ?? []).some((u) => u === "" || at === u || at.startsWith(u + ".") || at.startsWith(u + "["));
}
const join = (at, k) => (at ? `${at}.${k}` : k);

/** A JSON value expected at canonical path `at`, with the SDK's keys camelCase. */
function camelJson(op, v, at) {
  if (isUser(op, at) || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => camelJson(op, x, `${at}[]`));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [isUser(op, join(at, k)) ? k : camel(k), camelJson(op, x, join(at, k))]));
}

/** A result shape of the case (tests/conformance/README.md) for the SDK's keys. */
function camelShape(op, shape, at = "") {
  if (!shape || typeof shape !== "object" || isUser(op, at)) return shape;
  const out = { ...shape };
  if (shape.keys) out.keys = Object.fromEntries(Object.entries(shape.keys).map(([k, sub]) => [isUser(op, join(at, k)) ? k : camel(k), camelShape(op, sub, join(at, k))]));
  if ("items" in shape) out.items = camelShape(op, shape.items, `${at}[]`);
  if ("equals" in shape) out.equals = camelJson(op, shape.equals, at);
  if ("contains" in shape) out.contains = camelJson(op, shape.contains, `${at}[]`);
  if ("unique_by" in shape && !isUser(op, `${at}[]`)) out.unique_by = camel(shape.unique_by);
  if (shape.values) {
    out.values = Object.fromEntries(
      Object.entries(shape.values).map(([pth, want]) => {
        let cur = at;
        const segs = pth.split(".").map((seg) => {
          if (/^\d+$/.test(seg)) {
            cur = `${cur}[]`;
            return seg;
          }
          const user = isUser(op, join(cur, seg));
          cur = join(cur, seg);
          return user ? seg : camel(seg);
        });
        return [segs.join("."), camelJson(op, want, cur)];
      }),
    );
  }
  return out;
}

/** The SDK's answer as JSON: Dates as the engine's text, Buffers as they are. */
const toJson = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

function resolve(value, vars, later = []) {
  const deferred = (ref) => later.includes(ref.split(".")[0]) && !(ref.split(".")[0] in vars);
  if (typeof value === "string") {
    const m = FULL.exec(value);
    if (m) return deferred(m[1]) ? value : lookup(vars, m[1]);
    return value.replace(TEMPLATE, (all, ref) => {
      if (deferred(ref)) return all;
      const v = lookup(vars, ref);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, vars, later));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, vars, later)]));
  return value;
}

function typeOk(v, t) {
  return t.split("|").some((alt) => {
    alt = alt.trim();
    if (alt === "any") return true;
    if (alt === "null") return v === null;
    if (alt === "boolean") return typeof v === "boolean";
    if (alt === "integer") return typeof v === "number" && Number.isInteger(v);
    if (alt === "number") return typeof v === "number";
    if (alt === "string") return typeof v === "string";
    if (alt === "object") return v !== null && typeof v === "object" && !Array.isArray(v);
    if (alt === "array") return Array.isArray(v);
    return false;
  });
}

function jsonEqual(a, b) {
  if (typeof a === "boolean" || typeof b === "boolean") return a === b;
  if (typeof a === "number" && typeof b === "number") return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return jsonEqual(ka, kb) && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return a === b;
}

function jsonSubset(expected, actual) {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    return actual && typeof actual === "object" && !Array.isArray(actual) && Object.entries(expected).every(([k, v]) => k in actual && jsonSubset(v, actual[k]));
  }
  return jsonEqual(expected, actual);
}

function checkShape(v, shape, at = "result") {
  if (typeof shape === "string") return typeOk(v, shape) ? [] : [`${at}: expected ${shape}, got ${short(v)}`];
  if (!shape || typeof shape !== "object") return [`${at}: the case's shape ${short(shape)} is not a type name or an object`];
  const p = [];
  if (shape.type !== undefined && !typeOk(v, shape.type)) return [`${at}: expected ${shape.type}, got ${short(v)}`];
  if ("equals" in shape && !jsonEqual(v, shape.equals)) p.push(`${at}: expected ${short(shape.equals)}, got ${short(v)}`);
  const missing = new Set();
  for (const [k, sub] of Object.entries(shape.keys ?? {})) {
    if (!v || typeof v !== "object" || Array.isArray(v)) {
      p.push(`${at}: expected an object with key ${k}, got ${short(v)}`);
      break;
    }
    if (!(k in v)) {
      missing.add(k);
      p.push(`${at}: missing key ${k} (keys: ${Object.keys(v).join(", ") || "none"})`);
    } else p.push(...checkShape(v[k], sub, `${at}.${k}`));
  }
  const len = Array.isArray(v) || typeof v === "string" ? v.length : null;
  if ("len" in shape && len !== shape.len) p.push(`${at}: expected length ${shape.len}, got ${len ?? short(v)}`);
  if ("min_len" in shape && (len === null || len < shape.min_len)) p.push(`${at}: expected at least ${shape.min_len} item(s), got ${short(v)}`);
  if ("items" in shape) {
    if (!Array.isArray(v)) p.push(`${at}: expected an array, got ${short(v)}`);
    else v.forEach((x, i) => p.push(...checkShape(x, shape.items, `${at}.${i}`)));
  }
  if ("contains" in shape) {
    const c = shape.contains;
    if (typeof v === "string") {
      if (typeof c !== "string" || !v.includes(c)) p.push(`${at}: expected to contain ${short(c)}, got ${short(v)}`);
    } else if (Array.isArray(v)) {
      if (!v.some((x) => jsonEqual(c, x))) p.push(`${at}: expected an element ${short(c)}, got ${short(v)}`);
    } else p.push(`${at}: contains needs a string or an array, got ${short(v)}`);
  }
  if ("unique_by" in shape) {
    const key = shape.unique_by;
    if (!Array.isArray(v) || !v.every((x) => x && typeof x === "object" && key in x)) p.push(`${at}: expected objects with ${key}, got ${short(v)}`);
    else {
      const ids = v.map((x) => JSON.stringify(x[key]));
      const dups = [...new Set(ids.filter((i, n) => ids.indexOf(i) !== n))];
      if (dups.length) p.push(`${at}: ${key} seen more than once: ${dups.join(", ")}`);
    }
  }
  for (const [pth, want] of Object.entries(shape.values ?? {})) {
    if (missing.has(pth.split(".")[0])) continue;
    let got;
    try {
      got = getPath(v, pth.split("."), `${at}.${pth}`);
    } catch (e) {
      p.push(e.message);
      continue;
    }
    if (!jsonEqual(got, want)) p.push(`${at}.${pth}: expected ${short(want)}, got ${short(got)}`);
  }
  return p;
}

// ------------------------------------------------------------------------------------------
// The Node SDK: operation name -> idiomatic method (arguments by name -> positional)
// ------------------------------------------------------------------------------------------

function bodyBytes(spec) {
  if (spec && typeof spec.text === "string") return Buffer.from(spec.text, "utf8");
  if (spec && typeof spec.pattern === "string" && Number.isInteger(spec.size)) {
    const p = Buffer.from(spec.pattern, "utf8");
    return Buffer.alloc(spec.size, p);
  }
  throw new CaseFailure(`not a bytes spec: ${short(spec)}`);
}

const collect = async (stream) => {
  const out = [];
  for await (const x of stream) out.push(x);
  return out;
};

// (client, args, o) => Promise of the canonical JSON; `o` = call options (signal).
const OPS = {
  "db.query": (c, a, o) => c.db.query(a.sql, a.params, o),
  "db.query_one": (c, a, o) => c.db.queryOne(a.sql, a.params, o),
  "db.batch": (c, a, o) => c.db.batch(a.queries, o),
  "db.collection.list": (c, a, o) => c.db.collection(a.collection).list({ filter: a.filter, limit: a.limit, cursor: a.cursor, order: a.order }, o),
  "db.collection.list_all": (c, a, o) => collect(c.db.collection(a.collection).listAll({ filter: a.filter, pageSize: a.page_size, order: a.order }, o)),
  "db.collection.get": (c, a, o) => c.db.collection(a.collection).get(a.id, o),
  "db.collection.create": (c, a, o) => c.db.collection(a.collection).create(a.data, o),
  "db.collection.update": (c, a, o) => c.db.collection(a.collection).update(a.id, a.data, o),
  "db.collection.delete": (c, a, o) => c.db.collection(a.collection).delete(a.id, o),
  "auth.signup": (c, a, o) => c.auth.signup(a.email, a.password, a.name, a.metadata, o),
  "auth.signin": (c, a, o) => c.auth.signin(a.email, a.password, o),
  "auth.register": (c, a, o) => c.auth.register(a.email, a.password, a.name, a.custom_fields, o),
  "auth.login": (c, a, o) => c.auth.login(a.email, a.password, o),
  "auth.send_otp": (c, a, o) => (a.phone !== undefined ? c.auth.sendOTP(a.phone, "phone", o) : c.auth.sendOTP(a.email, "email", o)),
  "auth.verify_otp": (c, a, o) => (a.phone !== undefined ? c.auth.verifyOTP(a.code, a.phone, "phone", o) : c.auth.verifyOTP(a.code, a.email, "email", o)),
  "auth.verify_email": (c, a, o) => c.auth.verifyEmail(a.token, o),
  "auth.resend_verification": (c, a, o) => c.auth.resendVerificationEmail(a.email, o),
  "auth.request_password_reset": (c, a, o) => c.auth.requestPasswordReset(a.email, o),
  "auth.reset_password": (c, a, o) => c.auth.resetPassword(a.token, a.new_password, o),
  "auth.refresh": (c, a, o) => c.auth.refreshToken(a.refresh_token, o),
  "auth.logout": (c, a, o) => c.auth.logout(a.access_token, a.refresh_token, o),
  "auth.me": (c, a, o) => c.auth.getCurrentUser(a.access_token, o),
  "auth.update_me": (c, a, o) => c.auth.updateProfile(a.access_token, a.fields, o),
  "auth.delete_avatar": (c, a, o) => c.auth.deleteAvatar(a.access_token, o),
  "auth.verify_token": (c, a, o) => c.auth.verifyToken(a.token, o),
  "cache.get": (c, a, o) => c.cache.get(a.key, o),
  "cache.set": (c, a, o) => c.cache.set(a.key, a.value, a.ttl, o),
  "cache.has": (c, a, o) => c.cache.has(a.key, o),
  "cache.delete": (c, a, o) => c.cache.delete(a.key, o),
  "cache.get_many": (c, a, o) => c.cache.getMany(a.keys, o),
  "cache.set_many": (c, a, o) => c.cache.setMany(a.entries, undefined, o),
  "cache.delete_many": (c, a, o) => c.cache.deleteMany(a.keys, o),
  "cache.list": (c, a, o) => c.cache.list(a.prefix, a.limit, a.cursor, o),
  "cache.keys": (c, a, o) => c.cache.keys(a.prefix, o),
  "cache.flush": (c, a, o) => c.cache.flush(a.prefix, o),
  "cache.expire": (c, a, o) => c.cache.expire(a.key, a.ttl, o),
  "cache.increment": (c, a, o) => c.cache.increment(a.key, a.amount, a.initial_value, a.ttl, o),
  "cache.list_all": (c, a, o) => collect(c.cache.listAll(a.prefix, a.page_size, o)),
  "queue.enqueue": (c, a, o) => c.queue.enqueue(a.type, a.data, a.delay_seconds, a.max_retries, o),
  "queue.send": (c, a, o) => c.queue.send(a.type, a.data, a.delay_seconds, a.max_retries, o),
  "queue.job": (c, a, o) => c.queue.job(a.job_id, o),
  "queue.jobs": (c, a, o) => c.queue.jobs(a.status, a.type, a.limit, a.cursor, o),
  "queue.jobs_all": (c, a, o) => collect(c.queue.jobsAll(a.status, a.type, a.limit, a.cursor, o)),
  "queue.cancel": (c, a, o) => c.queue.cancel(a.job_id, o),
  "queue.wait": (c, a, o) => c.queue.wait(a.job_id, a.timeout_ms, o),
  "storage.get_url": (c, a, o) => c.storage.getUrl(a.key, o),
  "storage.list": (c, a, o) => c.storage.list(a.prefix, a.limit, a.cursor, o),
  "storage.list_all": (c, a, o) => collect(c.storage.listAll(a.prefix, a.page_size, o)),
  "storage.delete": (c, a, o) => c.storage.delete(a.key, o),
  "storage.exists": (c, a, o) => c.storage.exists(a.key, o),
  "storage.metadata": (c, a, o) => c.storage.metadata(a.key, o),
  "storage.copy": (c, a, o) => c.storage.copy(a.source_key, a.dest_key, o),
  "storage.move": (c, a, o) => c.storage.move(a.source_key, a.dest_key, o),
  "storage.get": async (c, a, o) => {
    const { data, contentType } = await c.storage.get(a.key, o);
    if (!Buffer.isBuffer(data)) throw new CaseFailure(`storage.get answered ${typeof data}, not a Buffer`);
    let text = null;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    } catch {
      text = null;
    }
    return { size: data.length, text, contentType };
  },
  "ai.chat": (c, a, o) => c.ai.chat(a.messages, { model: a.model, temperature: a.temperature, maxTokens: a.max_tokens, topP: a.top_p, ...o }),
  "ai.chat_stream": (c, a, o) => collect(c.ai.chatStream(a.messages, { model: a.model, temperature: a.temperature, maxTokens: a.max_tokens, topP: a.top_p, ...o })),
  "ai.complete": (c, a, o) => c.ai.complete(a.prompt, { model: a.model, maxTokens: a.max_tokens, temperature: a.temperature, system: a.system, ...o }),
  "ai.embed": async (c, a, o) => ({ embedding: await c.ai.embed(a.text, o) }),
  "ai.search.ingest": (c, a, o) => c.ai.search.ingest(a.content, a.type, a.id, a.metadata, o),
  "ai.search.query": (c, a, o) => c.ai.search.query(a.text, a.top_k, a.types, a.filter, o),
  "ai.search.get": (c, a, o) => c.ai.search.get(a.id, o),
  "ai.search.update": (c, a, o) => c.ai.search.update(a.id, a.content, a.type, a.metadata, o),
  "ai.search.delete": (c, a, o) => c.ai.search.delete(a.id, o),
  "ai.search.delete_by_type": (c, a, o) => c.ai.search.deleteByType(a.type, o),
  "ai.search.list_types": (c, a, o) => c.ai.search.listTypes(o),
  "ai.search.count": (c, a, o) => c.ai.search.count(a.type, o),
  "ai.search.configure": (c, a, o) => c.ai.search.configure(a.embedding_model, o),
  "secrets.get": (c, a, o) => c.secrets.get(a.key, o),
  "secrets.set": (c, a, o) => c.secrets.set(a.key, a.value, o),
  "secrets.list": (c, a, o) => c.secrets.list(o),
  "services.invoke": (c, a, o) => c.services.invoke(a.service_name, a.data, o),
  call: (c, a, o) => c.call(a.slug, a.data, a.method, o),
  request: (c, a, o) => c.request(a.method, a.path, a.body, o),
  "gateway.chat": (c, a, o) => c.gateway.chat(a.api_slug, a.messages, { model: a.model, consumerKey: a.consumer_key, ...o }),
  "gateway.chat_stream": (c, a, o) => collect(c.gateway.chatStream(a.api_slug, a.messages, { model: a.model, consumerKey: a.consumer_key, ...o })),
  "gateway.wallet": (c, a, o) => c.gateway.wallet(a.api_slug, { consumerKey: a.consumer_key, ...o }),
  "gateway.usage": (c, a, o) => c.gateway.usage(a.api_slug, a.days, { consumerKey: a.consumer_key, ...o }),
  "gateway.billing_log": (c, a, o) => c.gateway.billingLog(a.consumer_id, a.api_id, a.units, a.metric, o),
  "realtime.emit": (c, a, o) => c.socket.emit(a.event, a.data, a.room, { persist: a.persist, ...o }),
  "local.outbox": (c, a, o) => c.local.outbox(a.to, a.limit, o),
  "local.workers": (c, a, o) => c.local.workers(o),
  "local.wait_served": (c, a, o) => c.local.waitServed(a.name, a.timeout_ms, o),
};

async function upload(c, a, tmp, o, onProgress) {
  const { body, source = "bytes", key, content_type, ...rest } = a;
  if (Object.keys(rest).length) throw new CaseFailure(`storage.upload: arguments the runner does not know: ${Object.keys(rest).join(", ")}`);
  const data = body !== undefined ? bodyBytes(body) : undefined;
  const opts = { path: key, contentType: content_type, onProgress, ...o };
  if (source === "path") {
    if (!data) throw new CaseFailure("storage.upload from a path needs a body");
    const f = path.join(tmp, `upload-${randomUUID()}.bin`);
    fs.writeFileSync(f, data);
    return c.storage.upload(f, opts);
  }
  return c.storage.upload(data, opts);
}

function runOp(c, op, a, env, o, onProgress) {
  if (op === "storage.upload") return upload(c, a, env.tmp, o, onProgress);
  const f = OPS[op];
  if (!f) throw new CaseFailure(`the Node runner has no mapping for operation ${op}`);
  return f(c, a, o);
}

function errorDto(e) {
  if (!(e instanceof AerostackError)) return null;
  return {
    code: e.code,
    family: e.family,
    status: e.status,
    message: e.message,
    request_id: e.requestId,
    retryable: e.retryable,
    retry_after: e.retryAfterMs,
    details: e.details,
  };
}

function describe(e) {
  const d = errorDto(e);
  if (d) return `${e.name} ${d.code}/${d.family} status=${d.status}: ${d.message}${d.details ? " details=" + short(d.details) : ""}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function checkError(d, want, elapsed) {
  const p = [];
  const got = `${d.code}/${d.family} status=${d.status} ${short(d.message, 120)}`;
  for (const k of ["code", "family"]) if (k in want && d[k] !== want[k]) p.push(`expected ${k} ${want[k]}, got ${got}`);
  if ("status" in want && d.status !== want.status) p.push(`expected status ${want.status}, got ${d.status} (${got})`);
  if ("retryable" in want && d.retryable !== want.retryable) p.push(`expected retryable=${want.retryable}, got ${d.retryable}`);
  if (want.retry_after === true && !(typeof d.retry_after === "number" && d.retry_after > 0)) p.push(`expected retry_after > 0, got ${d.retry_after}`);
  if (want.request_id === true && !d.request_id) p.push("expected a request id");
  if ("field" in want) {
    const field = d.details && typeof d.details === "object" ? d.details.field : undefined;
    if (field !== want.field) p.push(`expected details.field ${want.field}, got ${field} (${got}, details=${short(d.details)})`);
  }
  if ("message_contains" in want && !(d.message ?? "").includes(want.message_contains)) p.push(`expected the message to contain ${JSON.stringify(want.message_contains)}, got ${JSON.stringify(d.message)}`);
  if ("within_ms" in want && elapsed > want.within_ms) p.push(`expected the error within ${want.within_ms} ms, it took ${elapsed.toFixed(0)} ms`);
  return p;
}

// ------------------------------------------------------------------------------------------
// Fixtures
// ------------------------------------------------------------------------------------------

function fixtureWorker(spec) {
  const modules = (spec.modules ?? []).map((m) => {
    const handler = {
      echo: async (s, event) => ({ echo: event.data, method: event.method }),
      sleep: async (s, event) => {
        const ms = Number(event.data?.ms ?? 0);
        await new Promise((r) => setTimeout(r, Math.min(ms, 10_000)));
        return { slept_ms: ms };
      },
      fail: async () => {
        throw new Error(m.message);
      },
      sdk_db: async (s, event) => {
        const rows = await s.db.query("SELECT ? AS value", [event.data?.value]);
        return { value: rows.results[0].value, project_id: s.projectId };
      },
    }[m.behaviour];
    if (!handler) throw new Error(`platform.json: unknown module behaviour ${m.behaviour}`);
    return { slug: m.slug, methods: m.methods, public: Boolean(m.public), handler };
  });
  const jobs = (spec.jobs ?? []).map((j) => {
    const handler = {
      double: async (s, job) => ({ doubled: job.data.n * 2 }),
      fail: async () => {
        throw new Error(j.message);
      },
    }[j.behaviour];
    if (!handler) throw new Error(`platform.json: unknown job behaviour ${j.behaviour}`);
    return { type: j.type, handler };
  });
  return { modules, jobs };
}

function notJsonServer() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>not json</html>");
    });
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

function closedPortUrl() {
  return new Promise((r) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = s.address().port;
      s.close(() => r(`http://127.0.0.1:${port}/v1`));
    });
  });
}

class Env {
  constructor(platform, spec, tmp, notJson, closedUrl) {
    Object.assign(this, { platform, spec, tmp, notJson, closedUrl });
    this.project = { id: platform.projectId, api_key: platform.apiKey };
    this.worker = null;
    this.workerError = null;
    this.fresh = 0;
  }
  async freshProject(label) {
    this.fresh += 1;
    const info = await this.platform.createProject(`conformance-fresh-${this.fresh}-${label}`.slice(0, 60));
    return { id: info.id, api_key: info.apiKey };
  }
  async startWorker() {
    if (this.worker || this.workerError) return;
    try {
      this.worker = await serve({ ...fixtureWorker(this.spec), apiKey: this.project.api_key, baseUrl: this.platform.apiUrl, concurrency: 8, label: "conformance-node", connectTimeoutMs: 20_000 });
    } catch (e) {
      this.workerError = describe(e);
    }
  }
  client(project, overrides = {}) {
    const o = { ...overrides };
    const opts = { projectId: project.id, apiKey: project.api_key, baseUrl: this.platform.apiUrl, ignoreEnv: true };
    if ("api_key" in o) opts.apiKey = o.api_key;
    if ("base_url" in o) opts.baseUrl = o.base_url;
    if ("retry" in o) {
      if (o.retry !== false) throw new CaseFailure(`client.retry: the runner knows only false, got ${short(o.retry)}`);
      opts.retry = false;
    }
    if ("timeout_ms" in o) opts.timeoutMs = o.timeout_ms;
    for (const k of Object.keys(o)) if (!["api_key", "base_url", "retry", "timeout_ms", "project"].includes(k)) throw new CaseFailure(`client options the runner does not know: ${k}`);
    return new AerostackClient(opts);
  }
}

// ------------------------------------------------------------------------------------------
// One case
// ------------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Run {
  constructor(c, env, runId) {
    this.c = c;
    this.env = env;
    this.runId = runId;
  }

  async init() {
    const co = this.c.client ?? {};
    this.project = this.env.project;
    if (co.project === "fresh") this.project = await this.env.freshProject(this.c.id);
    else if (co.project !== undefined && co.project !== "default") throw new CaseFailure(`client.project: the runner knows only "fresh" and "default", got ${co.project}`);
    this.vars = {
      run: `${this.runId}n`,
      api_url: this.env.platform.apiUrl,
      project_id: this.project.id,
      closed_port_url: this.env.closedUrl,
      not_json_url: this.env.notJson,
    };
  }

  plain() {
    this.plainClient ??= this.env.client(this.project);
    return this.plainClient;
  }

  async setup(steps) {
    for (const [i, step] of steps.entries()) {
      const a = resolve(step.args ?? {}, this.vars);
      let v;
      try {
        v = await runOp(this.plain(), step.call, a, this.env);
      } catch (e) {
        if (e instanceof CaseFailure) throw e;
        throw new CaseFailure(`setup step ${i + 1} (${step.call}) failed: ${describe(e)}`);
      }
      if (step.save) this.vars[step.save] = v;
    }
  }

  async run() {
    await this.init();
    if ((this.c.requires ?? []).includes("worker")) {
      await this.env.startWorker();
      if (this.env.workerError) throw new CaseFailure(`the fixture worker did not start: ${this.env.workerError}`);
    }
    await this.setup(this.c.setup ?? []);
    if ("scenario" in this.c) {
      const impl = SCENARIOS[this.c.scenario];
      if (!impl) throw new CaseFailure(`the Node runner has no scenario ${this.c.scenario}`);
      return impl(this, resolve(this.c.params ?? {}, this.vars, ["i"]), resolve(this.c.expect ?? {}, this.vars));
    }
    return this.runCall();
  }

  async runCall() {
    const c = this.c;
    const op = c.call;
    const a = resolve(c.args ?? {}, this.vars);
    const expect = c.expect ?? {};
    if (["result", "error", "cancelled"].filter((k) => k in expect).length !== 1) throw new CaseFailure("expect must have exactly one of result, error, cancelled");
    const options = resolve(c.options ?? {}, this.vars);
    const started = performance.now();
    let result;
    try {
      let client = this.env.client(this.project, resolve(c.client ?? {}, this.vars));
      if (Object.keys(options).length) {
        const o = {};
        if ("timeout_ms" in options) o.timeoutMs = options.timeout_ms;
        if ("retry" in options) {
          if (options.retry !== false) throw new CaseFailure("options.retry: the runner knows only false");
          o.retry = false;
        }
        if ("idempotency_key" in options) o.idempotencyKey = options.idempotency_key;
        const unknown = Object.keys(options).filter((k) => !["timeout_ms", "retry", "idempotency_key"].includes(k));
        if (unknown.length) throw new CaseFailure(`call options the runner does not know: ${unknown.join(", ")}`);
        client = client.withOptions(o);
      }
      if ("cancelled" in expect) return await this.runCancel(client, op, a, c.cancel_after_ms ?? 0, expect.cancelled);
      result = await runOp(client, op, a, this.env);
    } catch (e) {
      if (e instanceof CaseFailure) throw e;
      const elapsed = performance.now() - started;
      const d = errorDto(e);
      if (!("error" in expect)) throw new CaseFailure(`expected a result, the call raised ${describe(e)}`);
      if (!d) throw new CaseFailure(`expected an SDK error, got ${describe(e)}`);
      const p = checkError(d, resolve(expect.error, this.vars), elapsed);
      if (p.length) throw new CaseFailure(p.join("; "));
      return `${d.code} (${d.family})`;
    }
    if ("error" in expect) throw new CaseFailure(`expected error ${short(expect.error)}, the call answered ${short(result)}`);
    const p = checkShape(toJson(result), camelShape(op, resolve(expect.result, this.vars)));
    if (p.length) throw new CaseFailure(p.join("; "));
    return "ok";
  }

  async runCancel(client, op, a, afterMs, want) {
    const ac = new AbortController();
    let settled = null;
    const call = Promise.resolve()
      .then(() => runOp(client, op, a, this.env, { signal: ac.signal }))
      .then(
        (v) => (settled = { ok: true, v }),
        (e) => (settled = { ok: false, e }),
      );
    await sleep(afterMs);
    if (settled) throw new CaseFailure(`the call ended before it was cancelled: ${settled.ok ? short(settled.v) : describe(settled.e)}`);
    const t0 = performance.now();
    ac.abort();
    const within = want.within_ms ?? 1000;
    await Promise.race([call, sleep(within)]);
    const elapsed = performance.now() - t0;
    if (!settled) throw new CaseFailure(`the cancelled call was still running after ${within} ms`);
    if (settled.ok) throw new CaseFailure(`the cancelled call answered ${short(settled.v)}`);
    const d = errorDto(settled.e);
    if (!d || d.family !== "cancelled") throw new CaseFailure(`the cancelled call ended with ${describe(settled.e)}, not as cancelled`);
    try {
      await client.db.query("SELECT 1 AS one");
    } catch (e) {
      throw new CaseFailure(`cancelled, but the next call on the same client failed: ${describe(e)}`);
    }
    return `${d.code} (cancelled) ${elapsed.toFixed(0)} ms after abort`;
  }
}

// ------------------------------------------------------------------------------------------
// Scenarios
// ------------------------------------------------------------------------------------------

async function until(pred, timeoutMs, what) {
  const deadline = performance.now() + timeoutMs;
  while (!(await pred())) {
    if (performance.now() > deadline) throw new CaseFailure(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what()}`);
    await sleep(50);
  }
}

const budget = (run, reserveMs = 2000) => Math.max(1000, (run.c.timeout_ms ?? DEFAULT_CASE_TIMEOUT_MS) - reserveMs);

const SCENARIOS = {
  async "gateway.socket"(run, params, expect) {
    const c = run.plain();
    const p = [];
    try {
      const bad = await c.gateway.connectWebSocket(params.api_slug, { consumerKey: params.bad_key });
      await bad.close();
      p.push("a refused consumer key connected");
    } catch (e) {
      const d = errorDto(e);
      if (!d) throw e;
      p.push(...checkError(d, expect.refused, 0).map((x) => `refused key: ${x}`));
    }
    const s = await c.gateway.connectWebSocket(params.api_slug, { consumerKey: params.consumer_key });
    const events = [];
    s.on("error", (ev) => events.push(ev));
    s.on("close", (ev) => events.push(ev));
    try {
      await s.ping(); // resolves on the pong that carries its request id
      const sent = await s.send(params.frame);
      await until(() => events.some((e) => e.type === "error"), budget(run, 5000), () => `no error event for the unknown frame: ${short(events)}`);
      const err = events.find((e) => e.type === "error");
      if (err.request !== sent || err.family !== expect.unknown_frame.family) p.push(`the unknown frame (request ${sent}) got ${short({ ...err, error: undefined })}`);
      try {
        const got = await s.chat(params.messages);
        p.push(`the chat answered ${short(got)}, expected an error`);
      } catch (e) {
        const d = errorDto(e);
        if (!d) throw e;
        p.push(...checkError(d, expect.chat_error, 0).map((x) => `chat: ${x}`));
      }
      await s.ping();
    } finally {
      await s.close();
    }
    await until(() => events.some((e) => e.type === "close"), budget(run, 5000), () => `no close event: ${short(events)}`);
    const closed = events.find((e) => e.type === "close");
    if (closed.code !== expect.close_code) p.push(`closed with ${short(closed)}, expected code ${expect.close_code}`);
    if (p.length) throw new CaseFailure(p.join("; "));
    return "refused key, ping/pong, error frame, chat error, close";
  },

  async "realtime.round_trip"(run, params, expect) {
    const watcher = run.env.client(run.project);
    const actor = run.env.client(run.project);
    const events = [];
    const record = (ev) => {
      const d = JSON.parse(JSON.stringify(ev));
      d.state = d.data && typeof d.data === "object" && !Array.isArray(d.data) ? d.data.state ?? null : null;
      events.push(d);
    };
    try {
      await actor.db.query(params.create_sql);
      const pub = params.publish;
      const ch = watcher.realtime.channel(params.table, params.filter ? { filter: params.filter } : undefined);
      for (const name of ["INSERT", "UPDATE", "presence:join", pub.event]) ch.on(name, record);
      await ch.subscribe();
      const mine = actor.realtime.channel(params.table);
      await mine.subscribe();
      await mine.track(params.presence_state);
      const ack = await mine.publish(pub.event, pub.data, { persist: Boolean(pub.persist) });
      await actor.db.query(params.insert.sql, params.insert.params ?? []);
      await actor.db.query(params.update.sql, params.update.params ?? []);
      const wanted = Object.fromEntries(["insert", "update", "presence", "publish"].filter((k) => k in expect).map((k) => [k, expect[k]]));
      const missing = () => Object.entries(wanted).filter(([, w]) => !events.some((e) => jsonSubset(w, e))).map(([k]) => k);
      await until(() => missing().length === 0, budget(run, 5000), () => `${missing().join(", ")}; received: ${short(events, 600)}`);
      let detail = `${events.length} events`;
      for (const absent of expect.absent ?? []) {
        if (events.some((e) => jsonSubset(absent, e))) throw new CaseFailure(`received ${short(absent)}, which the filter excludes: ${short(events, 600)}`);
      }
      if ("history_contains" in expect) {
        const history = await ch.getHistory(50);
        if (!Array.isArray(history) || !history.some((m) => jsonSubset(camelJson("realtime.history", expect.history_contains, "[]"), toJson(m)))) throw new CaseFailure(`history has no ${short(expect.history_contains)}: ${short(history, 400)}`);
        detail += `, history ${history.length}`;
      }
      if (pub.persist && !(ack && ack.id)) throw new CaseFailure(`publish with persist answered no id: ${short(ack)}`);
      return detail;
    } finally {
      await watcher.close().catch(() => {});
      await actor.close().catch(() => {});
    }
  },

  async "queue.run_job"(run, params, expect) {
    const c = run.plain();
    const sent = await c.queue.send(params.type, params.data, undefined, params.max_retries ?? 3);
    let job = {};
    const deadline = performance.now() + budget(run);
    for (;;) {
      job = (await c.queue.job(sent.jobId)) ?? {};
      if (["completed", "failed", "cancelled"].includes(job.status)) break;
      if (performance.now() > deadline) throw new CaseFailure(`job ${sent.jobId} did not finish in time: ${short(job)}`);
      await sleep(100);
    }
    const p = [];
    for (const k of ["status", "attempts"]) if (k in expect && !jsonEqual(job[k], expect[k])) p.push(`expected ${k} ${expect[k]}, got ${job[k]}`);
    if ("result" in expect && !jsonEqual(job.result, expect.result)) p.push(`expected result ${short(expect.result)}, got ${short(job.result)}`);
    if ("last_error_contains" in expect && !(job.lastError ?? "").includes(expect.last_error_contains)) p.push(`expected lastError to contain ${expect.last_error_contains}, got ${job.lastError}`);
    if (p.length) throw new CaseFailure(p.join("; ") + ` (job: ${short(job, 300)})`);
    return `${job.status} after ${job.attempts} attempt(s)`;
  },

  async "storage.round_trip"(run, params, expect) {
    const c = run.plain();
    const data = bodyBytes(params.body);
    const calls = [];
    const a = { key: params.key, content_type: params.content_type, body: params.body, source: params.source ?? "bytes" };
    const up = await runOp(c, "storage.upload", a, run.env, undefined, (sent, total) => calls.push([sent, total]));
    const p = [];
    if ("upload" in expect) p.push(...checkShape(toJson(up), camelShape("storage.upload", expect.upload), "upload"));
    const want = expect.progress ?? {};
    if (calls.length < (want.min_calls ?? 1)) p.push(`progress called ${calls.length} time(s), expected at least ${want.min_calls ?? 1}`);
    if (calls.length && want.reaches_total) {
      const [sent, total] = calls[calls.length - 1];
      if (sent !== data.length || total !== data.length) p.push(`the last progress call was (${sent}, ${total}), expected (${data.length}, ${data.length})`);
    }
    if (want.monotonic && calls.some((x, i) => i > 0 && x[0] < calls[i - 1][0])) p.push(`progress went backwards: ${short(calls.slice(0, 20))}`);
    const dw = expect.download ?? {};
    const got = await c.storage.get(params.key);
    if (dw.bytes_equal && !got.data.equals(data)) p.push(`downloaded ${got.data.length} bytes that differ from the ${data.length} uploaded`);
    if ("content_type" in dw && got.contentType !== dw.content_type) p.push(`download.content_type: expected ${dw.content_type}, got ${got.contentType}`);
    if (p.length) throw new CaseFailure(p.join("; "));
    return `${data.length} bytes, ${calls.length} progress call(s)`;
  },

  async paginate(run, params, expect) {
    const c = run.plain();
    const seed = params.seed;
    if (seed) {
      for (let i = 1; i <= Number(seed.count ?? 1); i++) {
        const a = resolve(seed.args ?? {}, { ...run.vars, i });
        try {
          await runOp(c, seed.call, a, run.env);
        } catch (e) {
          if (e instanceof CaseFailure) throw e;
          throw new CaseFailure(`seeding ${seed.call} #${i} failed: ${describe(e)}`);
        }
      }
    }
    const lst = params.list;
    const seen = [];
    const cursors = [];
    let cursor = null;
    let pages = 0;
    for (;;) {
      const a = { ...(lst.args ?? {}) };
      if (cursor !== null) a.cursor = cursor;
      const page = await runOp(c, lst.call, a, run.env);
      pages += 1;
      const items = page && typeof page === "object" ? page[camel(params.items)] : undefined;
      if (!Array.isArray(items)) throw new CaseFailure(`page ${pages} has no array ${params.items}: ${short(page)}`);
      seen.push(...items.map((it) => (it && typeof it === "object" ? it[camel(params.item_id)] : it)));
      const nxt = page.cursor;
      if (!nxt) break;
      if (cursors.includes(nxt)) throw new CaseFailure(`page ${pages} repeated an earlier cursor ${nxt}`);
      cursors.push(nxt);
      cursor = nxt;
      if (pages >= 100) throw new CaseFailure("more than 100 pages: the cursor never ended");
    }
    const p = [];
    if ("count" in expect && seen.length !== expect.count) p.push(`saw ${seen.length} item(s) over ${pages} page(s), expected ${expect.count}: ${short(seen)}`);
    if (expect.unique && new Set(seen.map(String)).size !== seen.length) p.push(`some items were seen more than once: ${short(seen)}`);
    if ("min_pages" in expect && pages < expect.min_pages) p.push(`${pages} page(s), expected at least ${expect.min_pages}`);
    if (p.length) throw new CaseFailure(p.join("; "));
    return `${seen.length} items in ${pages} pages`;
  },
};

// ------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { cases: path.join(SUITE, "cases") };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") o.out = argv[++i];
    else if (argv[i] === "--only") o.only = argv[++i];
    else if (argv[i] === "--cases") o.cases = argv[++i];
    else {
      console.error(`unknown argument ${argv[i]}; usage: run.mjs --out FILE [--only PATTERNS] [--cases DIR]`);
      process.exit(2);
    }
  }
  if (!o.out) {
    console.error("--out FILE is required");
    process.exit(2);
  }
  return o;
}

function matches(id, pat) {
  if (id.includes(pat)) return true;
  const re = new RegExp("^" + pat.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  return re.test(id);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let cases = loadCases(args.cases);
  if (args.only) cases = cases.filter((c) => args.only.split(",").some((p) => matches(c.id, p)));
  const spec = JSON.parse(fs.readFileSync(path.join(path.dirname(args.cases), "platform.json"), "utf8"));
  const results = {};
  let platform;
  try {
    const { rate_limits, ...rest } = spec.platform ?? {};
    const o = {};
    for (const [k, v] of Object.entries(rest)) o[k.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase())] = v ?? undefined;
    // platform.json gives rate-limit windows in seconds; the platform takes milliseconds.
    o.rateLimits = Object.fromEntries(Object.entries(rate_limits ?? {}).map(([name, [count, seconds]]) => [name, [count, seconds * 1000]]));
    platform = await LocalPlatform.start(o);
  } catch (e) {
    const reason = `the local platform did not start: ${describe(e)}`;
    for (const c of cases) {
      results[c.id] = { status: "fail", detail: reason };
      console.log(`FAIL ${c.id}: ${reason}`);
    }
    return results;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "conformance-node-"));
  const nj = await notJsonServer();
  const env = new Env(platform, spec, tmp, `http://127.0.0.1:${nj.address().port}/v1`, await closedPortUrl());
  const runId = randomUUID().replace(/-/g, "").slice(0, 8);
  try {
    for (const c of cases) {
      const t0 = performance.now();
      const timeout = c.timeout_ms ?? DEFAULT_CASE_TIMEOUT_MS;
      let ok = true;
      let detail;
      let timer;
      try {
        detail = await Promise.race([
          new Run(c, env, runId).run(),
          new Promise((_, rej) => (timer = setTimeout(() => rej(new CaseFailure(`the case did not finish within ${timeout / 1000} s`)), timeout))),
        ]);
      } catch (e) {
        ok = false;
        detail = `FAILED: ${e instanceof CaseFailure ? e.message : describe(e) + (e?.stack ? ` (${e.stack.split("\n")[1]?.trim()})` : "")}`;
      } finally {
        clearTimeout(timer);
      }
      results[c.id] = { status: ok ? "pass" : "fail", detail };
      console.log(`${ok ? "PASS" : "FAIL"} ${c.id} (${(performance.now() - t0).toFixed(0)} ms)${ok ? "" : ": " + detail}`);
    }
  } finally {
    if (env.worker) await env.worker.stop(5000).catch(() => {});
    nj.close();
    await platform.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

const args = parseArgs(process.argv.slice(2));
const results = await main();
fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
fs.writeFileSync(args.out, JSON.stringify({ language: "node", results }, null, 2) + "\n");
const passed = Object.values(results).filter((r) => r.status === "pass").length;
const failed = Object.keys(results).length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed || !Object.keys(results).length ? 1 : 0;
