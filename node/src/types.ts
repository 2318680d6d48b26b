/**
 * The results the package hands out: camelCase keys, times as `Date` (shape.ts does the
 * conversion), the user's own data (`Row`, `data`, `state`, `customFields`, ...) as stored.
 * Fields the platform may leave out are optional or `null`.
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A database row: column name -> value, as stored (column names are never renamed). */
export type Row = Record<string, any>;

/** `db.query`'s answer: the rows, their count, and the database's figures. */
export interface QueryResult<R = Row> {
  results: R[];
  count: number;
  meta?: Record<string, any> | null;
}

/** One statement's outcome in `db.batch`. */
export interface BatchItem<R = Row> {
  results: R[];
  success: boolean;
  error?: string;
  meta?: Record<string, any> | null;
}
export interface BatchResult {
  results: BatchItem[];
  success: boolean;
}

/** An end user. `customFields` and `metadata` are the project's own data. */
export interface User {
  id: string;
  email?: string | null;
  phone?: string | null;
  name?: string | null;
  emailVerified: boolean;
  emailVerifiedAt?: Date | null;
  avatarUrl?: string | null;
  customFields?: Record<string, any> | null;
  metadata?: Record<string, any> | null;
  createdAt?: Date | null;
}

/** A signed-in session (`accessToken` is null when the email must be verified first). */
export interface AuthSession {
  accessToken: string | null;
  refreshToken: string | null;
  expiresAt: Date | null;
  user: User | null;
  requiresVerification: boolean;
}

export interface OtpSent {
  message?: string | null;
  accountExists?: boolean | null;
}

export interface ActionResult {
  success: boolean;
  message?: string | null;
}

/** A key of `cache.list`: when it expires (`null`: never). */
export interface CacheKeyInfo {
  key: string;
  expiration?: Date | null;
}
export interface CacheListPage {
  keys: CacheKeyInfo[];
  listComplete: boolean;
  cursor?: string | null;
}
export interface DeleteManyResult {
  count: number;
  deleted: number;
}

/** `queue.send`/`queue.enqueue`'s answer. */
export interface EnqueueResult {
  jobId: string;
}
/** One attempt of a job (`queue.wait` answers them). */
export interface JobAttempt {
  attempt: number;
  startedAt?: Date | null;
  endedAt?: Date | null;
  outcome?: string | null;
  error?: string | null;
}
/** A background job. `data` is what it was sent with, `result` what its handler answered. */
/** An AI-gateway consumer's wallet, in tokens. */
export interface GatewayWallet {
  balance: number;
  totalPurchased: number;
  totalConsumed: number;
  planType: string | null;
  hardLimit: number | null;
  softLimit: number | null;
}
export interface GatewayUsageDay {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  tokens: number;
  requests: number;
}
export interface GatewayUsage {
  totalTokens: number;
  totalRequests: number;
  /** The days with usage, oldest first. */
  days: GatewayUsageDay[];
}
export interface BillingLogged {
  success: boolean;
  loggedUnits: number;
}
/** An item of a collection (`client.db.collection(name)`); `data` is yours, as stored. */
export interface CollectionItem<D = Record<string, any>> {
  id: string;
  collection: string;
  /** `data.slug` when the data has a string `slug`. */
  slug: string | null;
  data: D;
  createdAt: Date | null;
  updatedAt: Date | null;
}
export interface CollectionPage<D = Record<string, any>> {
  items: CollectionItem<D>[];
  count: number;
  /** The next page's cursor; null on the last page. */
  cursor: string | null;
}
/**
 * How `collection.list` lists: `limit`, `cursor`, `order` (`"asc"`, the default, or `"desc"`),
 * `filter` (`{ field: value }`: items whose data field equals the value). Any other key filters
 * too, as in the official SDK's `list({ status: "open", limit: 10 })`.
 */
export interface CollectionListParams {
  limit?: number;
  cursor?: string;
  order?: "asc" | "desc";
  filter?: Record<string, string | number | boolean>;
  [field: string]: unknown;
}
export interface JobRecord<D = any, R = any> {
  id: string;
  type: string;
  data: D;
  /** `queued`, `running`, `completed`, `failed` or `cancelled`. */
  status: string;
  attempts?: number | null;
  maxRetries?: number | null;
  lastError?: string | null;
  result?: R | null;
  projectId?: string | null;
  createdAt?: Date | null;
  updatedAt?: Date | null;
  runAt?: Date | null;
  history?: JobAttempt[];
}
export interface JobsPage {
  jobs: JobRecord[];
  listComplete: boolean;
  cursor?: string | null;
}
export interface CancelResult {
  success: boolean;
  note?: string | null;
}

/** `storage.upload`'s answer. */
export interface UploadResult {
  url: string;
  key: string;
  size?: number | null;
  contentType?: string | null;
  etag?: string | null;
}
/** A stored object's description (`storage.metadata`, `storage.list`). */
export interface ObjectInfo {
  key: string;
  size?: number | null;
  contentType?: string | null;
  lastModified?: Date | null;
  etag?: string | null;
}
export interface StoragePage {
  objects: ObjectInfo[];
  truncated: boolean;
  cursor?: string | null;
}
/** `storage.get`: the bytes and their content type. */
export interface StoredObject {
  data: Buffer;
  contentType: string | null;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}
export interface ChatResponse {
  text: string;
  model?: string | null;
  usage?: Usage | null;
  finishReason?: string | null;
  id?: string | null;
}
/** One chunk of `ai.chatStream`. */
export interface ChatChunk {
  delta: string;
  finishReason?: string | null;
  usage?: Usage | null;
  model?: string | null;
}
export interface Completion {
  text: string;
  usage?: Usage | null;
  model?: string | null;
}
/** A document found by `ai.search.query` (`metadata` is yours). */
export interface SearchResult {
  id: string;
  content: string;
  score?: number | null;
  type?: string | null;
  metadata?: Record<string, any> | null;
}
export interface IngestResult {
  success: boolean;
  id?: string | null;
}
export interface TypeCount {
  type: string;
  count: number;
}

/** `services.invoke`'s answer: `result` is what the service answered. */
export interface InvokeResult<R = any> {
  success: boolean;
  result: R;
}

/** `socket.emit`'s answer. */
export interface EmitResult {
  id: string;
  topic: string;
  timestamp?: Date | null;
  delivered: number;
  persisted: boolean;
}
/** The platform's ack of `channel.publish`. */
export interface PublishAck {
  id: string;
  timestamp?: Date | null;
  persisted: boolean;
}
/** One connection present on a channel (`state` is what it tracked). */
export interface PresenceEntry<S = Record<string, any>> {
  key: string;
  state: S;
  userId?: string | null;
  joinedAt?: Date | null;
}
/** A persisted realtime message (`getHistory`, `realtime.history`). */
export interface HistoryMessage<D = any> {
  id?: string | null;
  roomId?: string | null;
  userId?: string | null;
  event: string;
  data: D;
  createdAt: Date;
  /** Order of storage: with `createdAt` a strict total order. */
  seq?: number | null;
}

/** A message of the local platform's outbox (OTP codes, verification and reset tokens). */
export interface OutboxMessage {
  id: string;
  to: string;
  kind: string;
  subject: string;
  body: string;
  code?: string | null;
  token?: string | null;
  createdAt?: Date | null;
}
/** What the project's connected workers serve now. */
export interface ServedNow {
  workers: number;
  modules: string[];
  events: string[];
  jobs: string[];
}

/** A project of the local platform. */
export interface ProjectInfo {
  id: string;
  slug: string;
  name: string;
  apiKey: string;
}
