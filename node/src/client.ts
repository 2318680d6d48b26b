/**
 * `AerostackClient`: the face of the official `@aerostack/sdk` plus every service of seed 001,
 * with the Python SDK's operations and argument order in JavaScript's idiom (camelCase, Promises).
 * Every method takes a last `CallOptions` argument (`signal`, `timeoutMs`, `retry`,
 * `idempotencyKey`, `headers`); `withOptions(...)` gives a client whose calls all use them.
 * Answers are in JavaScript's shapes (shape.ts): camelCase keys, times as `Date`, the user's own
 * data (rows, cached values, payloads) exactly as stored; the interfaces are in types.ts.
 */
import * as fs from "node:fs";
import { Readable } from "node:stream";

import { errorFromDto, validationError, type ErrorDto } from "./errors";
import { GatewaySocket } from "./gateway-socket";
import { native, type NativeClient, type NativeGatewaySocket } from "./native";
import { Realtime, Socket, type Channel, type RealtimeEvent } from "./realtime";
import { callOptionsJson, retryJson, settle, splitOptions, sync, Transport, withSignal, type CallOptions, type RetryOption, type Stream } from "./transport";
import type {
  ActionResult, AuthSession, BatchResult, CacheKeyInfo, CacheListPage, CancelResult, ChatChunk, ChatResponse, CollectionItem,
  CollectionListParams, CollectionPage, Completion, BillingLogged, GatewayUsage, GatewayWallet,
  DeleteManyResult, EnqueueResult, IngestResult, InvokeResult, JobRecord, JobsPage, ObjectInfo, OtpSent, OutboxMessage,
  QueryResult, Row, SearchResult, ServedNow, StoragePage, StoredObject, TypeCount, UploadResult, User,
} from "./types";

export interface ClientOptions {
  /** The project (falls back to `AEROSTACK_PROJECT_ID`). */
  projectId?: string;
  /** The official SDK's project slug (used as the project id when `projectId` is absent). */
  projectSlug?: string;
  /** Project API key (falls back to `AEROSTACK_API_KEY`). */
  apiKey?: string;
  /** Base URL including `/v1` (falls back to `AEROSTACK_API_URL`). */
  baseUrl?: string;
  /** 0 = https://api.aerostack.dev/v1, 1 = http://localhost:8787/v1. */
  serverIndex?: number;
  /** Per-attempt timeout, ms (default 30 000). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  retry?: RetryOption;
  headers?: Record<string, string>;
  /** Do not read `AEROSTACK_*` environment variables. */
  ignoreEnv?: boolean;
  /** AI-gateway consumer key (`ask_…`) for `client.gateway` (falls back to `AEROSTACK_CONSUMER_KEY`). */
  consumerKey?: string;
}

/** The surface's client options of `o`. */
export function clientOptionsJson(o: ClientOptions): string {
  const known = ["projectId", "projectSlug", "apiKey", "baseUrl", "serverIndex", "timeoutMs", "connectTimeoutMs", "retry", "headers", "ignoreEnv", "consumerKey"];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      throw validationError(k, `new AerostackClient: unknown option \`${k}\`; the options are ${known.join(", ")}`);
    }
  }
  return JSON.stringify({
    project_id: o.projectId ?? o.projectSlug,
    api_key: o.apiKey,
    base_url: o.baseUrl,
    server_index: o.serverIndex,
    timeout_ms: o.timeoutMs,
    connect_timeout_ms: o.connectTimeoutMs,
    retry: retryJson(o.retry),
    headers: o.headers,
    ignore_env: o.ignoreEnv,
    consumer_key: o.consumerKey,
  });
}

class Ns {
  constructor(protected readonly t: Transport) {}
}

/** End-user authentication: accounts, sessions, one-time codes, profile. */
export class Auth extends Ns {
  /** Creates an account: `{ accessToken, refreshToken, expiresAt, user }` (`accessToken` null when the email must be verified first). */
  register(email: string, password: string, name?: string, customFields?: Record<string, unknown>, opts?: CallOptions): Promise<AuthSession> {
    return this.t.call("auth.register", { email, password, name, custom_fields: customFields }, opts);
  }
  login(email: string, password: string, opts?: CallOptions): Promise<AuthSession> {
    return this.t.call("auth.login", { email, password }, opts);
  }
  /** The user of an access token, or `null` when it is invalid or expired. */
  verifyToken(token: string, opts?: CallOptions): Promise<User | null> {
    return this.t.call("auth.verify_token", { token }, opts);
  }
  /** Sends a one-time code to `identifier`, an email address (`type` "email") or phone. */
  sendOTP(identifier: string, type: "email" | "phone" = "email", opts?: CallOptions): Promise<OtpSent> {
    return this.t.call("auth.send_otp", type === "phone" ? { phone: identifier } : { email: identifier }, opts);
  }
  /** Signs in with a one-time code sent to `identifier`. */
  verifyOTP(code: string, identifier?: string, type: "email" | "phone" = "email", opts?: CallOptions): Promise<AuthSession> {
    return this.t.call("auth.verify_otp", type === "phone" ? { code, phone: identifier } : { code, email: identifier }, opts);
  }
  verifyEmail(token: string, opts?: CallOptions): Promise<ActionResult> {
    return this.t.call("auth.verify_email", { token }, opts);
  }
  resendVerificationEmail(email: string, opts?: CallOptions): Promise<ActionResult> {
    return this.t.call("auth.resend_verification", { email }, opts);
  }
  requestPasswordReset(email: string, opts?: CallOptions): Promise<ActionResult> {
    return this.t.call("auth.request_password_reset", { email }, opts);
  }
  resetPassword(token: string, newPassword: string, opts?: CallOptions): Promise<ActionResult> {
    return this.t.call("auth.reset_password", { token, new_password: newPassword }, opts);
  }
  /** A new session from a refresh token. */
  refreshToken(refreshToken: string, opts?: CallOptions): Promise<AuthSession> {
    return this.t.call("auth.refresh", { refresh_token: refreshToken }, opts);
  }
  logout(accessToken: string, refreshToken?: string, opts?: CallOptions): Promise<ActionResult> {
    return this.t.call("auth.logout", { access_token: accessToken, refresh_token: refreshToken }, opts);
  }
  getCurrentUser(accessToken: string, opts?: CallOptions): Promise<User> {
    return this.t.call("auth.me", { access_token: accessToken }, opts);
  }
  updateProfile(accessToken: string, updates: Record<string, unknown>, opts?: CallOptions): Promise<User> {
    return this.t.call("auth.update_me", { access_token: accessToken, fields: updates }, opts);
  }
  deleteAvatar(accessToken: string, opts?: CallOptions): Promise<ActionResult> {
    return this.t.call("auth.delete_avatar", { access_token: accessToken }, opts);
  }
  // The Python SDK's names, for programs ported from it.
  sendOtp(email?: string, phone?: string, opts?: CallOptions): Promise<OtpSent> {
    return this.t.call("auth.send_otp", { email, phone }, opts);
  }
  verifyOtp(code: string, email?: string, phone?: string, opts?: CallOptions): Promise<AuthSession> {
    return this.t.call("auth.verify_otp", { code, email, phone }, opts);
  }
  resendVerification(email: string, opts?: CallOptions): Promise<ActionResult> {
    return this.resendVerificationEmail(email, opts);
  }
  refresh(refreshToken: string, opts?: CallOptions): Promise<AuthSession> {
    return this.refreshToken(refreshToken, opts);
  }
  me(accessToken: string, opts?: CallOptions): Promise<User> {
    return this.getCurrentUser(accessToken, opts);
  }
  updateMe(accessToken: string, fields: Record<string, unknown>, opts?: CallOptions): Promise<User> {
    return this.updateProfile(accessToken, fields, opts);
  }
  signup(email: string, password: string, name?: string, metadata?: Record<string, unknown>, opts?: CallOptions): Promise<AuthSession> {
    return this.t.call("auth.signup", { email, password, name, metadata }, opts);
  }
  signin(email: string, password: string, opts?: CallOptions): Promise<AuthSession> {
    return this.t.call("auth.signin", { email, password }, opts);
  }
}

/** A statement of `db.batch`: `{ sql, params }`, `[sql, params]` or a SQL string. */
export type Statement = { sql: string; params?: unknown[] } | [string, unknown[]?] | string;

function statements(queries: Statement[]): Array<{ sql: unknown; params: unknown[] }> {
  if (!Array.isArray(queries)) throw validationError("queries", "db.batch needs `queries`, an array of { sql, params }");
  return queries.map((q) => {
    if (typeof q === "string") return { sql: q, params: [] };
    if (Array.isArray(q)) return { sql: q[0], params: q[1] ?? [] };
    return { sql: q?.sql, params: q?.params ?? [] };
  });
}

const LIST_KEYS = new Set(["limit", "cursor", "order", "filter", "pageSize"]);

/** `list` parameters in the surface's names; keys other than limit/cursor/order/filter filter too. */
function listArgs(collection: string, params: CollectionListParams = {}): Record<string, unknown> {
  const filter: Record<string, unknown> = { ...(params.filter ?? {}) };
  for (const [k, v] of Object.entries(params)) if (!LIST_KEYS.has(k) && v !== undefined) filter[k] = v;
  return { collection, limit: params.limit, cursor: params.cursor, order: params.order, filter, page_size: params.pageSize };
}

/**
 * A collection: JSON documents by name (`client.db.collection("posts")`, as in the official SDK).
 * Changes reach realtime subscribers of the collection (`on("INSERT", cb)`, or
 * `client.realtime.channel("posts")`) as `INSERT` / `UPDATE` / `DELETE` events.
 */
export class Collection<D = Record<string, any>> extends Ns {
  constructor(t: Transport, readonly name: string, private readonly rt: () => Realtime) {
    super(t);
  }
  /** One page: `{ items, count, cursor }`, oldest first (`order: "desc"`: newest first). */
  list(params?: CollectionListParams, opts?: CallOptions): Promise<CollectionPage<D>> {
    const a = listArgs(this.name, params);
    delete a.page_size;
    return this.t.call("db.collection.list", a, opts);
  }
  /** Every matching item, page by page (`pageSize` items a page): `for await (const item of posts.listAll())`. */
  listAll(params?: Omit<CollectionListParams, "cursor" | "limit"> & { pageSize?: number }, opts?: CallOptions): Stream<CollectionItem<D>> {
    const a = listArgs(this.name, params);
    delete a.limit;
    delete a.cursor;
    return this.t.stream("db.collection.list_all", a, opts);
  }
  /** The item, or `null` when there is no item `id`. */
  get(id: string, opts?: CallOptions): Promise<CollectionItem<D> | null> {
    return this.t.call("db.collection.get", { collection: this.name, id }, opts);
  }
  /** Adds an item whose data is `data` (an object); the stored item with its `id`. */
  create(data: D, opts?: CallOptions): Promise<CollectionItem<D>> {
    return this.t.call("db.collection.create", { collection: this.name, data }, opts);
  }
  /** Replaces the data of item `id`; the updated item (a `NotFoundError` when missing). */
  update(id: string, data: D, opts?: CallOptions): Promise<CollectionItem<D>> {
    return this.t.call("db.collection.update", { collection: this.name, id, data }, opts);
  }
  /** Deletes item `id`; whether it existed. */
  delete(id: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("db.collection.delete", { collection: this.name, id }, opts);
  }
  /** The realtime channel of the collection (its item changes). */
  channel(): Channel {
    return this.rt().channel(this.name);
  }
  /** Calls `callback` on `event` (`INSERT`, `UPDATE`, `DELETE`, `*`) and subscribes; the channel. */
  async on(event: string, callback: (event: RealtimeEvent) => void): Promise<Channel> {
    return this.channel().on(event, callback).subscribe();
  }
  /** Calls `callback` on every change of the collection and subscribes; the channel. */
  async subscribe(callback: (event: RealtimeEvent) => void): Promise<Channel> {
    return this.on("*", callback);
  }
}

/** The project's SQL database, and its collections. */
export class Db extends Ns {
  constructor(t: Transport, private readonly rt: () => Realtime) {
    super(t);
  }
  /** The collection `name` (1-64 letters, digits, `_` or `-`). */
  collection<D = Record<string, any>>(name: string): Collection<D> {
    return new Collection<D>(this.t, name, this.rt);
  }
  /** Runs one statement: `{ results, count, meta }`. */
  query<R = Row>(sql: string, params?: unknown[], opts?: CallOptions): Promise<QueryResult<R>> {
    return this.t.call("db.query", { sql, params }, opts);
  }
  /** The first row, or `null`. */
  queryOne<R = Row>(sql: string, params?: unknown[], opts?: CallOptions): Promise<R | null> {
    return this.t.call("db.query_one", { sql, params }, opts);
  }
  /** Up to 25 statements in one transaction: all or nothing. */
  async batch(queries: Statement[], opts?: CallOptions): Promise<BatchResult> {
    return this.t.call("db.batch", { queries: statements(queries) }, opts);
  }
}

/** Key-value cache with TTLs (seconds). */
export class Cache extends Ns {
  /** The value, or `null` when missing or expired. */
  get<T = any>(key: string, opts?: CallOptions): Promise<T | null> {
    return this.t.call("cache.get", { key }, opts);
  }
  set(key: string, value: unknown, ttl?: number, opts?: CallOptions): Promise<null> {
    return this.t.call("cache.set", { key, value: value === undefined ? null : value, ttl }, opts);
  }
  has(key: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("cache.has", { key }, opts);
  }
  /** Whether the key existed. */
  delete(key: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("cache.delete", { key }, opts);
  }
  /** `{ key: value }` of the keys that exist. */
  getMany(keys: string[], opts?: CallOptions): Promise<Record<string, any>> {
    return this.t.call("cache.get_many", { keys }, opts);
  }
  /** Stores `{ key: value }` (or `[{ key, value, ttl }]`); the number stored. */
  setMany(entries: Record<string, unknown> | Array<{ key: string; value: unknown; ttl?: number }>, ttl?: number, opts?: CallOptions): Promise<number> {
    const items = Array.isArray(entries) ? entries.map((e) => ({ ...e })) : Object.entries(entries ?? {}).map(([key, value]) => ({ key, value }));
    if (ttl !== undefined) for (const e of items as Array<{ ttl?: number }>) e.ttl ??= ttl;
    return this.t.call("cache.set_many", { entries: items }, opts);
  }
  deleteMany(keys: string[], opts?: CallOptions): Promise<DeleteManyResult> {
    return this.t.call("cache.delete_many", { keys }, opts);
  }
  /** One page of keys: `keys` ([{ key, expiration }]), `listComplete`, `cursor`. */
  list(prefix?: string, limit?: number, cursor?: string, opts?: CallOptions): Promise<CacheListPage> {
    return this.t.call("cache.list", { prefix, limit, cursor }, opts);
  }
  /** Every key under `prefix`, page by page: `for await (const entry of cache.listAll())`. */
  listAll(prefix?: string, pageSize?: number, opts?: CallOptions): Stream<CacheKeyInfo> {
    return this.t.stream("cache.list_all", { prefix, page_size: pageSize }, opts);
  }
  /** All key names (under `prefix`). */
  keys(prefix?: string, opts?: CallOptions): Promise<string[]> {
    return this.t.call("cache.keys", { prefix }, opts);
  }
  /** Deletes every key (under `prefix`); the number deleted. */
  flush(prefix?: string, opts?: CallOptions): Promise<number> {
    return this.t.call("cache.flush", { prefix }, opts);
  }
  expire(key: string, ttl: number, opts?: CallOptions): Promise<boolean> {
    return this.t.call("cache.expire", { key, ttl }, opts);
  }
  /** Adds `amount` (default 1); the new value. */
  increment(key: string, amount?: number, initialValue?: number, ttl?: number, opts?: CallOptions): Promise<number> {
    return this.t.call("cache.increment", { key, amount, initial_value: initialValue, ttl }, opts);
  }
  /** The official name of `has`. */
  exists(key: string, opts?: CallOptions): Promise<boolean> {
    return this.has(key, opts);
  }
}

export type UploadSource = Buffer | Uint8Array | ArrayBuffer | Blob | Readable | ReadableStream<Uint8Array> | string;

export interface UploadOptions extends CallOptions {
  /** The storage key (`avatars/1.png`); `key` is the same. */
  path?: string;
  key?: string;
  contentType?: string;
  /** Called on the JS thread with the bytes sent so far. */
  onProgress?: (sent: number, total: number | null) => void;
  /** `false`: a private object, served only through signed URLs (`getUrl(key, { expiresIn })`). */
  public?: boolean;
}

/**
 * The body of an upload: bytes in memory as they are, and streams (a Node `Readable`, a web
 * `ReadableStream`, a `Blob`'s stream) as chunks the engine sends as they come (never whole in
 * memory), with their size when known.
 */
function bodyOf(src: Exclude<UploadSource, string>): { data: Buffer | AsyncIterable<Uint8Array>; size: number | null } {
  if (Buffer.isBuffer(src)) return { data: src, size: src.length };
  if (src instanceof Uint8Array) return { data: Buffer.from(src.buffer, src.byteOffset, src.byteLength), size: src.byteLength };
  if (src instanceof ArrayBuffer) return { data: Buffer.from(src), size: src.byteLength };
  if (typeof Blob !== "undefined" && src instanceof Blob) return { data: src.stream() as unknown as AsyncIterable<Uint8Array>, size: src.size };
  if (src instanceof Readable) return { data: src, size: null };
  return { data: Readable.fromWeb(src as any), size: null };
}

/** File storage with public URLs. */
export class Storage extends Ns {
  /**
   * Uploads `file` (a Buffer, Uint8Array, Blob/File, a readable stream, or a local file path,
   * streamed from disk by the engine) under the key `path`: `{ url, key, size, contentType, etag, public }`.
   */
  async upload(file: UploadSource, options: UploadOptions): Promise<UploadResult> {
    const [own, call] = splitOptions<Omit<UploadOptions, keyof CallOptions>>(options);
    const key = own.path ?? own.key ?? (typeof file === "string" ? undefined : undefined);
    const a: Record<string, unknown> = { key, content_type: own.contentType, public: own.public };
    if (typeof file === "string") {
      if (!fs.existsSync(file)) throw validationError("file", `storage.upload: no file at ${JSON.stringify(file)}; pass a Buffer for data in memory`);
      a.path = file;
      return this.t.upload(a, null, call, own.onProgress) as Promise<UploadResult>;
    }
    if (file === undefined || file === null) throw validationError("file", "storage.upload needs the file: a Buffer, a stream or a local path");
    const body = bodyOf(file);
    return this.t.upload(a, body.data, call, own.onProgress, body.size) as Promise<UploadResult>;
  }
  /** The object's bytes and content type. */
  get(key: string, opts?: CallOptions): Promise<StoredObject> {
    return this.t.download({ key }, opts);
  }
  /**
   * The object's URL. With `expiresIn` (seconds, up to 7 days, as Supabase's `createSignedUrl`)
   * a signed URL that works that long for anyone who has it; a private object always gets one
   * (1 h by default).
   */
  getUrl(key: string, options?: CallOptions & { expiresIn?: number }): Promise<string> {
    const [own, call] = splitOptions<{ expiresIn?: number }>(options);
    return this.t.call("storage.get_url", { key, expires_in: own.expiresIn }, call);
  }
  list(prefix?: string, limit?: number, cursor?: string, opts?: CallOptions): Promise<StoragePage> {
    return this.t.call("storage.list", { prefix, limit, cursor }, opts);
  }
  listAll(prefix?: string, pageSize?: number, opts?: CallOptions): Stream<ObjectInfo> {
    return this.t.stream("storage.list_all", { prefix, page_size: pageSize }, opts);
  }
  delete(key: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("storage.delete", { key }, opts);
  }
  /** The copy's URL. */
  copy(sourceKey: string, destKey: string, opts?: CallOptions): Promise<string> {
    return this.t.call("storage.copy", { source_key: sourceKey, dest_key: destKey }, opts);
  }
  /** The moved object's URL. */
  move(sourceKey: string, destKey: string, opts?: CallOptions): Promise<string> {
    return this.t.call("storage.move", { source_key: sourceKey, dest_key: destKey }, opts);
  }
  exists(key: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("storage.exists", { key }, opts);
  }
  /** `{ key, size, contentType, lastModified, etag }`, or `null`. */
  metadata(key: string, opts?: CallOptions): Promise<ObjectInfo | null> {
    return this.t.call("storage.metadata", { key }, opts);
  }
}

export interface ChatMessage {
  role: string;
  content: string;
}
export interface ChatOptions extends CallOptions {
  model?: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
}
export interface CompleteOptions extends CallOptions {
  model?: string;
  maxTokens?: number;
  temperature?: number;
  system?: string;
}

function chatArgs(messages: ChatMessage[], o: Partial<ChatOptions>): Record<string, unknown> {
  return { messages, model: o.model, temperature: o.temperature, max_tokens: o.maxTokens, top_p: o.topP };
}

/** Options of a gateway call: the consumer key (else the client's `consumerKey`). */
export interface GatewayOptions extends CallOptions {
  consumerKey?: string;
}
export interface GatewayChatOptions extends ChatOptions {
  consumerKey?: string;
}
/** The official `@aerostack/sdk` form of a gateway chat: everything in one object. */
export interface GatewayCompleteRequest extends GatewayChatOptions {
  apiSlug: string;
  messages: ChatMessage[];
}
/** `gateway.stream`: the request, a callback per token and one when done. */
export interface GatewayStreamRequest extends GatewayCompleteRequest {
  onToken: (delta: string) => void;
  onDone?: (usage: { tokensUsed: number }) => void;
}

/** Options of `gateway.connectWebSocket`: the consumer key (else the client's), `signal`, `timeoutMs`, `headers`. */
export interface GatewaySocketOptions extends CallOptions {
  consumerKey?: string;
}

/**
 * The AI gateway, as a consumer: chat through a gateway API (`apiSlug`) billed to the consumer key
 * (`consumerKey`, per call or the client's), over HTTP or a WebSocket (`connectWebSocket`), its
 * wallet and usage; and `billingLog`, with which the project's backend debits a consumer itself
 * (the project key).
 */
export class Gateway extends Ns {
  private key: string | undefined;
  /** The official SDK's way to set the consumer key of the gateway calls that name none. */
  setConsumerKey(consumerKey: string): this {
    this.key = consumerKey;
    return this;
  }
  /** A chat completion through gateway API `apiSlug`: `{ text, usage, model, finishReason }`. */
  chat(apiSlug: string, messages: ChatMessage[], options?: GatewayChatOptions): Promise<ChatResponse> {
    const [own, call] = splitOptions<GatewayChatOptions>(options);
    return this.t.call("gateway.chat", { api_slug: apiSlug, consumer_key: own.consumerKey ?? this.key, ...chatArgs(messages, own) }, call);
  }
  /** `chat`, streamed: `for await (const chunk of gateway.chatStream(slug, messages))` (`chunk.delta`). */
  chatStream(apiSlug: string, messages: ChatMessage[], options?: GatewayChatOptions): Stream<ChatChunk> {
    const [own, call] = splitOptions<GatewayChatOptions>(options);
    return this.t.stream("gateway.chat_stream", { api_slug: apiSlug, consumer_key: own.consumerKey ?? this.key, ...chatArgs(messages, own) }, call);
  }
  /** The official `@aerostack/sdk` form of `chat`: `complete({ apiSlug, messages, model })` → `{ content, tokensUsed }`. */
  async complete(request: GatewayCompleteRequest): Promise<{ content: string; tokensUsed: number }> {
    const { apiSlug, messages, ...options } = request ?? ({} as GatewayCompleteRequest);
    const answer = await this.chat(apiSlug, messages, options);
    return { content: answer.text, tokensUsed: answer.usage?.totalTokens ?? 0 };
  }
  /**
   * The official `@aerostack/sdk` form of `chatStream`: `onToken(delta)` for every piece of text,
   * then `onDone({ tokensUsed })`; resolves when the answer is complete.
   */
  async stream(request: GatewayStreamRequest): Promise<void> {
    const { apiSlug, messages, onToken, onDone, ...options } = request ?? ({} as GatewayStreamRequest);
    if (typeof onToken !== "function") {
      throw validationError("onToken", "gateway.stream needs `onToken`, a function called with each piece of text; use chatStream() to iterate instead");
    }
    const tally = new Tally(onToken);
    for await (const chunk of this.chatStream(apiSlug, messages, options)) tally.add(chunk);
    onDone?.({ tokensUsed: tally.tokensUsed });
  }
  /**
   * The official `connectWebSocket`: opens gateway API `apiSlug`'s chat socket, authenticated
   * with the consumer key. A key the platform refuses rejects here with the `AuthError` the HTTP
   * calls raise. `socket.chat(messages, { onToken })` → `{ content, tokensUsed, usage }`; events
   * with `socket.on("token" | "done" | "error" | "pong" | "close", cb)` or `for await (const ev of socket)`.
   */
  async connectWebSocket(apiSlug: string, options?: GatewaySocketOptions): Promise<GatewaySocket> {
    if (typeof apiSlug !== "string") throw validationError("apiSlug", "connectWebSocket(apiSlug): apiSlug must be the gateway API's slug, a string");
    const [own, call] = splitOptions<GatewaySocketOptions>(options);
    const o = callOptionsJson(call);
    const n = o ? sync(() => this.t.native.withOptions(JSON.stringify(o))) : this.t.native;
    const out = await withSignal(call.signal, (c) => n.gatewaySocket(apiSlug, own.consumerKey ?? this.key ?? null, c));
    if (typeof out === "string") settle(out);
    return new GatewaySocket(out as NativeGatewaySocket);
  }
  /** The consumer's wallet in tokens: `{ balance, totalPurchased, totalConsumed, planType, hardLimit, softLimit }`. */
  wallet(apiSlug?: string, options?: GatewayOptions): Promise<GatewayWallet> {
    const [own, call] = splitOptions<GatewayOptions>(options);
    return this.t.call("gateway.wallet", { api_slug: apiSlug, consumer_key: own.consumerKey ?? this.key }, call);
  }
  /** The consumer's usage over the last `days` (default 30): `{ totalTokens, totalRequests, days: [{ date, tokens, requests }] }`. */
  usage(apiSlug?: string, days?: number, options?: GatewayOptions): Promise<GatewayUsage> {
    const [own, call] = splitOptions<GatewayOptions>(options);
    return this.t.call("gateway.usage", { api_slug: apiSlug, days, consumer_key: own.consumerKey ?? this.key }, call);
  }
  /** Debits `units` from consumer `consumerId` of gateway API `apiId` (the project key): `{ success, loggedUnits }`. */
  billingLog(consumerId: string, apiId: string, units: number, metric?: string, opts?: CallOptions): Promise<BillingLogged> {
    return this.t.call("gateway.billing_log", { consumer_id: consumerId, api_id: apiId, units, metric }, opts);
  }
}

/** `chatApi(slug).chat(...)` options: one message (after `history`), streamed with `stream`. */
export interface GatewayApiChatOptions extends GatewayChatOptions {
  /** The user's message. */
  message: string;
  /** The conversation so far (sent before `message`). */
  history?: ChatMessage[];
  /** Stream the answer: `onToken` for each piece of text, then `onDone`. */
  stream?: boolean;
  onToken?: (delta: string) => void;
  onDone?: (usage: { tokensUsed: number }) => void;
}

/**
 * One gateway API (`client.chatApi(slug)`, the official `AerostackGatewayApi`): `chat` a message
 * with its history, streamed or not, and that API's `usage` and `wallet`.
 */
export class AerostackGatewayApi {
  constructor(
    private readonly gateway: Gateway,
    readonly apiSlug: string,
  ) {}

  /** `{ content, tokensUsed }`; with `stream: true`, `onToken` sees every piece as it comes. */
  async chat(options: GatewayApiChatOptions): Promise<{ content: string; tokensUsed: number }> {
    const { message, history, stream, onToken, onDone, ...rest } = options ?? ({} as GatewayApiChatOptions);
    if (typeof message !== "string") {
      throw validationError("message", "chatApi(slug).chat needs `message`, the user's text (earlier turns go in `history`)");
    }
    const messages: ChatMessage[] = [...(history ?? []), { role: "user", content: message }];
    if (!stream) return this.gateway.complete({ ...rest, apiSlug: this.apiSlug, messages });
    let content = "";
    let tokensUsed = 0;
    await this.gateway.stream({
      ...rest,
      apiSlug: this.apiSlug,
      messages,
      onToken: (delta) => {
        content += delta;
        onToken?.(delta);
      },
      onDone: (usage) => {
        tokensUsed = usage.tokensUsed;
        onDone?.(usage);
      },
    });
    return { content, tokensUsed };
  }

  /** This API's usage by the consumer over the last `days`. */
  usage(days?: number, options?: GatewayOptions): Promise<GatewayUsage> {
    return this.gateway.usage(this.apiSlug, days, options);
  }

  /** The consumer's wallet for this API. */
  wallet(options?: GatewayOptions): Promise<GatewayWallet> {
    return this.gateway.wallet(this.apiSlug, options);
  }
}

/** Semantic search over the project's documents. */
export class AiSearch extends Ns {
  ingest(content: string, type: string, id?: string, metadata?: Record<string, unknown>, opts?: CallOptions): Promise<IngestResult> {
    return this.t.call("ai.search.ingest", { content, type, id, metadata }, opts);
  }
  query(text: string, topK?: number, types?: string[], filter?: Record<string, unknown>, opts?: CallOptions): Promise<SearchResult[]> {
    return this.t.call("ai.search.query", { text, top_k: topK, types, filter }, opts);
  }
  get(id: string, opts?: CallOptions): Promise<SearchResult | null> {
    return this.t.call("ai.search.get", { id }, opts);
  }
  update(id: string, content: string, type?: string, metadata?: Record<string, unknown>, opts?: CallOptions): Promise<boolean> {
    return this.t.call("ai.search.update", { id, content, type, metadata }, opts);
  }
  delete(id: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("ai.search.delete", { id }, opts);
  }
  deleteByType(type: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("ai.search.delete_by_type", { type }, opts);
  }
  listTypes(opts?: CallOptions): Promise<TypeCount[]> {
    return this.t.call("ai.search.list_types", {}, opts);
  }
  count(type?: string, opts?: CallOptions): Promise<number> {
    return this.t.call("ai.search.count", { type }, opts);
  }
  configure(embeddingModel: string, opts?: CallOptions): Promise<boolean> {
    return this.t.call("ai.search.configure", { embedding_model: embeddingModel }, opts);
  }
}

/** AI: chat and completions through the platform's model gateway, embeddings, search. */
export class Ai extends Ns {
  readonly search: AiSearch;
  constructor(t: Transport) {
    super(t);
    this.search = new AiSearch(t);
  }
  /** A chat completion: `chat(messages, { model })`, or seed 000's `chat(model, messages)`. */
  chat(messagesOrModel: ChatMessage[] | string, options?: ChatOptions | ChatMessage[], more?: ChatOptions): Promise<ChatResponse> {
    const [messages, o] = typeof messagesOrModel === "string" ? [options as ChatMessage[], { ...more, model: messagesOrModel }] : [messagesOrModel, options as ChatOptions | undefined];
    const [own, call] = splitOptions<ChatOptions>(o);
    return this.t.call("ai.chat", chatArgs(messages, own), call);
  }
  /** `chat`, streamed: `for await (const chunk of ai.chatStream(messages))` (`chunk.delta`). */
  chatStream(messages: ChatMessage[], options?: ChatOptions): Stream<ChatChunk> {
    const [own, call] = splitOptions<ChatOptions>(options);
    return this.t.stream("ai.chat_stream", chatArgs(messages, own), call);
  }
  complete(prompt: string, options?: CompleteOptions): Promise<Completion> {
    const [own, call] = splitOptions<CompleteOptions>(options);
    return this.t.call("ai.complete", { prompt, model: own.model, max_tokens: own.maxTokens, temperature: own.temperature, system: own.system }, call);
  }
  /** The embedding vector of a text. */
  async embed(text: string, opts?: CallOptions): Promise<number[]> {
    const r = await this.t.call<{ embedding?: number[] }>("ai.embed", { text }, opts);
    return r?.embedding ?? [];
  }
}

/** Background jobs, served by queue workers. */
export class Queue extends Ns {
  /** Enqueues a job of type `name`: `{ jobId }`. */
  send(name: string, data?: Record<string, unknown>, delaySeconds?: number, maxRetries?: number, opts?: CallOptions): Promise<EnqueueResult> {
    return this.t.call("queue.send", { type: name, data, delay_seconds: delaySeconds, max_retries: maxRetries }, opts);
  }
  enqueue(type: string, data?: Record<string, unknown>, delaySeconds?: number, maxRetries?: number, opts?: CallOptions): Promise<EnqueueResult> {
    return this.t.call("queue.enqueue", { type, data, delay_seconds: delaySeconds, max_retries: maxRetries }, opts);
  }
  /** A job (`status`, `attempts`, `lastError`, `createdAt`, ...), or `null`. */
  job(jobId: string, opts?: CallOptions): Promise<JobRecord | null> {
    return this.t.call("queue.job", { job_id: jobId }, opts);
  }
  jobs(status?: string, type?: string, limit?: number, cursor?: string, opts?: CallOptions): Promise<JobsPage> {
    return this.t.call("queue.jobs", { status, type, limit, cursor }, opts);
  }
  jobsAll(status?: string, type?: string, pageSize?: number, cursor?: string, opts?: CallOptions): Stream<JobRecord> {
    return this.t.stream("queue.jobs_all", { status, type, page_size: pageSize, cursor }, opts);
  }
  cancel(jobId: string, opts?: CallOptions): Promise<CancelResult> {
    return this.t.call("queue.cancel", { job_id: jobId }, opts);
  }
  /** Waits until the job is over (at most `timeoutMs`, default 30 000); its record with `history`. */
  wait(jobId: string, timeoutMs?: number, opts?: CallOptions): Promise<JobRecord> {
    return this.t.call("queue.wait", { job_id: jobId, timeout_ms: timeoutMs }, opts);
  }
  // The official names.
  getJob(jobId: string, opts?: CallOptions): Promise<JobRecord | null> {
    return this.job(jobId, opts);
  }
  listJobs(status?: string, type?: string, limit?: number, cursor?: string, opts?: CallOptions): Promise<JobsPage> {
    return this.jobs(status, type, limit, cursor, opts);
  }
  cancelJob(jobId: string, opts?: CallOptions): Promise<CancelResult> {
    return this.cancel(jobId, opts);
  }
}

export class Secrets extends Ns {
  /** A secret's value, or `null`. */
  get(key: string, opts?: CallOptions): Promise<string | null> {
    return this.t.call("secrets.get", { key }, opts);
  }
  set(key: string, value: string, opts?: CallOptions): Promise<null> {
    return this.t.call("secrets.set", { key, value }, opts);
  }
  list(opts?: CallOptions): Promise<string[]> {
    return this.t.call("secrets.list", {}, opts);
  }
}

export class Services extends Ns {
  invoke<R = any>(serviceName: string, data?: unknown, opts?: CallOptions): Promise<InvokeResult<R>> {
    return this.t.call("services.invoke", { service_name: serviceName, data }, opts);
  }
}

/** Local-platform helpers (only the local platform serves these). */
export class Local extends Ns {
  /** Emails the local platform "sent" (verification links, OTP codes), newest first. */
  outbox(to?: string, limit?: number, opts?: CallOptions): Promise<OutboxMessage[]> {
    return this.t.call("local.outbox", { to, limit }, opts);
  }
  workers(opts?: CallOptions): Promise<ServedNow> {
    return this.t.call("local.workers", {}, opts);
  }
  /** Waits until a connected worker serves `name` (a custom API slug, an event or a job type). */
  waitServed(name: string, timeoutMs?: number, opts?: CallOptions): Promise<ServedNow> {
    return this.t.call("local.wait_served", { name, timeout_ms: timeoutMs }, opts);
  }
}

/** A client of one Aerostack project: `new AerostackClient({ projectId, apiKey, baseUrl })`. */
export class AerostackClient {
  readonly auth: Auth;
  readonly db: Db;
  readonly cache: Cache;
  readonly storage: Storage;
  readonly ai: Ai;
  readonly gateway: Gateway;
  readonly queue: Queue;
  readonly secrets: Secrets;
  readonly services: Services;
  readonly local: Local;
  readonly socket: Socket;
  /** @internal */
  readonly transport: Transport;
  private rt: Realtime | null = null;

  constructor(options: ClientOptions = {}, nativeClient?: NativeClient) {
    const n = nativeClient ?? sync(() => new native.NativeClient(clientOptionsJson(options)));
    this.transport = new Transport(n);
    this.auth = new Auth(this.transport);
    this.db = new Db(this.transport, () => this.realtime);
    this.cache = new Cache(this.transport);
    this.storage = new Storage(this.transport);
    this.ai = new Ai(this.transport);
    this.gateway = new Gateway(this.transport);
    this.queue = new Queue(this.transport);
    this.secrets = new Secrets(this.transport);
    this.services = new Services(this.transport);
    this.local = new Local(this.transport);
    this.socket = new Socket(this.transport);
  }

  /** A client sharing this one's connection pool whose calls use `opts` (`timeoutMs`, `retry`, ...). */
  withOptions(opts: Omit<CallOptions, "signal">): AerostackClient {
    const json = callOptionsJson(opts) ?? {};
    return new AerostackClient({}, sync(() => this.transport.native.withOptions(JSON.stringify(json))));
  }

  /** Realtime channels (one WebSocket per client, opened on first use). */
  get realtime(): Realtime {
    this.rt ??= new Realtime(this.transport);
    return this.rt;
  }

  /**
   * Acts as the end user of `token` on the realtime connection (the official SDK's `setAuth`):
   * before the first channel it configures the connection, afterwards it sends the token in-band.
   */
  setAuth(token: string, userId?: string): void {
    const rt = this.realtime;
    if (rt.status === "idle" && !rt.opened) rt.configure({ token, userId });
    else rt.setToken(token);
  }

  /** One gateway API by its slug (the official `chatApi`): `chatApi("my-bot").chat({ message })`. */
  chatApi(apiSlug: string): AerostackGatewayApi {
    return new AerostackGatewayApi(this.gateway, apiSlug);
  }

  /**
   * The official `stream(response, { onToken, onDone, onError })`: reads a streamed chat answer
   * (SSE, as the AI gateway and `/ai/chat` send it) from a `fetch` `Response` you made yourself,
   * calls `onToken` with each piece of text and `onDone` with the whole text and the tokens used,
   * and resolves with the text. A failure (an error status, an upstream error mid-stream, a broken
   * body) goes to `onError` when given (and the promise resolves with the text so far), else the
   * promise rejects with it. The decoding is the engine's, as for `ai.chatStream`.
   */
  async stream(response: StreamedResponse, handlers: StreamHandlers = {}): Promise<string> {
    const { onToken, onDone, onError } = handlers;
    const tally = new Tally(onToken);
    try {
      if (response.ok === false) {
        const body = typeof response.text === "function" ? await response.text() : "";
        throw errorFromDto(JSON.parse(native.NativeChatDecoder.error(response.status ?? 500, Buffer.from(body))) as ErrorDto);
      }
      if (!response.body) throw validationError("response", "stream(response) needs a fetch Response with a body (a streamed answer: `stream: true`)");
      const decoder = sync(() => new native.NativeChatDecoder());
      const take = (json: string): void => {
        for (const item of JSON.parse(json) as Array<{ chunk?: StreamedChunk; error?: ErrorDto }>) {
          if (item.error) throw errorFromDto(item.error);
          if (item.chunk) tally.add(item.chunk);
        }
      };
      for await (const bytes of response.body as AsyncIterable<Uint8Array>) {
        take(decoder.feed(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
        if (decoder.done) break;
      }
      take(decoder.finish());
      onDone?.({ content: tally.text, tokensUsed: tally.tokensUsed });
      return tally.text;
    } catch (e) {
      if (!onError) throw e;
      onError(e as Error);
      return tally.text;
    }
  }

  /** Calls the custom API (Logic Module endpoint) `slug`; its JSON answer. */
  call<R = any>(slug: string, data?: unknown, method: string = "POST", opts?: CallOptions): Promise<R> {
    return this.transport.call("call", { slug, data, method }, opts);
  }

  /** A raw platform call (`path` under `/v1`); the JSON answer as sent. */
  request<R = any>(method: string, path: string, body?: unknown, opts?: CallOptions): Promise<R> {
    return this.transport.call("request", { method, path, body }, opts);
  }

  /** Closes the realtime connection, if one was opened. */
  async close(): Promise<void> {
    if (this.rt) await this.rt.close();
  }
}

/** The part of a streamed chat chunk a {@link Tally} reads. */
interface StreamedChunk {
  delta?: string;
  usage?: { totalTokens?: number } | null;
}

/** Text and tokens of a streamed chat answer, chunk by chunk; each piece of text to `onToken`. */
class Tally {
  text = "";
  tokensUsed = 0;
  constructor(private readonly onToken?: (delta: string) => void) {}
  add(chunk: StreamedChunk): void {
    if (chunk.usage?.totalTokens) this.tokensUsed = chunk.usage.totalTokens;
    if (chunk.delta) {
      this.text += chunk.delta;
      this.onToken?.(chunk.delta);
    }
  }
}

/** What {@link AerostackClient.stream} reads: a `fetch` `Response` (or anything with `ok`, `status` and an async-iterable `body`). */
export interface StreamedResponse {
  ok?: boolean;
  status?: number;
  text?: () => Promise<string>;
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | null;
}

/** The callbacks of {@link AerostackClient.stream}. */
export interface StreamHandlers {
  onToken?: (delta: string) => void;
  onDone?: (result: { content: string; tokensUsed: number }) => void;
  onError?: (error: Error) => void;
}

/** The official SDK's alias. */
export { AerostackClient as Aerostack };
export type { Json, Row, QueryResult } from "./types";
