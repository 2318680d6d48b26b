// An ES module consumer: the `import` condition's types (dist/esm/*.d.mts) resolve too.
import { AerostackClient, SDK, ValidationError } from "aerostack";
import { LocalPlatform } from "aerostack/local";
import { serve } from "aerostack/hooks";

const p: LocalPlatform = await LocalPlatform.start();
const client = new AerostackClient({ baseUrl: p.apiUrl, apiKey: p.apiKey });
const n: number = (await client.db.query("SELECT 1 AS one")).count;
const sdk = new SDK({ apiKeyAuth: p.apiKey, serverURL: p.apiUrl });
await sdk.database.dbQuery({ requestBody: { sql: "SELECT 1" } });
const w = await serve({ modules: { echo: async (_sdk, event) => ({ at: event.timestamp?.getTime(), project: event.projectId, data: event.data }) }, apiKey: p.apiKey, baseUrl: p.apiUrl });
await w.stop();
export const ok: boolean = n === 1 && !(new Error() instanceof ValidationError);
