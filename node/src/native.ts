/**
 * The native addon (bindings/node, crate `aerostack-node`): a small internal API, JSON text in
 * and out. Every waiting method returns a Promise of text: `"0"` + the JSON answer, or `"1"` +
 * the surface's error object (`"2"`/`"3"`: the same, with engine log lines waiting). The public
 * classes of this package are written on top; nothing here is public API.
 */
import * as path from "node:path";

export interface NativeCancel {
  cancel(): void;
  readonly cancelled: boolean;
}
export interface NativeProgress {
  take(): [number, number] | null;
}
export interface NativeStream {
  next(cancel?: NativeCancel | null): Promise<string>;
  close(): void;
}
export interface NativeChatDecoder {
  feed(bytes: Buffer): string;
  finish(): string;
  readonly done: boolean;
}
export interface NativeDownload {
  data: Buffer;
  contentType?: string | null;
}
export interface NativeHostRequest {
  id: number;
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Buffer;
}
export interface NativeHostedCall {
  next(cancel?: NativeCancel | null): Promise<string | NativeHostRequest>;
  respond(id: number, status: number, headers: Array<[string, string]>, body: Buffer): void;
  fail(id: number, message: string): void;
}
export interface NativeUploadWriter {
  done(cancel?: NativeCancel | null): Promise<string>;
  write(chunk: Buffer): Promise<string>;
  finish(): void;
  abort(message: string): void;
}

export interface NativeClient {
  hosted(op: string, argsJson: string): NativeHostedCall;
  hostedUpload(argsJson: string, data: Buffer | null): NativeHostedCall;
  withOptions(callOptionsJson: string): NativeClient;
  call(op: string, argsJson: string, cancel?: NativeCancel | null): Promise<string>;
  upload(argsJson: string, data: Buffer | null, progress: NativeProgress | null, cancel?: NativeCancel | null): Promise<string>;
  /** A streamed upload: `done()` first, then `write` each chunk, then `finish()` (or `abort`). */
  uploadStream(argsJson: string, size: number | null, progress: NativeProgress | null): NativeUploadWriter;
  download(argsJson: string, cancel?: NativeCancel | null): Promise<string | NativeDownload>;
  stream(op: string, argsJson: string, cancel?: NativeCancel | null): Promise<string | NativeStream>;
  realtime(optionsJson: string): NativeRealtime;
  gatewaySocket(apiSlug: string, consumerKey: string | null, cancel?: NativeCancel | null): Promise<string | NativeGatewaySocket>;
}
export interface NativeGatewaySocket {
  readonly url: string;
  readonly apiSlug: string;
  readonly state: string;
  sendChat(argsJson: string): Promise<string>;
  chat(argsJson: string, cancel?: NativeCancel | null): Promise<string>;
  ping(): Promise<string>;
  send(frameJson: string): Promise<string>;
  nextEvent(timeoutMs?: number | null, cancel?: NativeCancel | null): Promise<string>;
  close(code?: number | null, reason?: string | null): Promise<string>;
}
export interface NativeRealtime {
  readonly url: string;
  readonly status: string;
  readonly droppedEvents: number;
  connect(cancel?: NativeCancel | null): Promise<string>;
  disconnect(): Promise<string>;
  setToken(token: string): void;
  sendChat(roomId: string, text: string, metadataJson: string): void;
  channel(topic: string, filterJson: string): NativeChannel;
  nextEvent(timeoutMs?: number | null, cancel?: NativeCancel | null): Promise<string>;
  tryNextEvent(): string | null;
}
export interface NativeChannel {
  readonly topic: string;
  readonly isSubscribed: boolean;
  waitSubscribed(timeoutMs: number, cancel?: NativeCancel | null): Promise<string>;
  on(event: string): number;
  off(id: number): boolean;
  publish(event: string, dataJson: string, optionsJson: string): Promise<string>;
  track(stateJson: string): void;
  untrack(): void;
  presence(): string;
  tracked(): string | null;
  history(limit?: number | null, before?: number | null, cancel?: NativeCancel | null): Promise<string>;
  unsubscribe(): void;
}
export interface NativeWorker {
  nextInvocation(timeoutMs?: number | null, cancel?: NativeCancel | null): Promise<string | NativeInvocation>;
  complete(id: string, resultJson: string): void;
  fail(id: string, message: string): void;
  drain(): Promise<string>;
  stop(graceMs: number): Promise<string>;
  readonly isClosed: boolean;
  readonly projectId: string | null;
}
export interface NativeInvocation {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly projectId: string;
  readonly eventJson: string;
  readonly deadlineMs: number;
  readonly isCancelled: boolean;
  client(): NativeClient;
}
export interface NativePlatform {
  readonly infoJson: string;
  readonly running: boolean;
  createProject(name: string): Promise<string>;
  shutdown(): Promise<string>;
}
export interface Addon {
  init(): void;
  engineVersion(): string;
  version(): string;
  operations(): string[];
  restOperations(): string[];
  restParameters(operation: string): string[];
  jobTypeFromFunctionName(name: string): string;
  engineOptionNames(): Array<[string, string | null]>;
  drainLogs(): Array<[string, string]>;
  onLogsPending(wake: () => void): void;
  rateLimitsFromFlags(specs: string[], none: boolean): string;
  /** `{"times": {type: [path]}, "user_data": {type: [path]}}` (the surface's tables). */
  resultPaths(): string;
  NativeClient: new (optionsJson: string) => NativeClient;
  NativeCancel: new () => NativeCancel;
  NativeProgress: new () => NativeProgress;
  NativeChatDecoder: { new (): NativeChatDecoder; error(status: number, body: Buffer): string };
  NativeWorker: { connect(optionsJson: string, registrationJson: string): Promise<string | NativeWorker> };
  NativePlatform: { start(optionsJson: string): Promise<string | NativePlatform> };
}

/** The addon file of this platform, next to package.json (scripts/build.cjs puts it there). */
export function addonPath(): string {
  if (process.env.AEROSTACK_NODE_ADDON) return process.env.AEROSTACK_NODE_ADDON;
  const libc = process.platform === "linux" ? "-gnu" : "";
  return path.join(__dirname, "..", "..", `aerostack.${process.platform}-${process.arch}${libc}.node`);
}

function load(): Addon {
  const file = addonPath();
  try {
    // dlopen rather than require: the file may be cargo's `libaerostack_node.so` itself.
    const m = { exports: {} as Addon };
    process.dlopen(m, file);
    const addon = m.exports;
    addon.init();
    return addon;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(
      `aerostack: could not load the native addon ${file} (${why}). ` +
        "Build it with `npm rebuild aerostack` (needs cargo), or `make build` in the repository.",
    );
  }
}

export const native: Addon = load();
