// The README's examples, type-checked with `tsc --strict --noEmit` (test/package.test.mjs).
import {
  AerostackClient, AerostackError, ClientError, NotFoundError,
  type AuthSession, type GatewaySocketChatResult, type GatewaySocketEvent, type CacheListPage, type HistoryMessage, type JobRecord, type PresenceEntry, type QueryResult, type RealtimeEvent, type User,
} from "aerostack";
import { LocalPlatform } from "aerostack/local";
import { serve, type ScopedSdk } from "aerostack/hooks";

interface Product {
  id: number;
  name: string;
}

export async function example(): Promise<void> {
  const p = await LocalPlatform.start();
  const client = new AerostackClient({ projectId: p.projectId, apiKey: p.apiKey, baseUrl: p.apiUrl });
  const rows: QueryResult<Product> = await client.db.query<Product>("SELECT id, name FROM products WHERE id = ?", [1]);
  const first: string | undefined = rows.results[0]?.name;
  await client.cache.set("user:1", { name: first }, 300);
  const cached = await client.cache.get<{ name: string }>("user:1");
  console.log(cached?.name);
  const ac = new AbortController();
  await client.storage.upload(Buffer.from("hi"), { path: "a.txt", contentType: "text/plain", signal: ac.signal, onProgress: (sent, total) => console.log(sent, total) });
  for await (const chunk of client.ai.chatStream([{ role: "user", content: "Hi" }], { model: "gpt-4o-mini", timeoutMs: 5000 })) console.log(chunk.delta);
  const socket = await client.gateway.connectWebSocket("my-bot", { consumerKey: "ask_test_…" });
  socket.on("token", (ev) => process.stdout.write(ev.content));
  const reply: GatewaySocketChatResult = await socket.chat([{ role: "user", content: "Hi" }], { onToken: (t: string) => console.log(t), signal: ac.signal });
  for await (const ev of socket) {
    const e: GatewaySocketEvent = ev;
    if (e.type === "done") console.log(e.tokensUsed, e.usage.totalTokens);
    if (e.type === "error") console.log(e.error.code, e.request);
    if (e.type === "close") break;
  }
  console.log(reply.content, reply.tokensUsed, socket.readyState, await socket.ping());
  await socket.close();
  const channel = client.realtime.channel("orders");
  channel.on("INSERT", (event) => console.log(event.data));
  await channel.subscribe();
  await channel.publish("notification", { text: "hi" }, { persist: true });
  for await (const event of channel) {
    console.log(event.event);
    break;
  }
  // Typed results: camelCase keys, times as Date, the user's data as stored.
  const session: AuthSession = await client.auth.login("ann@example.com", "securePassword123");
  const token: string | null = session.accessToken;
  const user: User = await client.auth.getCurrentUser(token ?? "");
  const joined: number | undefined = user.createdAt?.getTime();
  const { jobId } = await client.queue.send("send-welcome-email", { user_id: user.id, email: user.email });
  const job: JobRecord | null = await client.queue.job(jobId);
  const runAt: Date | null | undefined = job?.runAt;
  const page: CacheListPage = await client.cache.list("user:");
  const expires: Date | null | undefined = page.keys[0]?.expiration;
  const history: HistoryMessage<{ text: string }>[] = await channel.getHistory<{ text: string }>(50);
  const older = await channel.getHistory(50, history.at(-1)?.createdAt);
  const present: PresenceEntry[] = channel.presence();
  channel.on("*", (ev: RealtimeEvent) => console.log(ev.userId, ev.timestamp?.toISOString()));
  console.log(joined, runAt, expires, older.length, present[0]?.joinedAt, page.listComplete, job?.lastError, job?.maxRetries);
  try {
    await client.storage.get("missing");
  } catch (e) {
    if (e instanceof NotFoundError) console.log(e.status, e.requestId);
    if (e instanceof ClientError && e.isNetworkError()) console.log("offline");
    if (e instanceof AerostackError) console.log(e.code, e.retryAfterMs);
  }
  const worker = await serve({
    modules: { "search-products": async (sdk: ScopedSdk, event: { data?: { q?: string }; project_id: string }) => sdk.db.query("SELECT 1 WHERE ? IS NOT NULL AND ? IS NOT NULL", [event.data?.q, event.project_id]) },
    jobs: { sendWelcomeEmail: async (sdk: ScopedSdk, job: { data: { email: string } }) => sdk.fetch("https://example.com", { method: "POST", body: job.data }) },
  });
  await worker.drain();
  await p.stop();
}
