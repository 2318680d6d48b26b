// Node quickstart: touches every service of a running Aerostack platform, one line per step.
//
//     AEROSTACK_API_KEY=ac_secret_... node node/examples/quickstart.mjs
//
// Reads AEROSTACK_API_URL (default http://127.0.0.1:8787/v1), AEROSTACK_API_KEY and
// AEROSTACK_PROJECT_ID. With --local (or no API key set) it starts an ephemeral local platform
// in-process instead.
import { AerostackClient, AuthError, ServerError } from "aerostack";
import { LocalPlatform } from "aerostack/local";
import { serve } from "aerostack/hooks";

const step = (name, detail) => console.log(`${name.padEnd(22)} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);

async function run(client, { apiKey, baseUrl }) {
  const uid = String(Date.now());

  // Auth
  const email = `jane-${uid}@example.com`;
  const session = await client.auth.register(email, "securePassword123", "Jane Doe");
  step("auth.register", `user ${session.user.id}`);
  const login = await client.auth.login(email, "securePassword123");
  const user = await client.auth.verifyToken(login.accessToken);
  if (!user) throw new Error("the fresh access token was refused");
  step("auth.verifyToken", user.email);
  await client.auth.sendOTP(email);
  step("auth.sendOTP", "code sent (see the local outbox)");

  // Database
  await client.db.query("CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, title TEXT, status TEXT)");
  await client.db.batch([
    { sql: "INSERT INTO tasks VALUES (?, ?, ?)", params: [`t1-${uid}`, "Write docs", "todo"] },
    { sql: "INSERT INTO tasks VALUES (?, ?, ?)", params: [`t2-${uid}`, "Ship it", "todo"] },
  ]);
  const rows = await client.db.query("SELECT * FROM tasks WHERE id LIKE ? ORDER BY id", [`%-${uid}`]);
  step("db.query", `${rows.count} rows, first: ${rows.results[0].title}`);
  step("db.queryOne", await client.db.queryOne("SELECT count(*) AS n FROM tasks"));

  // Cache
  await client.cache.set(`user:${uid}`, { name: "Jane" }, 300);
  const cached = await client.cache.get(`user:${uid}`);
  const visits = await client.cache.increment(`visits:${uid}`);
  step("cache.get", `${JSON.stringify(cached)} (visits ${visits})`);

  // Storage
  const uploaded = await client.storage.upload(Buffer.from("\x89PNG not really"), { path: `avatars/${uid}.png`, contentType: "image/png" });
  const content = await client.storage.get(uploaded.key);
  step("storage.upload", `${uploaded.url} (${content.data.length} bytes)`);

  // Calls that may answer "not configured" (503) are made without retries here.
  const once = client.withOptions({ retry: false });

  // AI: embeddings and search are built in; chat needs a model upstream
  const vector = await client.ai.embed("text to embed");
  await client.ai.search.ingest("How do I reset my password?", "faq", `faq-${uid}`);
  const hits = await client.ai.search.query("forgot password", 1, ["faq"]);
  step("ai.embed / search", `${vector.length} dims; best hit: ${hits[0]?.content}`);
  try {
    step("ai.complete", (await once.ai.complete("Say hello in 3 words.", { maxTokens: 16 })).text);
  } catch (e) {
    if (!(e instanceof ServerError)) throw e;
    step("ai.complete", `skipped: ${e.code} (set AEROSTACK_AI_BASE_URL on the platform)`);
  }

  // Secrets
  await client.secrets.set("STRIPE_SECRET_KEY", "sk_test_123");
  step("secrets.get", await client.secrets.get("STRIPE_SECRET_KEY"));

  // A Logic Module and a queue worker, served from this process (seed 000's shapes)
  const worker = await serve({
    apiKey,
    baseUrl,
    modules: { hello: async (sdk, event) => ({ greeting: `Hello, ${event.data?.name}!` }) },
    jobs: { sendWelcomeEmail: async (sdk, job) => ({ sent: job.data.email }) },
  });
  step("call (custom API)", await client.call("hello", { name: "Jane" }));
  step("services.invoke", (await client.services.invoke("hello", { name: "Ann" })).result ?? "ok");
  const job = await client.queue.send("send-welcome-email", { email });
  const done = await client.queue.wait(job.jobId, 10_000);
  step("queue.send / wait", `${job.jobId} ${done.status} ${JSON.stringify(done.result)}`);
  await worker.drain();

  // Realtime: a channel's table changes and messages, and a server-side broadcast
  const channel = client.realtime.channel("tasks");
  const got = new Promise((resolve) => channel.on("INSERT", (ev) => resolve(ev.data.title)));
  await channel.subscribe();
  await client.db.query("INSERT INTO tasks VALUES (?, ?, ?)", [`t3-${uid}`, "Live update", "todo"]);
  step("realtime INSERT", await got);
  const ack = await channel.publish("notification", { text: "hi" }, { persist: true });
  step("realtime.publish", `persisted ${ack.persisted}; history ${(await channel.getHistory(5)).length}`);
  step("socket.emit", (await client.socket.emit("task:updated", { id: `t1-${uid}` }, "tasks/updates")).delivered);
  await client.close();

  // Errors are typed
  try {
    await client.auth.login(email, "wrong password");
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    step("errors", `${e.name} ${e.code} ${e.status} requestId=${e.requestId}`);
  }
}

let local = null;
let client;
let target;
if (process.argv.includes("--local") || !process.env.AEROSTACK_API_KEY) {
  local = await LocalPlatform.start();
  client = local.client();
  target = { apiKey: local.apiKey, baseUrl: local.apiUrl };
  console.log(`(started an ephemeral local platform at ${local.apiUrl})`);
} else {
  target = { apiKey: process.env.AEROSTACK_API_KEY, baseUrl: process.env.AEROSTACK_API_URL ?? "http://127.0.0.1:8787/v1" };
  client = new AerostackClient({ projectId: process.env.AEROSTACK_PROJECT_ID, ...target });
}
try {
  await run(client, target);
} catch (e) {
  console.error(`quickstart failed: ${e?.stack ?? e}`);
  process.exitCode = 1;
} finally {
  if (local) await local.stop();
}
