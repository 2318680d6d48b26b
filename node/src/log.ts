/**
 * The package's debug-style logger: silent unless `AEROSTACK_LOG=debug` (or `DEBUG` names
 * `aerostack`), then one line per engine event on stderr, `aerostack:<area> <message>`. Engine
 * lines (retries) are pulled from the addon when a settled call says some wait.
 */
import { native } from "./native";

export type LogLevel = "debug" | "warning";
export type LogSink = (level: LogLevel, area: string, message: string) => void;

function enabledFromEnv(): boolean {
  const lvl = (process.env.AEROSTACK_LOG ?? "").toLowerCase();
  if (lvl === "debug" || lvl === "trace") return true;
  const dbg = process.env.DEBUG ?? "";
  return dbg.split(/[\s,]+/).some((p) => p === "*" || p === "aerostack" || p.startsWith("aerostack:"));
}

const stderrSink: LogSink = (level, area, message) => {
  process.stderr.write(`${new Date().toISOString()} aerostack:${area} ${level === "warning" ? "WARN " : ""}${message}\n`);
};

let sink: LogSink | null = enabledFromEnv() ? stderrSink : null;

/** Replaces the logger (`null`: silent; `true`: stderr). */
export function setLogger(next: LogSink | boolean | null): void {
  sink = next === true ? stderrSink : next === false ? null : next;
}

/** Whether anything is logged. */
export function logEnabled(): boolean {
  return sink !== null;
}

export function log(level: LogLevel, area: string, message: string): void {
  if (sink) sink(level, area, message);
}

/** Writes the engine's waiting lines (retries). */
export function drainEngineLogs(): void {
  const lines = native.drainLogs();
  if (!sink) return;
  for (const [level, message] of lines) sink(level === "warning" ? "warning" : "debug", "engine", message);
}

// Lines that start waiting while a call still waits (a long Retry-After) are written at once.
native.onLogsPending(drainEngineLogs);
