// Shared by the suite: one in-process local platform per test file (never a mock of our server),
// every rate limit off (named by the platform itself), and small helpers.
import { randomUUID } from "node:crypto";
import { LocalPlatform, rateLimitsFromFlags } from "aerostack/local";

export async function startPlatform(options = {}) {
  return LocalPlatform.start({ fromEnv: false, rateLimits: rateLimitsFromFlags([], true), ...options });
}

export const uid = () => randomUUID().replace(/-/g, "").slice(0, 10);

export function otpCode(messages) {
  for (const m of messages) {
    if (m.code) return String(m.code);
    const found = Object.values(m).join(" ").match(/\b(\d{6})\b/);
    if (found) return found[1];
  }
  throw new Error(`no code in ${JSON.stringify(messages)}`);
}

export function tokenIn(messages) {
  for (const m of messages) {
    if (m.token) return String(m.token);
    const found = Object.values(m).join(" ").match(/token=([A-Za-z0-9._-]+)/);
    if (found) return found[1];
  }
  throw new Error(`no token in ${JSON.stringify(messages)}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
