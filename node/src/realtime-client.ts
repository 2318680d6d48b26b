/**
 * The official standalone `RealtimeClient` of `@aerostack/sdk`: a realtime connection without an
 * `AerostackClient`, for a browser-style program that only listens and publishes.
 *
 *     const rt = new RealtimeClient({ baseUrl, projectId, apiKey, maxReconnectAttempts: 5 });
 *     await rt.connect();
 *     rt.channel("orders", { filter: { status: "open" } }).on("INSERT", (e) => console.log(e.data));
 *
 * It is a {@link Realtime} over its own engine client (its own connection pool), so it has every
 * method of `client.realtime`.
 */
import { clientOptionsJson } from "./client";
import { native } from "./native";
import { Realtime, type RealtimeOptions } from "./realtime";
import { Transport, sync } from "./transport";

/** The official constructor's settings: where to connect, as whom, and the connection's options. */
export interface RealtimeClientConfig extends RealtimeOptions {
  /** The platform's URL (falls back to `AEROSTACK_BASE_URL`, then the hosted platform). */
  baseUrl?: string;
  /** The project (falls back to `AEROSTACK_PROJECT_ID`). */
  projectId?: string;
  /** A project API key; an end user connects with `token` instead. */
  apiKey?: string;
}

export class RealtimeClient extends Realtime {
  constructor(config: RealtimeClientConfig = {}) {
    const { baseUrl, projectId, apiKey, ...options } = config;
    super(new Transport(sync(() => new native.NativeClient(clientOptionsJson({ baseUrl, projectId, apiKey })))));
    this.configure(options);
  }
}
