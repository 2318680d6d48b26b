/**
 * The AI gateway's chat socket: `client.gateway.connectWebSocket(apiSlug)` (the official
 * `@aerostack/sdk`'s `gateway.connectWebSocket`), one WebSocket to
 * `{wsHost}/api/gateway/{apiSlug}/ws` authenticated with the consumer key.
 *
 * The engine does the work (frames, matching each answer to the frame it answers, a chat's whole
 * text on its `done`); this file routes its events. The engine never calls JavaScript: one pump
 * awaits `nextEvent()` and hands each event to the chat or ping waiting for it, the `on(...)`
 * listeners and the `for await` loops. The pump runs only while one of those waits, so an open
 * socket nobody listens to lets the process exit.
 */
import { AerostackError, cancelledError, errorFromDto, validationError, type ErrorDto } from "./errors";
import { log } from "./log";
import type { ChatMessage } from "./client";
import { native, type NativeCancel, type NativeGatewaySocket } from "./native";
import { EventQueue } from "./event-queue";
import { END, settle } from "./transport";

/** Token usage the platform billed. */
export interface GatewaySocketUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** A piece of the answer to chat `request` (the id `chat`/`send` returned). */
export interface GatewayTokenEvent {
  type: "token";
  content: string;
  request: number | null;
}
/** The answer to chat `request` is complete: its whole text and the tokens billed. */
export interface GatewayDoneEvent {
  type: "done";
  content: string;
  tokensUsed: number;
  usage: GatewaySocketUsage;
  request: number | null;
}
/** The platform refused or failed frame `request`; the socket stays open. `error` is the SDK's error for it. */
export interface GatewayErrorEvent {
  type: "error";
  code: string;
  message: string;
  family: string;
  request: number | null;
  error: AerostackError;
}
/** The answer to ping `request`. */
export interface GatewayPongEvent {
  type: "pong";
  request: number | null;
}
/** The socket closed (1000 normal, 1001 idle, 1012 the platform is shutting down, 1006 cut off). */
export interface GatewayCloseEvent {
  type: "close";
  code: number;
  reason: string;
}
/** A frame this SDK does not know, as the platform sent it. */
export interface GatewayUnknownEvent {
  type: "unknown";
  frame: unknown;
}
export type GatewaySocketEvent = GatewayTokenEvent | GatewayDoneEvent | GatewayErrorEvent | GatewayPongEvent | GatewayCloseEvent | GatewayUnknownEvent;
export type GatewaySocketEventType = GatewaySocketEvent["type"];
/** The event of one type: `GatewaySocketEventOf<"done">` is `GatewayDoneEvent`. */
export type GatewaySocketEventOf<K extends GatewaySocketEventType> = Extract<GatewaySocketEvent, { type: K }>;

/** Options of `socket.chat(messages, options)`. */
export interface GatewaySocketChatOptions {
  model?: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  /** Called with each piece of text as it arrives. */
  onToken?: (delta: string) => void;
  /** Aborting stops waiting (the platform still finishes and bills the answer). */
  signal?: AbortSignal;
}

/** The answer of `socket.chat`: `gateway.complete`'s `{ content, tokensUsed }` plus the usage. */
export interface GatewaySocketChatResult {
  content: string;
  tokensUsed: number;
  usage: GatewaySocketUsage;
}

/** A chat or ping waiting for its answer: `take` sees each event of its request, true when it is done. */
interface Waiter {
  take(ev: GatewaySocketEvent): boolean;
  fail(e: AerostackError): void;
}

function dto(code: string, family: string, message: string): ErrorDto {
  return { code, family, status: null, message, request_id: null, retryable: family === "network", retry_after_ms: null, details: null, body: null };
}

const READY_STATE: Record<string, number> = { open: 1, closing: 2, closed: 3 };

/** One gateway chat socket. */
export class GatewaySocket implements AsyncIterable<GatewaySocketEvent> {
  private readonly listeners = new Map<string, Set<(ev: GatewaySocketEvent) => unknown>>();
  private readonly waiters = new Map<number, Waiter>();
  private readonly streams = new Set<GatewaySocketEvents>();
  /** Sends whose id is not known yet: their answers may be pulled first (kept in `early`). */
  private sending = 0;
  private readonly early: GatewaySocketEvent[] = [];
  private pumping: NativeCancel | null = null;
  private closeEvent: GatewayCloseEvent | null = null;

  /** @internal */
  constructor(private readonly h: NativeGatewaySocket) {}

  /** `ws(s)://host/api/gateway/{apiSlug}/ws`. */
  get url(): string {
    return this.h.url;
  }

  get apiSlug(): string {
    return this.h.apiSlug;
  }

  /** `open`, `closing` or `closed`. */
  get state(): "open" | "closing" | "closed" {
    return this.h.state as "open" | "closing" | "closed";
  }

  /** As a browser WebSocket's: 1 open, 2 closing, 3 closed. */
  get readyState(): number {
    return READY_STATE[this.h.state] ?? 3;
  }

  /**
   * A chat over the socket: resolves with `{ content, tokensUsed, usage }` once the answer is
   * complete (`onToken` sees each piece first), or rejects with the platform's error for it
   * (the socket stays usable). Several chats may be in flight; the platform answers in order.
   */
  async chat(messages: ChatMessage[], options: GatewaySocketChatOptions = {}): Promise<GatewaySocketChatResult> {
    const { onToken, signal, model, temperature, maxTokens, topP } = options;
    if (onToken !== undefined && typeof onToken !== "function") throw validationError("onToken", "chat(messages, { onToken }): onToken must be a function");
    const args = JSON.stringify({ messages, model, temperature, max_tokens: maxTokens, top_p: topP });
    return this.await(signal, () => this.h.sendChat(args), (resolve, reject) => ({
      take: (ev) => {
        if (ev.type === "token") {
          try {
            onToken?.(ev.content);
          } catch (e) {
            log("warning", "gateway", `onToken threw: ${String(e)}`);
          }
          return false;
        }
        if (ev.type === "done") resolve({ content: ev.content, tokensUsed: ev.tokensUsed, usage: ev.usage });
        else if (ev.type === "error") reject(ev.error);
        else return false;
        return true;
      },
      fail: reject,
    }));
  }

  /** Sends a ping; resolves with the round trip in milliseconds once the pong is back. */
  async ping(options: { signal?: AbortSignal } = {}): Promise<number> {
    const started = performance.now();
    return this.await(options.signal, () => this.h.ping(), (resolve) => ({
      take: (ev) => {
        if (ev.type !== "pong") return false;
        resolve(performance.now() - started);
        return true;
      },
      fail: () => resolve(performance.now() - started),
    }));
  }

  /**
   * Sends `frame` (a JSON object) as it is; resolves with its id, which the events answering it
   * carry as `request` (see `on` and `for await`).
   */
  async send(frame: unknown): Promise<number> {
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (e) {
      throw validationError("frame", `send(frame): the frame is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (text === undefined) throw validationError("frame", "send(frame): pass a JSON object, e.g. { type: \"ping\" }");
    return settle(await this.h.send(text)) as number;
  }

  /** Calls `callback(event)` for each event of `type`; returns this. */
  on<K extends GatewaySocketEventType>(type: K, callback: (event: GatewaySocketEventOf<K>) => unknown): this {
    if (typeof callback !== "function") throw validationError("callback", "on(type, callback): callback must be a function");
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(callback as (event: GatewaySocketEvent) => unknown);
    this.update();
    return this;
  }

  /** Removes `callback` from `type` (every listener of `type` without one; all of them without arguments). */
  off<K extends GatewaySocketEventType>(type?: K, callback?: (event: GatewaySocketEventOf<K>) => unknown): this {
    if (type === undefined) this.listeners.clear();
    else if (callback === undefined) this.listeners.delete(type);
    else this.listeners.get(type)?.delete(callback as (event: GatewaySocketEvent) => unknown);
    this.update();
    return this;
  }

  /** Every event as an async iterator, ending after `close`; `timeoutMs` ends it after that long without one. */
  events(timeoutMs?: number): GatewaySocketEvents {
    const s = new GatewaySocketEvents(this, timeoutMs);
    if (this.closeEvent) void s.return();
    else this.streams.add(s);
    this.update();
    return s;
  }

  [Symbol.asyncIterator](): GatewaySocketEvents {
    return this.events();
  }

  /** Closes the socket (`code` 1000 or 3000-4999); resolves once closed. Waiting chats reject. */
  async close(code?: number, reason?: string): Promise<void> {
    settle(await this.h.close(code ?? null, reason ?? null));
    if (!this.pumping && !this.closeEvent) {
      // Nobody was pulling: the close event waits in the engine.
      const v = settle(await this.h.nextEvent(0, null));
      if (v !== END) this.dispatch(v as Record<string, unknown>);
    }
    this.update();
  }

  /** Sends with `send`, then waits for the events `waiter` takes. */
  private async await<T>(
    signal: AbortSignal | undefined,
    send: () => Promise<string>,
    waiter: (resolve: (v: T) => void, reject: (e: AerostackError) => void) => Waiter,
  ): Promise<T> {
    if (signal?.aborted) throw cancelledError(signal.reason);
    this.sending++;
    this.update();
    let id: number;
    try {
      id = settle(await send()) as number;
    } finally {
      this.sending--;
    }
    return new Promise<T>((resolve, reject) => {
      const abort = (): void => {
        this.waiters.delete(id);
        reject(cancelledError(signal?.reason));
        this.update();
      };
      const done = (): void => {
        signal?.removeEventListener("abort", abort);
        this.waiters.delete(id);
        this.update();
      };
      const w = waiter(
        (v) => {
          done();
          resolve(v);
        },
        (e) => {
          done();
          reject(e);
        },
      );
      this.waiters.set(id, w);
      signal?.addEventListener("abort", abort, { once: true });
      // Answers pulled before the id was known.
      for (const ev of this.early.filter((e) => "request" in e && e.request === id)) {
        if (w.take(ev)) break;
      }
      if (this.sending === 0) this.early.length = 0;
      if (this.closeEvent && this.waiters.has(id)) this.failWaiters();
      this.update();
    });
  }

  /** Pulls while someone waits for events; stops when nobody does. */
  private update(): void {
    let listening = false;
    for (const s of this.listeners.values()) listening ||= s.size > 0;
    const wanted = !this.closeEvent && (listening || this.waiters.size > 0 || this.streams.size > 0 || this.sending > 0);
    if (wanted && !this.pumping) this.pump();
    else if (!wanted && this.pumping) {
      this.pumping.cancel();
      this.pumping = null;
    }
  }

  private pump(): void {
    const cancel = new native.NativeCancel();
    this.pumping = cancel;
    void (async () => {
      while (!cancel.cancelled && !this.closeEvent) {
        let v: unknown;
        try {
          v = settle(await this.h.nextEvent(null, cancel));
        } catch (e) {
          if (!cancel.cancelled) log("warning", "gateway", `event pump stopped: ${String(e)}`);
          break;
        }
        if (v === END) break;
        this.dispatch(v as Record<string, unknown>);
      }
      if (this.pumping === cancel) this.pumping = null;
      this.update();
    })();
  }

  /** Hands one engine event to its waiter, the listeners and the loops. */
  private dispatch(raw: Record<string, unknown>): void {
    const ev = toEvent(raw);
    if ("request" in ev && ev.request !== null) {
      const w = this.waiters.get(ev.request);
      if (w) w.take(ev);
      else if (this.sending > 0) this.early.push(ev);
    }
    if (ev.type === "close") {
      this.closeEvent = ev;
      this.failWaiters();
    }
    for (const l of [...(this.listeners.get(ev.type) ?? [])]) {
      try {
        const r = l(ev);
        if (r && typeof (r as Promise<unknown>).catch === "function") {
          (r as Promise<unknown>).catch((e) => log("warning", "gateway", `a listener of ${ev.type} failed: ${String(e)}`));
        }
      } catch (e) {
        log("warning", "gateway", `a listener of ${ev.type} threw: ${String(e)}`);
      }
    }
    for (const s of [...this.streams]) s.push(ev);
  }

  private failWaiters(): void {
    const c = this.closeEvent;
    const why = c ? `${c.code}${c.reason ? `: ${c.reason}` : ""}` : "closed";
    for (const w of [...this.waiters.values()]) {
      w.fail(errorFromDto(dto("NETWORK_ERROR", "network", `the gateway socket of ${this.h.apiSlug} closed (${why}) before the answer came`)));
    }
    this.waiters.clear();
  }

  /** @internal */
  unlisten(s: GatewaySocketEvents): void {
    this.streams.delete(s);
    this.update();
  }
}

function toEvent(raw: Record<string, unknown>): GatewaySocketEvent {
  if (raw.type === "closed") return { type: "close", code: raw.code as number, reason: (raw.reason as string) ?? "" };
  if (raw.type === "error") {
    const { code, message, family } = raw as { code: string; message: string; family: string };
    return { ...(raw as object), error: errorFromDto(dto(code, family, message)) } as GatewayErrorEvent;
  }
  return raw as unknown as GatewaySocketEvent;
}

/** The events of one socket, pulled by `for await`; the last one is `close`. */
export class GatewaySocketEvents extends EventQueue<GatewaySocketEvent> {
  /** @internal */
  constructor(
    private readonly socket: GatewaySocket,
    timeoutMs?: number,
  ) {
    super(timeoutMs);
  }

  protected detach(): void {
    this.socket.unlisten(this);
  }

  /** @internal */
  override push(ev: GatewaySocketEvent): void {
    super.push(ev);
    // The close event is the last: the loop ends after it.
    if (ev.type === "close") this.finish();
  }
}
