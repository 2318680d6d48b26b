/**
 * Realtime (seed 001): channels with listeners, publish, presence, history, and `socket.emit`.
 *
 * One {@link Realtime} per client: one WebSocket (the engine's realtime client) multiplexing every
 * channel. The engine never calls JavaScript: events wait in its queue, and one pump here awaits
 * `nextEvent()` promises and hands each event to the listeners whose ids it carries. The pump runs
 * only while some listener or `for await` loop is open, so an idle client lets the process exit.
 */
import { validationError } from "./errors";
import { log } from "./log";
import { EventQueue } from "./event-queue";
import { native, type NativeCancel, type NativeChannel, type NativeRealtime } from "./native";
import { shape, shapeEvent, unixMs } from "./shape";
import { END, settle, snakeKeys, sync, withSignal, type CallOptions, type Transport } from "./transport";
import type { EmitResult, HistoryMessage, PresenceEntry, PublishAck } from "./types";

/** One realtime event (camelCase; `data` and `old` are the message's or the row's, as sent). */
export interface RealtimeEvent<D = any> {
  /** `message`, `db_change`, `presence`, `subscribed`, `status`, `error`, ... */
  kind: string;
  topic: string | null;
  /** The published name, `INSERT`/`UPDATE`/`DELETE`, `presence:join`, ... */
  event: string;
  /** The message data, the new row, the presence report ({@link PresenceEvent}), `{ code, message }` of an error. */
  data: D;
  /** The old row (UPDATE, DELETE). */
  old?: Record<string, any> | null;
  /** The publisher's user id, when known. */
  userId?: string | null;
  id?: string | null;
  /** When the platform sent it. */
  timestamp?: Date | null;
  persisted?: boolean;
  replayed?: boolean;
  status?: string | null;
  listeners?: number[];
}

/** The `data` of a presence event: the entry that joined/left, or the whole list (`presence:sync`). */
export interface PresenceEvent {
  key?: string;
  state?: Record<string, any>;
  userId?: string | null;
  joinedAt?: Date | null;
  presences?: PresenceEntry[];
  joins?: PresenceEntry[];
  leaves?: PresenceEntry[];
}

export type Listener = (event: RealtimeEvent) => unknown;

/** Options of {@link Realtime.channel}. */
export interface ChannelOptions {
  /** A table topic's row filter: `{ column: value | "op.value" }` or `"column=op.value"`. */
  filter?: Record<string, unknown> | string;
}

export interface RealtimeOptions {
  heartbeatIntervalMs?: number;
  pongTimeoutMs?: number;
  connectTimeoutMs?: number;
  ackTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  backoffFactor?: number;
  maxReconnectAttempts?: number;
  eventCapacity?: number;
  outboxCapacity?: number;
  dedupCapacity?: number;
  catchUp?: boolean;
  /** End-user access token. */
  token?: string;
  userId?: string;
}

/** The `reason` of the error event that ends the connection after `maxReconnectAttempts` (core's `GAVE_UP`). */
const MAX_RECONNECT_ATTEMPTS = "max_reconnect_attempts";

/** The realtime connection of a client: `client.realtime.channel("orders")`. */
export class Realtime {
  private options: RealtimeOptions = {};
  private h: NativeRealtime | null = null;
  private readonly channels = new Map<string, Channel>();
  /** Listener id -> where its events go. */
  private readonly routes = new Map<number, (ev: RealtimeEvent) => void>();
  private pumping: NativeCancel | null = null;
  private readonly statusListeners = new Set<(event: RealtimeEvent) => void>();

  constructor(private readonly t: Transport) {}

  /** Connection settings, before the first channel. */
  configure(options: RealtimeOptions): this {
    if (this.h) throw validationError("options", "realtime.configure must come before the first channel or connect()");
    this.options = { ...this.options, ...options };
    return this;
  }

  /** Whether the connection object exists (after the first channel, `connect()` or `setToken`). */
  get opened(): boolean {
    return this.h !== null;
  }

  /** @internal */
  get native(): NativeRealtime {
    this.h ??= sync(() => this.t.native.realtime(JSON.stringify(snakeKeys(this.options))));
    return this.h;
  }

  /** `idle`, `connecting`, `connected`, `reconnecting` or `disconnected`. */
  get status(): string {
    return this.h ? this.h.status : "idle";
  }

  /** Events dropped because nobody pulled them fast enough. */
  get droppedEvents(): number {
    return this.h ? this.h.droppedEvents : 0;
  }

  /**
   * The channel of `topic`: a table (`"orders"`) or a room path (`"chat/general"`); one per name.
   * `options.filter` (a table's row filter, the official `channel(topic, { filter })`): only the
   * rows it matches arrive, e.g. `{ status: "open", priority: "gte.3" }` (operators `eq`, `neq`,
   * `gt`, `gte`, `lt`, `lte`, `in.(1,2)`, `is.null`) or `"status=eq.open"`. It replaces the
   * channel's filter (`{}` removes it); the platform refuses an unknown column with an `error` event.
   */
  channel(topic: string, options?: ChannelOptions): Channel {
    let ch = this.channels.get(topic);
    const filter = options?.filter;
    if (!ch || filter !== undefined) {
      const n = sync(() => this.native.channel(topic, JSON.stringify(filter ?? null)));
      if (!ch) {
        ch = new Channel(this, n, topic);
        this.channels.set(topic, ch);
      }
    }
    return ch;
  }

  /** Opens the socket and waits until connected. */
  async connect(opts?: CallOptions): Promise<void> {
    settle(await withSignal(opts?.signal, (c) => this.native.connect(c)));
  }

  /** Closes the socket and stops reconnecting; channels are kept for a later `connect()`. */
  async disconnect(): Promise<void> {
    if (this.h) settle(await this.h.disconnect());
  }

  /** Acts as the end user of `token` (sent on the live socket and used on reconnects). */
  setToken(token: string): void {
    sync(() => this.native.setToken(token));
  }

  /** Calls `callback(event)` on every connection status change (`event.status`); returns a function that removes it. */
  onStatus(callback: (event: RealtimeEvent) => void): () => void {
    return this.onConnection((ev) => {
      if (ev.kind === "status") callback(ev);
    });
  }

  /** The official `onStatusChange`: `callback(status)` (`connecting`, `connected`, `reconnecting`, `disconnected`); returns the remover. */
  onStatusChange(callback: (status: string) => void): () => void {
    return this.onStatus((ev) => callback(String(ev.status ?? (ev.data as { status?: string } | null)?.status ?? "")));
  }

  /**
   * The official `onMaxRetriesExceeded`: `callback()` once the connection gives up after
   * `maxReconnectAttempts` (a `configure` option) failed reconnects; returns the remover.
   */
  onMaxRetriesExceeded(callback: () => void): () => void {
    return this.onConnection((ev) => {
      if (ev.kind === "error" && (ev.data as { reason?: string } | null)?.reason === MAX_RECONNECT_ATTEMPTS) callback();
    });
  }

  /** The official `sendChat`: `text` (and `metadata`) as a persisted `message` event of chat room `roomId`. */
  sendChat(roomId: string, text: string, metadata?: Record<string, unknown>): void {
    sync(() => this.native.sendChat(roomId, text, JSON.stringify(metadata ?? null)));
  }

  /** The channel of chat room `roomId` (`chat/{roomId}`), where `sendChat` messages arrive as `message` events. */
  chatRoom(roomId: string): Channel {
    return this.channel(`chat/${roomId}`);
  }

  /** Status and error events of the connection go to `callback`; returns the remover. */
  private onConnection(callback: (event: RealtimeEvent) => void): () => void {
    this.statusListeners.add(callback);
    if (!this.pumping) this.pump();
    return () => {
      this.statusListeners.delete(callback);
      if (this.routes.size === 0 && this.statusListeners.size === 0) this.stopPump();
    };
  }

  /** Stops every listener and closes the socket. */
  async close(): Promise<void> {
    this.routes.clear();
    this.statusListeners.clear();
    this.stopPump();
    for (const ch of this.channels.values()) ch.closeStreams();
    await this.disconnect();
  }

  /** @internal Routes the events of listener `id` to `to`, starting the pump if needed. */
  route(id: number, to: (ev: RealtimeEvent) => void): void {
    this.routes.set(id, to);
    if (!this.pumping) this.pump();
  }

  /** @internal */
  unroute(id: number): void {
    this.routes.delete(id);
    if (this.routes.size === 0 && this.statusListeners.size === 0) this.stopPump();
  }

  private stopPump(): void {
    this.pumping?.cancel();
    this.pumping = null;
  }

  private pump(): void {
    const cancel = new native.NativeCancel();
    this.pumping = cancel;
    const h = this.native;
    void (async () => {
      while (!cancel.cancelled) {
        let ev: unknown;
        try {
          ev = settle(await h.nextEvent(null, cancel));
        } catch (e) {
          if (!cancel.cancelled) log("warning", "realtime", `event pump stopped: ${String(e)}`);
          break;
        }
        if (ev === END) break; // closed for good
        const event = shapeEvent<RealtimeEvent>(ev as { kind?: unknown });
        if (event.kind === "status" || event.kind === "error") {
          for (const l of this.statusListeners) {
            try {
              l(event);
            } catch (e) {
              log("warning", "realtime", `a status listener threw: ${String(e)}`);
            }
          }
        }
        for (const id of event.listeners ?? []) {
          const to = this.routes.get(id);
          if (!to) continue;
          try {
            to(event);
          } catch (e) {
            log("warning", "realtime", `a listener of ${event.event} threw: ${String(e)}`);
          }
        }
      }
      if (this.pumping === cancel) this.pumping = null;
    })();
  }
}

export interface PublishOptions {
  /** Keep it for history and catch-up after reconnects. */
  persist?: boolean;
  /** How long to wait for the platform's ack. */
  timeoutMs?: number;
}

/** One topic: listeners, publish, presence, history; `for await (const ev of channel)`. */
export class Channel implements AsyncIterable<RealtimeEvent> {
  private readonly listeners = new Map<number, { event: string; callback: Listener }>();
  private readonly streams = new Set<EventStream>();

  constructor(
    private readonly rt: Realtime,
    private readonly h: NativeChannel,
    readonly name: string,
  ) {}

  /** The full topic (`table/orders/<projectId>`). */
  get topic(): string {
    return this.h.topic;
  }

  get isSubscribed(): boolean {
    return this.h.isSubscribed;
  }

  /**
   * Calls `callback(event)` for `event`: a published name, `INSERT`/`UPDATE`/`DELETE`,
   * `presence:join`/`presence:leave`/`presence:sync`/`presence:*`, `*`, `subscribed` or `error`.
   */
  on(event: string, callback: Listener): this {
    if (typeof callback !== "function") throw validationError("callback", "channel.on(event, callback): callback must be a function");
    const id = this.h.on(event);
    this.listeners.set(id, { event, callback });
    this.rt.route(id, (ev) => {
      const r = callback(ev);
      if (r && typeof (r as Promise<unknown>).catch === "function") {
        (r as Promise<unknown>).catch((e) => log("warning", "realtime", `a listener of ${ev.event} failed: ${String(e)}`));
      }
    });
    return this;
  }

  /** Removes the listeners of `callback` (or of an event name); all of them without an argument. */
  off(what?: Listener | string): this {
    for (const [id, l] of this.listeners) {
      if (what === undefined || l.callback === what || l.event === what) {
        this.h.off(id);
        this.listeners.delete(id);
        this.rt.unroute(id);
      }
    }
    return this;
  }

  /** Waits until the platform confirmed the subscription (at most `timeoutMs`, default 10 000). */
  async subscribe(timeoutMs = 10_000, opts?: CallOptions): Promise<this> {
    settle(await withSignal(opts?.signal, (c) => this.h.waitSubscribed(timeoutMs, c)));
    return this;
  }

  /** Sends `event` with `data` to the other subscribers; the platform's ack `{ id, timestamp, persisted }`. */
  async publish(event: string, data?: unknown, options?: PublishOptions): Promise<PublishAck> {
    const o = { persist: options?.persist ?? false, timeout_ms: options?.timeoutMs };
    return shape("realtime.publish", settle(await this.h.publish(event, JSON.stringify(data ?? null), JSON.stringify(o))));
  }

  /** Be present here with `state`; others get `presence:join`. Kept across reconnects. */
  async track(state: Record<string, unknown> = {}): Promise<void> {
    sync(() => this.h.track(JSON.stringify(state)));
  }

  async untrack(): Promise<void> {
    sync(() => this.h.untrack());
  }

  /** Everyone present: `[{ key, state, userId, joinedAt }]`. */
  presence<S = Record<string, any>>(): PresenceEntry<S>[] {
    return shape("realtime.presence", JSON.parse(this.h.presence()));
  }

  /** Persisted messages, newest first; page back with `before = last.createdAt` (a `Date`, or unix ms). */
  async getHistory<D = any>(limit?: number, before?: Date | number, opts?: CallOptions): Promise<HistoryMessage<D>[]> {
    const ms = unixMs("before", before);
    return shape("realtime.history", settle(await withSignal(opts?.signal, (c) => this.h.history(limit ?? null, ms, c))));
  }

  /** Leaves the topic: no more events, presence untracked. */
  async unsubscribe(): Promise<void> {
    this.off();
    this.closeStreams();
    sync(() => this.h.unsubscribe());
  }

  /** The events matching `event` as an async iterator; `timeoutMs` ends it after that long without one. */
  events(event = "*", timeoutMs?: number): EventStream {
    const s = new EventStream(this, event, timeoutMs);
    this.streams.add(s);
    return s;
  }

  [Symbol.asyncIterator](): EventStream {
    return this.events("*");
  }

  /** @internal */
  listen(event: string, to: (ev: RealtimeEvent) => void): number {
    const id = this.h.on(event);
    this.rt.route(id, to);
    return id;
  }

  /** @internal */
  unlisten(id: number, s: EventStream): void {
    this.h.off(id);
    this.rt.unroute(id);
    this.streams.delete(s);
  }

  /** @internal */
  closeStreams(): void {
    for (const s of [...this.streams]) void s.return();
  }
}

/** Events of one channel filter, pulled by `for await`. */
export class EventStream extends EventQueue<RealtimeEvent> {
  private readonly id: number;

  constructor(
    private readonly ch: Channel,
    event: string,
    timeoutMs?: number,
  ) {
    super(timeoutMs);
    this.id = ch.listen(event, (ev) => this.push(ev));
  }

  protected detach(): void {
    this.ch.unlisten(this.id, this);
  }

  close(): Promise<IteratorResult<RealtimeEvent>> {
    return this.return();
  }
}

/** Server-side broadcast: `client.socket.emit(event, data, room)`. */
export class Socket {
  constructor(private readonly t: Transport) {}

  /** Sends `event` with `data` to every subscriber of `room`; `{ id, topic, timestamp, delivered, persisted }`. */
  emit(event: string, data?: unknown, room = "", options?: { persist?: boolean } & CallOptions): Promise<EmitResult> {
    const { persist, ...call } = options ?? {};
    return this.t.call("realtime.emit", { event, data, room, persist }, call);
  }
}
