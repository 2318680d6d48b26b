/**
 * `aerostack/local`: the local Aerostack platform, started in-process on a free loopback port,
 * ephemeral by default; for tests, demos and offline development.
 *
 *     const p = await LocalPlatform.start();
 *     const client = p.client();
 *     ...
 *     await p.stop();
 */
import { AerostackClient, type ClientOptions } from "./client";
import { native, type NativePlatform } from "./native";
import { shape } from "./shape";
import { settle, snakeKeys, sync } from "./transport";
import type { ProjectInfo } from "./types";

export interface LocalPlatformOptions {
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Persistent data directory (default: ephemeral). */
  dataDir?: string;
  ephemeral?: boolean;
  /** Where a `.dev.vars` file of secrets is read from. */
  projectDir?: string;
  printBanner?: boolean;
  requireEmailVerification?: boolean;
  aiBaseUrl?: string;
  aiApiKey?: string;
  aiModel?: string;
  maxUploadBytes?: number;
  /** `{ name: [count, windowMs] }`; count 0 disables a limit. */
  rateLimits?: Record<string, [number, number] | { count: number; windowMs: number }>;
  /**
   * The hosted rate limits (register 5/min/IP, ...) for the limits `rateLimits` does not name.
   * Default false: a test fixture's own suite would trip over them.
   */
  hostedRateLimits?: boolean;
  /** Fill unset AI options and the data directory from `AEROSTACK_*` variables (default true). */
  fromEnv?: boolean;
}

function optionsJson(o: LocalPlatformOptions): string {
  const { rateLimits, ...rest } = o;
  const j = snakeKeys(rest) as Record<string, unknown>;
  if (rateLimits) j.rate_limits = Object.fromEntries(Object.entries(rateLimits).map(([k, v]) => [k, snakeKeys(v)]));
  return JSON.stringify(j);
}

/** A running local platform. */
export class LocalPlatform {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `<url>/v1`: the `baseUrl` for clients. */
  readonly apiUrl: string;
  readonly projectId: string;
  readonly projectSlug: string;
  readonly apiKey: string;
  readonly dataDir: string;

  private constructor(private readonly h: NativePlatform) {
    const info = JSON.parse(h.infoJson);
    this.url = info.url;
    this.apiUrl = info.api_url;
    this.projectId = info.project_id;
    this.projectSlug = info.project_slug;
    this.apiKey = info.api_key;
    this.dataDir = info.data_dir;
  }

  /** Starts a platform (the JS thread never waits: it starts on its own thread). */
  static async start(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
    const out = await native.NativePlatform.start(optionsJson(options));
    if (typeof out === "string") settle(out);
    return new LocalPlatform(out as NativePlatform);
  }

  get running(): boolean {
    return this.h.running;
  }

  /** A client of the default project (or of `projectId`/`apiKey` given in `options`). */
  client(options: ClientOptions = {}): AerostackClient {
    return new AerostackClient({ baseUrl: this.apiUrl, projectId: this.projectId, apiKey: this.apiKey, ignoreEnv: true, ...options });
  }

  /** A new project: `{ id, slug, name, apiKey }`. */
  async createProject(name: string): Promise<ProjectInfo> {
    return shape("local.create_project", settle(await this.h.createProject(name)));
  }

  /** Stops it (open requests finish first, up to 5 s) and frees the port; idempotent. */
  async stop(): Promise<void> {
    settle(await this.h.shutdown());
  }
}

/** `--rate-limit NAME=COUNT/WINDOW` flags as `{ name: [count, windowMs] }`. */
export function rateLimitsFromFlags(specs: string[], none = false): Record<string, [number, number]> {
  return JSON.parse(sync(() => native.rateLimitsFromFlags(specs, none)));
}
