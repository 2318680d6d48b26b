/**
 * Results in JavaScript's own shapes: one conversion, at the paths the binding surface lists.
 *
 * The engine writes its keys in snake_case and every time as RFC 3339 UTC text. The surface
 * lists, per result type (an operation name; a stream's op for each item; `realtime.event`,
 * `realtime.presence_event`, `realtime.publish`, `realtime.presence`, `worker.invocation`),
 * where the times are (`bindings/common/src/times.rs`) and where the user's own data is
 * (`bindings/common/src/user_data.rs`). This module, and only it, turns a result into what the
 * package hands out: the listed times become `Date`s, every key the SDK owns becomes camelCase
 * (`access_token` -> `accessToken`, `joined_at` -> `joinedAt`), and the user's data (rows,
 * cached values, job payloads, message data, tracked state, custom fields) is left exactly as
 * stored, whatever its keys are called.
 */
import { validationError } from "./errors";
import { native } from "./native";

/** A node of the path trie of one result type. */
interface Node {
  /** A time: text -> `Date`. */
  time?: boolean;
  /** The user's data: handed out as is. */
  user?: boolean;
  next?: Map<string, Node>;
}

/** `history[].started_at` -> `["history", "[]", "started_at"]`; `""` -> `[]`. */
function steps(path: string): string[] {
  const out: string[] = [];
  if (path === "") return out;
  for (const part of path.split(".")) {
    if (part.endsWith("[]")) {
      if (part.length > 2) out.push(part.slice(0, -2));
      out.push("[]");
    } else out.push(part);
  }
  return out;
}

function insert(root: Node, path: string, mark: "time" | "user"): void {
  let n = root;
  for (const s of steps(path)) {
    n.next ??= new Map();
    let c = n.next.get(s);
    if (!c) n.next.set(s, (c = {}));
    n = c;
  }
  n[mark] = true;
}

type Table = Record<string, string[]>;
let tries: Map<string, Node> | null = null;

/** The tries of every result type, built once from the addon's tables. */
function table(): Map<string, Node> {
  if (tries) return tries;
  const t = JSON.parse(native.resultPaths()) as { times: Table; user_data: Table };
  const m = new Map<string, Node>();
  const build = (times: string[], user: string[]): Node => {
    const root: Node = {};
    for (const p of times) insert(root, p, "time");
    for (const p of user) insert(root, p, "user");
    return root;
  };
  for (const kind of new Set([...Object.keys(t.times), ...Object.keys(t.user_data)])) {
    m.set(kind, build(t.times[kind] ?? [], t.user_data[kind] ?? []));
  }
  // A presence event: the times of every event plus those of its presence report; its user
  // data is the presence report's (the tracked state), which replaces a message's `data`.
  m.set(PRESENCE, build([...(t.times["realtime.event"] ?? []), ...(t.times["realtime.presence_event"] ?? [])], t.user_data["realtime.presence_event"] ?? []));
  tries = m;
  return m;
}

const PRESENCE = "realtime.event#presence";
const EMPTY: Node = {};
const camelCache = new Map<string, string>();

/** `access_token` -> `accessToken`; a key that is not snake_case is kept as is. */
export function camel(key: string): string {
  let c = camelCache.get(key);
  if (c === undefined) {
    c = key.includes("_") ? key.replace(/_([a-z0-9])/g, (_, x: string) => x.toUpperCase()) : key;
    if (camelCache.size < 10_000) camelCache.set(key, c);
  }
  return c;
}

function walk(v: unknown, n: Node): unknown {
  if (n.user) return v;
  if (n.time && typeof v === "string") return new Date(v);
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const item = n.next?.get("[]") ?? EMPTY;
    return v.map((x) => walk(x, item));
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[camel(k)] = walk((v as Record<string, unknown>)[k], n.next?.get(k) ?? EMPTY);
  return out;
}

/** A result of type `kind` (an operation name, ...) in the package's shape. */
export function shape<T = unknown>(kind: string, v: unknown): T {
  return walk(v, table().get(kind) ?? EMPTY) as T;
}

/** A realtime event in the package's shape (a presence event by its own paths). */
export function shapeEvent<T = unknown>(ev: { kind?: unknown }): T {
  return shape<T>(ev.kind === "presence" ? PRESENCE : "realtime.event", ev);
}

/** A point in time given as a `Date` or unix milliseconds, as the engine's unix milliseconds. */
export function unixMs(name: string, when: Date | number | null | undefined): number | null {
  if (when === undefined || when === null) return null;
  if (when instanceof Date) {
    const ms = when.getTime();
    if (Number.isFinite(ms)) return ms;
  } else if (typeof when === "number" && Number.isFinite(when)) return Math.trunc(when);
  throw validationError(name, `\`${name}\` must be a Date (e.g. last.createdAt) or unix milliseconds, got ${String(when)}`);
}
