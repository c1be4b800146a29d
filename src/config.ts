import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuthConfig } from './auth/config.ts';
import type { OpenApiConfig } from './openapi/setup.ts';
import type { PolicyConfig } from './policy/config.ts';
import { GangwayConfigError } from './errors.ts';
import type { SessionOptions } from './protocol/session-table.ts';
import type { RegistryInput } from './registry/registry.ts';
import type { Ephemeral, Store } from './store/types.ts';
import type { Authenticate } from './transport/endpoint.ts';
import { type GuardOptions, isLoopbackHost } from './transport/guard.ts';

export interface HttpConfig {
  /** Path of the MCP endpoint. Default `/mcp`. */
  path?: string;
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** The server's public URL (`https://mcp.example.com/mcp`); its host is allowed and its origin too. */
  publicUrl?: string;
  /** Extra allowed `Host` values (`example.com` or `example.com:8443`). */
  allowedHosts?: string[];
  /** Allowed browser origins (`https://app.example.com`). Requests without Origin are always allowed. */
  allowedOrigins?: string[];
  /** Largest accepted POST body. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Serve 2025 eras without Mcp-Session-Id (each request stands alone). Default false. */
  stateless?: boolean;
  sessions?: SessionOptions;
  /** Per-request deadline; a tool may set its own `timeoutMs`. Default 60 s. */
  requestTimeoutMs?: number;
  /** How long close() waits for in-flight requests. Default 10 s. */
  drainMs?: number;
  /** Longest time to receive one request, headers and body (408 after). Default 30 s. */
  receiveTimeoutMs?: number;
  /**
   * Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges, e.g.
   * `10.0.0.0/8`). Default none: the client address is the socket's (SECURITY 40).
   */
  trustedProxies?: string[];
}

export interface GangwayConfig extends Omit<RegistryInput, 'pageSize'> {
  name: string;
  version: string;
  title?: string;
  description?: string;
  websiteUrl?: string;
  /** Guidance for the model (initialize / server/discover `instructions`). */
  instructions?: string;
  http?: HttpConfig;
  lists?: { pageSize?: number; ttlMs?: number };
  /** `sqlite:<path>` (default `sqlite:./data/gangway.db`), `memory`, or an adapter object. */
  store?: string | Store;
  /** `memory` (default), `sqlite:<path>`, or an adapter object. */
  ephemeral?: string | Ephemeral;
  /** Signs 2026-07-28 requestState. Set it (32+ characters) when several processes serve one URL. */
  secret?: string;
  /** A pino logger, or options for the built-in one. */
  logger?: Logger | { level?: string; pretty?: boolean };
  /**
   * Who may call: API keys, management tokens, the built-in OAuth authorization server, an
   * external issuer's JWTs. Without it (and without `authenticate`) everyone is anonymous.
   */
  auth?: AuthConfig;
  /** Serve a REST API described by OpenAPI as tools (each operation proxied to `upstream`). */
  openapi?: OpenApiConfig;
  /** Replaces `auth` with the product's own resolver (advanced: it must verify credentials itself). */
  authenticate?: Authenticate;
  /** Guard rails for every call: scopes in lists, rate limits, quotas, confirmation, audit. */
  policy?: PolicyConfig;
  /**
   * The master switch (seed 001): `false` answers every MCP and OAuth route with 404. Default
   * true; the environment variable `GANGWAY_MCP_ENABLED=0` (or `false`) turns it off too.
   */
  enabled?: boolean;
}

export interface ResolvedHttp {
  publicUrl: string | undefined;
  /** Bound to a loopback address and not published under another name (`publicUrl`): local only. */
  loopback: boolean;
  path: string;
  host: string;
  port: number;
  maxBodyBytes: number;
  stateless: boolean;
  sessions: SessionOptions;
  requestTimeoutMs: number;
  drainMs: number;
  receiveTimeoutMs: number;
  guard: GuardOptions;
  secret: Buffer;
}

/** Checks and completes the HTTP options; every mistake is reported here, at start-up. */
export function resolveHttp(config: GangwayConfig): ResolvedHttp {
  const fail = (msg: string): never => {
    throw new GangwayConfigError('GW_CONFIG_HTTP', msg);
  };
  if (!config || typeof config !== 'object') fail('config must be an object');
  if (typeof config.name !== 'string' || !config.name) fail('name is required (the server name clients show)');
  if (typeof config.version !== 'string' || !config.version) fail('version is required');
  const h = config.http ?? {};
  const path = h.path ?? '/mcp';
  if (!path.startsWith('/') || path.includes('?') || path.includes('#')) fail(`http.path must be a path like /mcp (got ${path})`);
  const host = h.host ?? '127.0.0.1';
  const port = h.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`http.port must be 0-65535 (got ${port})`);
  const maxBodyBytes = h.maxBodyBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1024) fail('http.maxBodyBytes must be an integer >= 1024');
  const requestTimeoutMs = h.requestTimeoutMs ?? 60_000;
  if (!(requestTimeoutMs > 0)) fail('http.requestTimeoutMs must be positive');
  if (h.receiveTimeoutMs !== undefined && !(Number.isInteger(h.receiveTimeoutMs) && h.receiveTimeoutMs >= 100)) {
    fail('http.receiveTimeoutMs must be an integer >= 100');
  }
  const sessions = h.sessions ?? {};
  if (sessions.max !== undefined && !(Number.isInteger(sessions.max) && sessions.max >= 1)) fail('http.sessions.max must be an integer >= 1');
  if (sessions.idleMs !== undefined && !(Number.isInteger(sessions.idleMs) && sessions.idleMs >= 1000)) fail('http.sessions.idleMs must be an integer >= 1000');
  if (sessions.revalidateMs !== undefined && !(Number.isInteger(sessions.revalidateMs) && sessions.revalidateMs >= 0)) {
    fail('http.sessions.revalidateMs must be an integer >= 0 (0: read the shared copy on every request)');
  }
  if (sessions.shared !== undefined && typeof sessions.shared !== 'boolean') fail('http.sessions.shared must be true or false');

  const hosts = new Set<string>();
  const origins = new Set<string>();
  for (const a of h.allowedHosts ?? []) hosts.add(a.toLowerCase());
  for (const o of h.allowedOrigins ?? []) {
    try {
      origins.add(new URL(o).origin);
    } catch {
      fail(`http.allowedOrigins: "${o}" is not an origin like https://app.example.com`);
    }
  }
  if (h.publicUrl) {
    let url: URL;
    try {
      url = new URL(h.publicUrl);
    } catch {
      return fail(`http.publicUrl "${h.publicUrl}" is not an absolute URL`);
    }
    hosts.add(url.host.toLowerCase());
    origins.add(url.origin);
  }
  const bound = isLoopbackHost(host) || host === 'localhost';
  if (bound) for (const name of ['localhost', '127.0.0.1', '[::1]']) hosts.add(name);
  else if (hosts.size === 0) {
    fail(
      `binding to ${host} needs http.publicUrl or http.allowedHosts: the Host allow-list (DNS rebinding defence) is on by default`,
    );
  }

  // Bound to loopback but published under a public name (behind a reverse proxy) is public: the
  // loopback conveniences (email sign-in, auto-approve, an http issuer) must not reach the internet.
  const published = h.publicUrl ? new URL(h.publicUrl).hostname : undefined;
  const loopback = bound && (published === undefined || isLoopbackHost(published) || published === 'localhost');

  let secret: Buffer;
  if (config.secret !== undefined) {
    if (typeof config.secret !== 'string' || config.secret.length < 32) fail('secret must be a string of 32+ characters');
    secret = Buffer.from(config.secret);
  } else secret = randomBytes(32);

  return {
    publicUrl: h.publicUrl,
    loopback,
    path,
    host,
    port,
    maxBodyBytes,
    stateless: h.stateless ?? false,
    sessions,
    requestTimeoutMs,
    drainMs: h.drainMs ?? 10_000,
    receiveTimeoutMs: h.receiveTimeoutMs ?? 30_000,
    guard: { allowedHosts: hosts, allowedOrigins: origins, allowLoopbackOrigins: bound },
    secret,
  };
}
