/**
 * How a call reaches the engine: arguments as the surface's JSON (snake_case names), per-call
 * options as `_options`, an `AbortSignal` as a cancel token, and the settled text turned into the
 * answer or the family's error. Every service class of the package goes through {@link Transport}.
 */
import { errorFromDto, cancelledError, validationError, type ErrorDto } from "./errors";
import { drainEngineLogs } from "./log";
import { native, type NativeCancel, type NativeClient, type NativeProgress, type NativeStream } from "./native";
import { shape } from "./shape";

/** Retries: `false` (none), `true` (the default policy) or a policy. */
export type RetryOption =
  | boolean
  | {
      maxAttempts?: number;
      initialIntervalMs?: number;
      maxIntervalMs?: number;
      exponent?: number;
      maxElapsedTimeMs?: number;
      retryConnectionErrors?: boolean;
      maxRetryAfterMs?: number;
      /** Seed 002's `RetryConfig`: `"backoff"` or `"none"`. */
      strategy?: "backoff" | "none";
      backoff?: { initialInterval?: number; maxInterval?: number; exponent?: number; maxElapsedTime?: number };
    };

/** Options every call takes (its last argument). */
export interface CallOptions {
  /** Aborting drops the engine's request; the call rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds. */
  timeoutMs?: number;
  retry?: RetryOption;
  /** The `Idempotency-Key` to send (one logical operation only). */
  idempotencyKey?: string;
  /** Extra headers for this call. */
  headers?: Record<string, string>;
}

const CALL_OPTION_KEYS = ["signal", "timeoutMs", "retry", "idempotencyKey", "headers"] as const;

/** `camelCase` -> `snake_case`. */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** An option object with its keys (recursively, not its `headers`) in the engine's snake_case. */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    out[snake(k)] = k === "headers" ? x : snakeKeys(x);
  }
  return out;
}

export function retryJson(r: RetryOption | undefined): unknown {
  // `true`/`false` go as they are: the engine reads them (the default policy, no retries).
  if (r === undefined || typeof r === "boolean") return r;
  return snakeKeys(r);
}

/** The engine's `CallOptions` JSON of `opts`, or undefined when there are none. */
export function callOptionsJson(opts: CallOptions | undefined): Record<string, unknown> | undefined {
  if (!opts) return undefined;
  const o: Record<string, unknown> = {};
  if (opts.timeoutMs !== undefined) o.timeout_ms = opts.timeoutMs;
  const retry = retryJson(opts.retry);
  if (retry !== undefined) o.retry = retry;
  if (opts.idempotencyKey !== undefined) o.idempotency_key = opts.idempotencyKey;
  if (opts.headers !== undefined) o.headers = opts.headers;
  return Object.keys(o).length ? o : undefined;
}

/** Splits the call options out of an object that also holds an operation's own options. */
export function splitOptions<T extends object>(o: (T & CallOptions) | undefined): [Partial<T>, CallOptions] {
  const own: Record<string, unknown> = {};
  const call: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o ?? {})) {
    if ((CALL_OPTION_KEYS as readonly string[]).includes(k)) call[k] = v;
    else own[k] = v;
  }
  return [own as Partial<T>, call as CallOptions];
}

/** Marks the end of a stream (the text `"0"` alone). */
export const END: unique symbol = Symbol("end");

/** The answer of a settled text, or its error thrown. */
export function settle(text: string): unknown {
  const flag = text.charCodeAt(0) - 48;
  if (flag >= 2) drainEngineLogs();
  if (flag === 0 || flag === 2) return text.length === 1 ? END : JSON.parse(text.slice(1));
  throw errorFromDto(JSON.parse(text.slice(1)) as ErrorDto);
}

/** A synchronous addon call whose thrown error carries the surface's error object. */
export function sync<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    const m = e instanceof Error ? e.message : "";
    if (m.length > 1 && (m[0] === "1" || m[0] === "3") && m[1] === "{") settle(m);
    throw e;
  }
}

/** One cancel token per signal, with one `abort` listener: a signal shared by many calls in
 * flight costs one listener (no MaxListeners warning) and one token, which drops them all. */
const tokens = new WeakMap<AbortSignal, NativeCancel>();

function tokenOf(signal: AbortSignal): NativeCancel {
  let c = tokens.get(signal);
  if (!c) {
    const token = new native.NativeCancel();
    signal.addEventListener("abort", () => token.cancel(), { once: true });
    tokens.set(signal, token);
    c = token;
  }
  return c;
}

/** Runs `start` with the cancel token of `signal` (none without a signal). */
export async function withSignal<T>(signal: AbortSignal | undefined, start: (c: NativeCancel | null) => Promise<T>): Promise<T> {
  if (!signal) return start(null);
  if (signal.aborted) throw cancelledError(signal.reason);
  try {
    return await start(tokenOf(signal));
  } catch (e) {
    if (signal.aborted && e instanceof Error && (e as { code?: string }).code === "CANCELLED") throw cancelledError(signal.reason);
    throw e;
  }
}

/** Drops `undefined` values (the engine reads a missing argument as "no value"). */
function args(a: Record<string, unknown>, opts: CallOptions | undefined): string {
  const o = callOptionsJson(opts);
  return JSON.stringify(o ? { ...a, _options: o } : a);
}

/** One engine client as the service classes use it. */
export class Transport {

  /**
   * Operation `op` with named arguments (snake_case); the answer in the package's shape (camelCase
   * keys, `Date`s, the user's data as stored: see shape.ts), or as the engine wrote it when `shaped`
   * is false (the `SDK` face, which keeps the wire's shapes).
   */
  constructor(readonly native: NativeClient, readonly shaped = true) {}

  call<T = unknown>(op: string, a: Record<string, unknown>, opts?: CallOptions): Promise<T> {
    const p = this.raw(op, a, opts);
    return this.shaped ? p.then((v) => shape<T>(op, v)) : (p as Promise<T>);
  }

  /** `call`, answering the engine's JSON as is. */
  raw<T = unknown>(op: string, a: Record<string, unknown>, opts?: CallOptions): Promise<T> {
    let text: string;
    try {
      text = args(a, opts);
    } catch (e) {
      // Not JSON (a cycle, a BigInt): a rejected promise like every other failure.
      return Promise.reject(validationError("args", `${op}: the arguments are not JSON: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (!opts?.signal) return this.native.call(op, text, null).then(settle) as Promise<T>;
    return withSignal(opts.signal, (c) => this.native.call(op, text, c).then(settle)) as Promise<T>;
  }

  /** `storage.upload` of `data` (or of the file at `a.path`), reporting progress. */
  upload(
    a: Record<string, unknown>,
    data: Buffer | AsyncIterable<Uint8Array> | null,
    opts?: CallOptions,
    onProgress?: (sent: number, total: number | null) => void,
    size?: number | null,
  ): Promise<unknown> {
    const text = args(a, opts);
    return withSignal(opts?.signal, async (c) => {
      const progress = onProgress ? new native.NativeProgress() : null;
      // Pulled on the JS thread: the engine only records the latest figures.
      const report = (): void => {
        const p = progress?.take();
        if (p && onProgress) onProgress(p[0], p[1] < 0 ? null : p[1]);
      };
      const timer = progress ? setInterval(report, 25) : null;
      timer?.unref();
      try {
        const out =
          data !== null && !Buffer.isBuffer(data)
            ? await this.uploadChunks(text, data, size ?? null, progress, c)
            : await this.native.upload(text, data, progress, c);
        report();
        const v = settle(out);
        return this.shaped ? shape("storage.upload", v) : v;
      } finally {
        if (timer) clearInterval(timer);
      }
    });
  }

  /** A streamed source, chunk by chunk through the engine (never whole in memory): the answer text. */
  private async uploadChunks(text: string, data: AsyncIterable<Uint8Array>, size: number | null, progress: NativeProgress | null, c: NativeCancel | null): Promise<string> {
    const w = this.native.uploadStream(text, size, progress);
    const answer = w.done(c);
    try {
      for await (const chunk of data) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        const queued = await w.write(b);
        // The upload already ended (it failed or was cancelled): its answer says why.
        if (queued[0] === "1" || queued[0] === "3") break;
      }
      w.finish();
    } catch (e) {
      w.abort(`reading the upload's source failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return answer;
  }

  /** `storage.get`: the bytes and the content type. */
  async download(a: Record<string, unknown>, opts?: CallOptions): Promise<{ data: Buffer; contentType: string | null }> {
    const text = args(a, opts);
    const out = await withSignal(opts?.signal, (c) => this.native.download(text, c));
    if (typeof out === "string") settle(out);
    const d = out as { data: Buffer; contentType?: string | null };
    return { data: d.data, contentType: d.contentType ?? null };
  }

  /** A streamed operation as an async iterator; leaving the loop early closes the stream. */
  stream<T>(op: string, a: Record<string, unknown>, opts?: CallOptions, convert?: (v: unknown) => T): Stream<T> {
    const item = convert ?? (this.shaped ? (v: unknown) => shape<T>(op, v) : undefined);
    return new Stream<T>(this.native, op, args(a, opts), opts?.signal, item);
  }
}

/** The items of a streamed operation (`ai.chatStream`, `*.listAll`): `for await (const x of s)`. */
export class Stream<T> implements AsyncIterableIterator<T> {
  private opened: Promise<NativeStream> | null = null;
  private done = false;

  constructor(
    private readonly client: NativeClient,
    private readonly op: string,
    private readonly argsText: string,
    private readonly signal: AbortSignal | undefined,
    private readonly convert?: (v: unknown) => T,
  ) {}

  private open(): Promise<NativeStream> {
    if (!this.opened) {
      this.opened = withSignal(this.signal, (c) => this.client.stream(this.op, this.argsText, c)).then((s) => {
        if (typeof s === "string") settle(s);
        return s as NativeStream;
      });
    }
    return this.opened;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.done) return { done: true, value: undefined };
    try {
      const s = await this.open();
      const v = settle(await withSignal(this.signal, (c) => s.next(c)));
      if (v === END) {
        this.done = true;
        return { done: true, value: undefined };
      }
      return { done: false, value: this.convert ? this.convert(v) : (v as T) };
    } catch (e) {
      await this.return();
      throw e;
    }
  }

  /** Stops the stream (closes its connection upstream). */
  async return(): Promise<IteratorResult<T>> {
    this.done = true;
    if (this.opened) {
      try {
        (await this.opened).close();
      } catch {
        // the stream never opened: nothing to close
      }
    }
    return { done: true, value: undefined };
  }

  /** Same as `return()`. */
  async close(): Promise<void> {
    await this.return();
  }

  /** Every item, collected. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const x of this) out.push(x);
    return out;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
