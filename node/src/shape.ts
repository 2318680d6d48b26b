/**
 * Results in JavaScript's own shapes: the times become `Date`s, at the paths the binding surface
 * lists.
 *
 * The surface hands results out with every key it owns already in camelCase (`accessToken`,
 * `joinedAt`) and the user's data (rows, cached values, job payloads, message data, tracked
 * state, custom fields) exactly as stored: `bindings/common/src/result_keys.rs`, once, for every
 * SDK. Times arrive as RFC 3339 UTC text; the surface lists, per result type (an operation name;
 * a stream's op for each item; `realtime.event`, `realtime.presence_event`, `realtime.publish`,
 * `realtime.presence`, `worker.invocation`), where they are (`bindings/common/src/times.rs`, in
 * camelCase). This module walks those paths only, in place, and turns each time into a `Date`.
 */
import { validationError } from "./errors";
import { native } from "./native";

/** A node of the time-path trie of one result type. */
interface Node {
  /** A time: text -> `Date`. */
  time?: boolean;
  next?: Map<string, Node>;
}

/** `history[].startedAt` -> `["history", "[]", "startedAt"]`; `""` -> `[]`. */
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

function build(paths: string[]): Node {
  const root: Node = {};
  for (const path of paths) {
    let n = root;
    for (const s of steps(path)) {
      n.next ??= new Map();
      let c = n.next.get(s);
      if (!c) n.next.set(s, (c = {}));
      n = c;
    }
    n.time = true;
  }
  return root;
}

let tries: Map<string, Node> | null = null;

/** The tries of every result type, built once from the addon's table. */
function table(): Map<string, Node> {
  if (tries) return tries;
  const { times } = JSON.parse(native.resultPaths()) as { times: Record<string, string[]> };
  const m = new Map<string, Node>();
  for (const [kind, paths] of Object.entries(times)) m.set(kind, build(paths));
  // A presence event: the times of every event plus those of its presence report.
  m.set(PRESENCE, build([...(times["realtime.event"] ?? []), ...(times["realtime.presence_event"] ?? [])]));
  tries = m;
  return m;
}

const PRESENCE = "realtime.event#presence";

/** The times under `n` in `v` as `Date`s (in place); `v` itself when it is a time. */
function convert(v: unknown, n: Node): unknown {
  if (n.time) return typeof v === "string" ? new Date(v) : v;
  if (!n.next || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const item = n.next.get("[]");
    if (item) for (let i = 0; i < v.length; i++) v[i] = convert(v[i], item);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const [k, c] of n.next) if (k !== "[]" && o[k] != null) o[k] = convert(o[k], c);
  return v;
}

/** A result of type `kind` (an operation name, ...) in the package's shape. */
export function shape<T = unknown>(kind: string, v: unknown): T {
  const n = table().get(kind);
  return (n ? convert(v, n) : v) as T;
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
