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
import { AerostackClient, Cache as ClientCache } from "./client";
import { AerostackError, NetworkError, ValidationError, validationError } from "./errors";
import { native, type NativeClient } from "./native";
import type { Realtime } from "./realtime";
import { retryJson, sync, Transport, type CallOptions, type RetryOption } from "./transport";

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
}

/** Per-call options of a generated operation. */
export interface OperationOptions extends CallOptions {
  /** Seed 002's name for `retry`. */
  retries?: RetryOption;
}

/** The request of a generated operation: `{ requestBody }` or `{ <operation>Request }`. */
export type OperationRequest = { requestBody?: Record<string, unknown>; xSDKVersion?: string; xRequestID?: string } & Record<string, unknown>;

export type Operation = (request?: OperationRequest, options?: OperationOptions) => Promise<any>;

function body(name: string, request: OperationRequest | undefined): Record<string, unknown> | undefined {
  if (!request) return undefined;
  if (request.requestBody !== undefined) return request.requestBody;
  const wrapper = request[`${name}Request`];
  if (wrapper !== undefined) return wrapper as Record<string, unknown>;
  const wrappers = Object.keys(request).filter((k) => k.endsWith("Request"));
  if (wrappers.length === 1) return request[wrappers[0]] as Record<string, unknown>;
  const rest = Object.keys(request).filter((k) => k !== "xSDKVersion" && k !== "xRequestID");
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
function group(t: Transport, name: string, target: Record<string, unknown> = {}): Record<string, Operation> {
  for (const qualified of native.restOperations()) {
    const [g, op] = qualified.split(".");
    if (g !== name) continue;
    const method = camel(op);
    const run: Operation = async (request, o) => t.call("rest", { operation: qualified, request: body(method, request) }, options(request, o));
    target[method] = run;
    if (method === "delete") target._delete = run; // the generator's spelling of a reserved word
  }
  return target as Record<string, Operation>;
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
  /** The same project as an `AerostackClient` (the official SDK's `rpc`). */
  rpc!: AerostackClient;
  private readonly options: SDKOptions;

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
    };
    const n: NativeClient = sync(() => new native.NativeClient(JSON.stringify(config)));
    const t = new Transport(n);
    this.rpc = new AerostackClient({}, n);
    this.database = group(t, "database");
    this.auth = group(t, "authentication");
    this.authentication = this.auth;
    this.queue = group(t, "queue");
    this.ai = group(t, "ai");
    this.services = group(t, "services");
    const cache = this.rpc.cache as unknown as Record<string, unknown>;
    this.cache = group(t, "cache", cache) as unknown as CacheFacade;
    const storage = group(t, "storage") as StorageGroup;
    storage.storageUpload = async (request, opts) => {
      const b = body("storageUpload", request) ?? {};
      const { key, file, contentType, content_type } = b as { key?: string; file?: unknown; contentType?: string; content_type?: string };
      if (file === undefined) throw validationError("file", "storageUpload needs requestBody.file: a Buffer, a Blob or a local file path");
      return this.rpc.storage.upload(file as Buffer, { key, contentType: contentType ?? content_type, ...options(request, opts) });
    };
    storage.storageGet = async (request, opts) => {
      const b = (body("storageGet", request) ?? {}) as { key?: string };
      return (await this.rpc.storage.get(b.key as string, options(request, opts))).data;
    };
    this.storage = storage;
  }

  /** Realtime channels of the project. */
  get realtime(): Realtime {
    return this.rpc.realtime;
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
