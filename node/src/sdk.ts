/**
 * `SDK`: the face of the official `@aerostack/sdk-node` (wire-facts §6.3). A program written
 * against it runs after changing only its import line:
 *
 *     import { SDK } from "aerostack";            // was: from "@aerostack/sdk-node"
 *     const sdk = new SDK({ apiKeyAuth: process.env.AEROSTACK_API_KEY, serverURL });
 *     const res = await sdk.database.dbQuery({ requestBody: { sql: "SELECT 1" } });
 *     await sdk.cache.set("k", { a: 1 }, 60);        // the CacheFacade
 *
 * Each generated operation takes `{ requestBody }` (or the generator's `{ <operation>Request }`
 * wrapper) in the REST API's wire field names and answers the platform's JSON as sent. The
 * operations' methods and paths are the surface's table (bindings/common/src/rest.rs, the `rest`
 * operation): the same engine as `AerostackClient` (retries, timeouts, errors).
 */
import { AerostackClient, Cache as ClientCache, Storage as ClientStorage, type ChatMessage } from "./client";
import { AerostackError, NetworkError, ValidationError, validationError } from "./errors";
import { native, type NativeClient, type NativeHostedCall } from "./native";
import type { Realtime } from "./realtime";
import { callOptionsJson, retryJson, settle, sync, Transport, withSignal, type CallOptions, type RetryOption } from "./transport";

export interface SDKOptions {
  /** The project API key (`apiKey` is the same). */
  apiKeyAuth?: string;
  apiKey?: string;
  /** The server URL including `/v1` (`serverUrl` is the same). */
  serverURL?: string;
  serverUrl?: string;
  /** 0 = https://api.aerostack.dev/v1, 1 = http://localhost:8787/v1. */
  serverIdx?: number;
  projectId?: string;
  /** Seed 002's `RetryConfig` (`{ strategy: "backoff", backoff: {...}, retryConnectionErrors }`) or `false`. */
  retryConfig?: RetryOption;
  /** Per-attempt timeout in milliseconds. */
  timeoutMs?: number;
  /** Accepted for compatibility; the realtime client reconnects per its own options. */
  maxReconnectAttempts?: number;
  /** The AI-gateway consumer key (`ask_…`) of `gateway.gatewayChatCompletions`/`gatewayGetWallet` and `streamGateway` (else `AEROSTACK_CONSUMER_KEY`). */
  consumerKey?: string;
  /**
   * The generated runtime's `fetchApi`: every HTTP request of the generated operations goes
   * through this function (your own `fetch`, with its agent, proxy or instrumentation); the
   * engine still builds the requests, retries, times out and maps errors.
   */
  fetchApi?: FetchApi;
}

/** A `fetch`-compatible function. */
export type FetchApi = (url: string, init: { method: string; headers: Array<[string, string]>; body?: Uint8Array; signal?: AbortSignal }) => Promise<{
  status: number;
  headers: { forEach(cb: (value: string, name: string) => void): void };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Drives a hosted call: each request the engine builds is sent with `fetchApi`. */
async function hosted(h: NativeHostedCall, fetchApi: FetchApi, signal: AbortSignal | undefined): Promise<unknown> {
  return withSignal(signal, async (c) => {
    for (;;) {
      const step = await h.next(c);
      if (typeof step === "string") return settle(step);
      try {
        const r = await fetchApi(step.url, { method: step.method, headers: step.headers, body: step.body.length ? step.body : undefined, signal });
        const headers: Array<[string, string]> = [];
        r.headers.forEach((value, name) => headers.push([name, value]));
        h.respond(step.id, r.status, headers, Buffer.from(await r.arrayBuffer()));
      } catch (e) {
        h.fail(step.id, `fetchApi failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  });
}

/** Per-call options of a generated operation. */
export interface OperationOptions extends CallOptions {
  /** Seed 002's name for `retry`. */
  retries?: RetryOption;
}

/** The request of a generated operation: `{ requestBody }` or `{ <operation>Request }`. */
export type OperationRequest = { requestBody?: Record<string, unknown>; xSDKVersion?: string; xRequestID?: string } & Record<string, unknown>;

export type Operation = (request?: OperationRequest, options?: OperationOptions) => Promise<any>;

/** Keys of a request that are not its body: headers, the consumer key, path/query parameters. */
const NOT_BODY = ["xSDKVersion", "xRequestID", "consumerKey"];

function body(name: string, request: OperationRequest | undefined, params: string[] = []): Record<string, unknown> | undefined {
  if (!request) return undefined;
  if (request.requestBody !== undefined) return request.requestBody;
  const wrapper = request[`${name}Request`];
  if (wrapper !== undefined) return wrapper as Record<string, unknown>;
  const wrappers = Object.keys(request).filter((k) => k.endsWith("Request"));
  if (wrappers.length === 1) return request[wrappers[0]] as Record<string, unknown>;
  const rest = Object.keys(request).filter((k) => !NOT_BODY.includes(k) && !params.includes(k));
  if (rest.length) {
    throw validationError("requestBody", `${name}: pass the request as { requestBody: {...} } (or { ${name}Request: {...} }), got the keys ${rest.join(", ")}`);
  }
  return undefined;
}

function options(request: OperationRequest | undefined, o: OperationOptions | undefined): CallOptions | undefined {
  if (!o && !request?.xRequestID) return undefined;
  const { retries, ...rest } = o ?? {};
  const headers = request?.xRequestID ? { ...(rest.headers ?? {}), "X-Request-ID": request.xRequestID } : rest.headers;
  return { ...rest, retry: rest.retry ?? retries, headers };
}

const camel = (snake: string): string => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The generated operations of one group, as methods (`cacheGet`, `dbQuery`, `_delete`, ...). */
function group(t: Transport, name: string, target: Record<string, unknown> = {}, fetchApi?: FetchApi): Record<string, Operation> {
  for (const qualified of native.restOperations()) {
    const [g, op] = qualified.split(".");
    if (g !== name) continue;
    const method = camel(op);
    // Path and query parameters (`apiSlug`) are top-level keys of the request, as generated.
    const params = native.restParameters(qualified).map(camel);
    const run: Operation = async (request, o) => {
      const args: Record<string, unknown> = { operation: qualified, request: body(method, request, params) };
      const given = params.filter((p) => request?.[p] !== undefined);
      if (given.length) args.params = Object.fromEntries(given.map((p) => [p, request?.[p]]));
      if (request?.consumerKey !== undefined) args.consumer_key = request.consumerKey;
      const opts = options(request, o);
      if (!fetchApi) return t.call("rest", args, opts);
      const a = JSON.stringify({ ...args, _options: callOptionsJson(opts) });
      return hosted(sync(() => t.native.hosted("rest", a)), fetchApi, opts?.signal);
    };
    target[method] = run;
    if (method === "delete") target._delete = run; // the generator's spelling of a reserved word
  }
  return target as Record<string, Operation>;
}

/** The request of {@link SDK.streamGateway}. */
export interface StreamGatewayRequest {
  apiSlug: string;
  messages: ChatMessage[];
  /** The consumer key (else the SDK's `consumerKey`); `token` is the same for a user's token. */
  consumerKey?: string;
  token?: string;
  /** A system message sent before `messages`. */
  systemPrompt?: string;
  onToken?: (delta: string) => void;
  onDone?: (result: { text: string; tokensUsed: number }) => void;
  onError?: (error: Error) => void;
  signal?: AbortSignal;
}

/** `sdk.cache`: the CacheFacade (`get`, `set`, `delete`, `exists`, ...) plus the generated `cacheGet`, ... */
export type CacheFacade = ClientCache & Record<string, Operation>;

export type StorageGroup = Record<string, Operation> & {
  /** Uploads `{ key, file, contentType }` (file: Buffer, Blob or a local path); `{ url, key, size, ... }`. */
  storageUpload(request: OperationRequest, options?: OperationOptions): Promise<any>;
  /** The object's bytes. */
  storageGet(request: OperationRequest, options?: OperationOptions): Promise<Buffer>;
};

/** The operation-style client of `@aerostack/sdk-node`. */
export class SDK {
  database!: Record<string, Operation>;
  auth!: Record<string, Operation>;
  authentication!: Record<string, Operation>;
  cache!: CacheFacade;
  queue!: Record<string, Operation>;
  storage!: StorageGroup;
  ai!: Record<string, Operation>;
  services!: Record<string, Operation>;
  /** `gatewayChatCompletions({ apiSlug, chatCompletionRequest, consumerKey? })`, `gatewayGetWallet({ apiSlug })`, `gatewayBillingLog({ requestBody })`. */
  gateway!: Record<string, Operation>;
  private readonly options: SDKOptions;
  private config!: Record<string, unknown>;
  private client: AerostackClient | null = null;

  /** The same project as an `AerostackClient` (the official SDK's `rpc`): camelCase results, `Date`s. */
  get rpc(): AerostackClient {
    // Its own engine client (made on first use): this SDK's keeps the wire's keys.
    this.client ??= new AerostackClient({}, sync(() => new native.NativeClient(JSON.stringify(this.config))));
    return this.client;
  }

  constructor(options: SDKOptions = {}) {
    this.options = { ...options };
    this.build();
  }

  private build(): void {
    const o = this.options;
    const config = {
      api_key: o.apiKeyAuth ?? o.apiKey,
      base_url: o.serverURL ?? o.serverUrl,
      server_index: o.serverIdx,
      project_id: o.projectId,
      timeout_ms: o.timeoutMs,
      retry: retryJson(o.retryConfig),
      consumer_key: o.consumerKey,
    };
    this.config = config;
    this.client = null;
    // The wire's own shapes: nothing renamed (`result_case`), no Dates (the official package
    // hands out the JSON).
    const n: NativeClient = sync(() => new native.NativeClient(JSON.stringify({ ...config, result_case: "snake" })));
    const t = new Transport(n, false);
    const f = o.fetchApi;
    this.database = group(t, "database", {}, f);
    this.auth = group(t, "authentication", {}, f);
    this.authentication = this.auth;
    this.queue = group(t, "queue", {}, f);
    this.ai = group(t, "ai", {}, f);
    this.services = group(t, "services", {}, f);
    this.gateway = group(t, "gateway", {}, f);
    const cache = new ClientCache(t) as unknown as Record<string, unknown>;
    this.cache = group(t, "cache", cache, f) as unknown as CacheFacade;
    const storage = group(t, "storage", {}, f) as StorageGroup;
    const files = new ClientStorage(t);
    storage.storageUpload = async (request, opts) => {
      const b = body("storageUpload", request) ?? {};
      const { key, file, contentType, content_type } = b as { key?: string; file?: unknown; contentType?: string; content_type?: string };
      if (file === undefined) throw validationError("file", "storageUpload needs requestBody.file: a Buffer, a Blob or a local file path");
      if (o.fetchApi && file instanceof Uint8Array) {
        const co = options(request, opts);
        const a = JSON.stringify({ key, content_type: contentType ?? content_type, _options: callOptionsJson(co) });
        return hosted(sync(() => t.native.hostedUpload(a, Buffer.from(file.buffer, file.byteOffset, file.byteLength))), o.fetchApi, co?.signal);
      }
      return files.upload(file as Buffer, { key, contentType: contentType ?? content_type, ...options(request, opts) });
    };
    storage.storageGet = async (request, opts) => {
      const b = (body("storageGet", request) ?? {}) as { key?: string };
      return (await files.get(b.key as string, options(request, opts))).data;
    };
    this.storage = storage;
  }

  /** Realtime channels of the project. */
  get realtime(): Realtime {
    return this.rpc.realtime;
  }

  /**
   * The official `streamGateway`: a chat through gateway API `apiSlug`, streamed. `onToken` gets
   * each piece of text, `onDone` the whole text and the tokens used; a failure goes to `onError`
   * when given (and the promise resolves), else the promise rejects. `systemPrompt` goes first.
   */
  async streamGateway(request: StreamGatewayRequest): Promise<void> {
    const { apiSlug, messages, consumerKey, token, systemPrompt, onToken, onDone, onError, signal } = request ?? ({} as StreamGatewayRequest);
    const all: ChatMessage[] = systemPrompt ? [{ role: "system", content: systemPrompt }, ...(messages ?? [])] : [...(messages ?? [])];
    let text = "";
    try {
      await this.rpc.gateway.stream({
        apiSlug,
        messages: all,
        consumerKey: consumerKey ?? token ?? this.options.consumerKey,
        signal,
        onToken: (delta) => {
          text += delta;
          onToken?.(delta);
        },
        onDone: ({ tokensUsed }) => onDone?.({ text, tokensUsed }),
      });
    } catch (e) {
      if (!onError) throw e;
      onError(e as Error);
    }
  }

  /** Replaces the API key (later calls use it). */
  setApiKey(apiKey: string): void {
    this.options.apiKeyAuth = apiKey;
    this.options.apiKey = undefined;
    this.build();
  }
}

/** The generated runtime's error names: the same classes as the client's. */
export { AerostackError as ResponseError, NetworkError as FetchError, ValidationError as RequiredError };

/** `createClient(options)`: the official factory. */
export function createClient(options: SDKOptions = {}): SDK {
  return new SDK(options);
}
