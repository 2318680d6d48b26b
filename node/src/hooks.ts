/**
 * `aerostack/hooks`: Logic Modules and queue workers in Node, running seed 000's JavaScript as
 * written. A module file's default export `async function (sdk, event)` is a Logic Module (its
 * slug is the file name, or `export const config = { slug, public, allowGet }`); a named export
 * such as `sendWelcomeEmail(sdk, job)` serves the `send-welcome-email` queue jobs.
 *
 *     import { serve } from "aerostack/hooks";
 *     const worker = await serve({ modules: "./modules" });        // a folder, files, or functions
 *     const worker = await serve({ modules: { "search-products": search }, jobs: { sendWelcomeEmail } });
 *
 * `npx aerostack-worker ./modules/` does the same from the command line. The engine holds the
 * connection (reconnecting, re-registering); this module pulls invocations (`nextInvocation`
 * promises), runs the handler with the invocation's scoped `sdk`, and answers. A worker keeps
 * the process alive until `stop()`/`drain()`; SIGTERM drains when `handleSignals` is set.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

import { AerostackClient } from "./client";
import { log } from "./log";
import { native, type NativeCancel, type NativeInvocation, type NativeWorker } from "./native";
import { shape } from "./shape";
import { settle } from "./transport";

/** A Fetch-like response of `sdk.fetch`. */
export class FetchResponse {
  readonly ok: boolean;
  readonly headers: Headers;
  constructor(
    readonly status: number,
    headers: Record<string, string>,
    private readonly bodyText: string,
    readonly url: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = new Headers(headers);
  }
  get statusText(): string {
    return String(this.status);
  }
  async text(): Promise<string> {
    return this.bodyText;
  }
  async json(): Promise<any> {
    return JSON.parse(this.bodyText);
  }
}

export interface FetchInit {
  method?: string;
  headers?: Record<string, unknown> | Headers;
  /** A string, or any JSON value (sent as its JSON text). */
  body?: unknown;
  timeoutMs?: number;
}

/** The scoped `sdk` a handler receives: every client service, bound to the invocation's project, plus `fetch`. */
export class ScopedSdk extends AerostackClient {
  /** The project the invocation belongs to. */
  readonly projectId: string;

  constructor(inv: NativeInvocation) {
    super({}, inv.client());
    this.projectId = inv.projectId;
  }

  /** Calls an external HTTP API (with a standard User-Agent); a Fetch-like response. */
  async fetch(url: string, init: FetchInit = {}): Promise<FetchResponse> {
    const headers = init.headers instanceof Headers ? Object.fromEntries([...(init.headers as unknown as Iterable<[string, string]>)]) : init.headers;
    const body = init.body === undefined || typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    const r = await this.transport.raw<{ status: number; headers: Record<string, string>; body: string }>("fetch", {
      url,
      method: init.method,
      headers,
      body,
      timeout_ms: init.timeoutMs,
    });
    return new FetchResponse(r.status, r.headers ?? {}, r.body ?? "", url);
  }
}

/**
 * What a handler receives: the platform's event in camelCase (`event`, `timestamp` as a `Date`,
 * `data` as the caller sent it, `projectId`; a Logic Module's `method`, `headers`, `query`, `slug`;
 * a job's `id`, `type`, `attempt`, `maxRetries`, `createdAt`). Seed 000's `event.project_id`
 * also reads the project id.
 */
export interface HandlerEvent<D = any> {
  event: string;
  timestamp?: Date | null;
  data: D;
  projectId: string;
  /** Seed 000's name of `projectId` (not enumerated). */
  readonly project_id: string;
  slug?: string;
  method?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  id?: string;
  type?: string;
  attempt?: number;
  maxRetries?: number;
  createdAt?: Date | null;
  [key: string]: unknown;
}

/** A handler's event in the package's shape, with seed 000's `project_id` alias. */
export function handlerEvent(json: string): HandlerEvent {
  const ev = shape<HandlerEvent>("worker.invocation", JSON.parse(json));
  Object.defineProperty(ev, "project_id", { get: () => ev.projectId, enumerable: false });
  return ev;
}

export type Handler = (sdk: ScopedSdk, event: HandlerEvent) => unknown;

export interface ModuleDef {
  slug: string;
  handler: Handler;
  /** HTTP methods (default `["POST"]`; `allowGet` adds GET). */
  methods?: string[];
  public?: boolean;
  allowGet?: boolean;
  /** `"api"` (default) or a platform event name. */
  trigger?: string;
  timeoutMs?: number;
  name?: string;
}

export interface JobDef {
  type: string;
  handler: Handler;
  timeoutMs?: number;
}

export interface ServeOptions {
  /** A folder or file path (or several), `{ slug: handler }`, or module definitions. */
  modules?: string | string[] | Record<string, Handler> | ModuleDef[];
  /** `{ sendWelcomeEmail }` (type `send-welcome-email`), `{ "job-type": handler }`, or job definitions. */
  jobs?: Record<string, Handler> | JobDef[];
  apiKey?: string;
  baseUrl?: string;
  projectId?: string;
  /** Most queue jobs in flight at once (default 4). */
  concurrency?: number;
  label?: string;
  /** How long to wait for the platform to confirm the registration (ms, default 10 000). */
  connectTimeoutMs?: number;
  /** Drain on SIGTERM/SIGINT, then exit (the `aerostack-worker` command sets it). */
  handleSignals?: boolean;
}

const isFn = (v: unknown): v is Handler => typeof v === "function";

/** The Logic Modules and jobs of one module file (seed 000's conventions). */
export async function loadFile(file: string): Promise<{ modules: ModuleDef[]; jobs: JobDef[] }> {
  const abs = path.resolve(file);
  const m = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  // A CommonJS file's exports come as `default` (module.exports).
  const ns: Record<string, unknown> =
    m.default && typeof m.default === "object" && !isFn(m.default) ? { ...(m.default as object), ...m } : m;
  const modules: ModuleDef[] = [];
  const jobs: JobDef[] = [];
  const config = (ns.config ?? {}) as { slug?: string; public?: boolean; allowGet?: boolean; methods?: string[]; trigger?: string; timeoutMs?: number };
  if (isFn(ns.default)) {
    const slug = config.slug ?? path.basename(abs).replace(/\.(m|c)?[jt]s$/, "");
    modules.push({ slug, handler: ns.default, public: config.public, allowGet: config.allowGet, methods: config.methods, trigger: config.trigger, timeoutMs: config.timeoutMs });
  }
  for (const [name, v] of Object.entries(ns)) {
    if (name === "default" || name === "config" || !isFn(v)) continue;
    jobs.push({ type: native.jobTypeFromFunctionName(name), handler: v });
  }
  return { modules, jobs };
}

/** Every module file of a folder (`.js`, `.mjs`, `.cjs`), or the file itself. */
export async function loadPath(p: string): Promise<{ modules: ModuleDef[]; jobs: JobDef[] }> {
  const st = fs.statSync(p);
  const files = st.isDirectory()
    ? fs
        .readdirSync(p)
        .filter((f) => /\.(m|c)?js$/.test(f) && !f.startsWith("."))
        .sort()
        .map((f) => path.join(p, f))
    : [p];
  const out = { modules: [] as ModuleDef[], jobs: [] as JobDef[] };
  for (const f of files) {
    const r = await loadFile(f);
    out.modules.push(...r.modules);
    out.jobs.push(...r.jobs);
  }
  return out;
}

async function definitions(o: ServeOptions): Promise<{ modules: ModuleDef[]; jobs: JobDef[] }> {
  const modules: ModuleDef[] = [];
  const jobs: JobDef[] = [];
  const m = o.modules;
  if (typeof m === "string" || (Array.isArray(m) && m.every((x) => typeof x === "string"))) {
    for (const p of (typeof m === "string" ? [m] : m) as string[]) {
      const r = await loadPath(p);
      modules.push(...r.modules);
      jobs.push(...r.jobs);
    }
  } else if (Array.isArray(m)) {
    modules.push(...(m as ModuleDef[]));
  } else if (m) {
    for (const [slug, handler] of Object.entries(m)) modules.push({ slug, handler });
  }
  if (Array.isArray(o.jobs)) jobs.push(...o.jobs);
  else if (o.jobs) {
    for (const [name, handler] of Object.entries(o.jobs)) {
      jobs.push({ type: name.includes("-") ? name : native.jobTypeFromFunctionName(name), handler });
    }
  }
  return { modules, jobs };
}

/** A running worker: `stop()`, `drain()`, what it serves. */
export class Worker {
  private readonly handlers = new Map<string, Handler>();
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void>;
  private readonly cancel: NativeCancel = new native.NativeCancel();
  private onSignal: (() => void) | null = null;

  /** @internal */
  constructor(
    private readonly h: NativeWorker,
    readonly modules: ModuleDef[],
    readonly jobs: JobDef[],
  ) {
    for (const m of modules) this.handlers.set(`m:${m.slug}`, m.handler);
    for (const j of jobs) this.handlers.set(`j:${j.type}`, j.handler);
    this.loop = this.run();
  }

  get projectId(): string | null {
    return this.h.projectId;
  }

  get closed(): boolean {
    return this.h.isClosed;
  }

  private async run(): Promise<void> {
    for (;;) {
      let out: unknown;
      try {
        out = await this.h.nextInvocation(null, this.cancel);
      } catch (e) {
        log("warning", "worker", `stopped pulling invocations: ${String(e)}`);
        return;
      }
      if (typeof out === "string") {
        try {
          settle(out); // "0": stopped; an error text throws
        } catch (e) {
          if (!this.cancel.cancelled) log("warning", "worker", `stopped pulling invocations: ${String(e)}`);
        }
        return;
      }
      const p = this.handle(out as NativeInvocation);
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  private async handle(inv: NativeInvocation): Promise<void> {
    const key = inv.kind === "job" ? `j:${inv.name}` : `m:${inv.name}`;
    const fn = this.handlers.get(key) ?? this.handlers.get(`m:${inv.name}`) ?? this.handlers.get(`j:${inv.name}`);
    try {
      if (!fn) throw new Error(`this worker has no handler for ${inv.kind} ${inv.name}`);
      const result = await fn(new ScopedSdk(inv), handlerEvent(inv.eventJson));
      this.h.complete(inv.id, JSON.stringify(result === undefined ? null : result));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log("warning", "worker", `${inv.kind} ${inv.name} failed: ${message}`);
      try {
        this.h.fail(inv.id, message);
      } catch (e2) {
        log("warning", "worker", `could not report the failure of ${inv.id}: ${String(e2)}`);
      }
    }
  }

  /** No new work; resolves once everything received was answered and the connection closed. */
  async drain(): Promise<void> {
    const done = this.h.drain();
    await Promise.allSettled([...this.inFlight]);
    settle(await done);
    await this.finish();
  }

  /** `drain()`, but closes after `graceMs` (default 10 000) whatever still runs. */
  async stop(graceMs = 10_000): Promise<void> {
    settle(await this.h.stop(graceMs));
    await this.finish();
  }

  private async finish(): Promise<void> {
    this.cancel.cancel();
    await this.loop;
    if (this.onSignal) {
      process.off("SIGTERM", this.onSignal);
      process.off("SIGINT", this.onSignal);
      this.onSignal = null;
    }
  }

  /** @internal */
  handleSignals(): void {
    this.onSignal = () => {
      log("debug", "worker", "signal received: draining");
      void this.drain().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGTERM", this.onSignal);
    process.once("SIGINT", this.onSignal);
  }
}

/** Connects a worker serving `modules` and `jobs`; resolves once the platform confirmed it. */
export async function serve(o: ServeOptions): Promise<Worker> {
  const { modules, jobs } = await definitions(o);
  const registration = {
    modules: modules.map((m) => ({
      slug: m.slug,
      name: m.name,
      methods: m.methods ?? (m.allowGet ? ["POST", "GET"] : ["POST"]),
      public: m.public ?? false,
      trigger: m.trigger,
      timeout_ms: m.timeoutMs,
    })),
    jobs: jobs.map((j) => ({ type: j.type, timeout_ms: j.timeoutMs })),
    concurrency: o.concurrency,
    label: o.label ?? "aerostack-node",
    connect_timeout_ms: o.connectTimeoutMs,
  };
  const client = { api_key: o.apiKey, base_url: o.baseUrl, project_id: o.projectId };
  const out = await native.NativeWorker.connect(JSON.stringify(client), JSON.stringify(registration));
  if (typeof out === "string") settle(out);
  const w = new Worker(out as NativeWorker, modules, jobs);
  if (o.handleSignals) w.handleSignals();
  log("debug", "worker", `serving ${modules.map((m) => m.slug).join(", ") || "no modules"}; jobs ${jobs.map((j) => j.type).join(", ") || "none"}`);
  return w;
}
