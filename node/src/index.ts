/**
 * `aerostack`: the Node SDK of Aerostack, on the shared Rust engine.
 *
 *     import { AerostackClient } from "aerostack";
 *     const client = new AerostackClient({ projectId, apiKey, baseUrl });
 *     const { results } = await client.db.query("SELECT 1 AS one");
 *     const { accessToken, user } = await client.auth.login(email, password);  // user.createdAt: Date
 *
 * `aerostack/local` starts the local platform in-process; `aerostack/hooks` serves Logic Modules
 * and queue workers; `SDK` is the operation-style face of `@aerostack/sdk-node`.
 */
export * from "./client";
export type * from "./types";
export * from "./errors";
export { SDK, createClient, ResponseError, FetchError, RequiredError, type SDKOptions, type FetchApi, type OperationOptions, type OperationRequest, type Operation, type CacheFacade, type StorageGroup, type StreamGatewayRequest } from "./sdk";
export { Realtime, Channel, EventStream, Socket, type RealtimeEvent, type PresenceEvent, type RealtimeOptions, type ChannelOptions, type PublishOptions, type Listener } from "./realtime";
export { RealtimeClient, type RealtimeClientConfig } from "./realtime-client";
export {
  GatewaySocket, GatewaySocketEvents, type GatewaySocketEvent, type GatewaySocketEventType, type GatewaySocketEventOf, type GatewaySocketChatOptions, type GatewaySocketChatResult,
  type GatewaySocketUsage, type GatewayTokenEvent, type GatewayDoneEvent, type GatewayErrorEvent, type GatewayPongEvent, type GatewayCloseEvent, type GatewayUnknownEvent,
} from "./gateway-socket";
export { Stream, type CallOptions, type RetryOption } from "./transport";
export { setLogger, type LogSink, type LogLevel } from "./log";
import { native } from "./native";

/** This package's version and the engine's. */
export const VERSION: string = native.version();
export const ENGINE_VERSION: string = native.engineVersion();
