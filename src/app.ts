import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ANONYMOUS } from './auth/principal.ts';
import { plainChallenge, scopeGate, setupAuth } from './auth/setup.ts';
import { type GangwayConfig, resolveHttp, type ResolvedHttp } from './config.ts';
import { errorReference, GangwayConfigError } from './errors.ts';
import { createLogger } from './logger.ts';
import { Engine } from './protocol/engine.ts';
import { setupOpenApi } from './openapi/setup.ts';
import { limitsApply, resolvePolicy } from './policy/config.ts';
import { clientIp, parseTrustedProxies } from './policy/client-ip.ts';
import { Policy } from './policy/pipeline.ts';
import { permittedLists } from './policy/visibility.ts';
import { RequestStateCodec } from './protocol/input-required.ts';
import { SessionTable } from './protocol/session-table.ts';
import { Registry } from './registry/registry.ts';
import { parseSpec } from './store/spec.ts';
import { openBoth, sessionShare, sharesSessions } from './stores.ts';
import type { Ephemeral, Store } from './store/types.ts';
import { type Gate, McpEndpoint } from './transport/endpoint.ts';
import { capWebRequest, serveFetch, toResponse } from './transport/fetch-adapter.ts';
import { isLoopbackHost } from './transport/guard.ts';
import { ListenHub } from './transport/listen.ts';
import { cancelIfUnfinished, serveNode, writeReply } from './transport/node-adapter.ts';
import { toWebRequest, writeWebResponse } from './transport/node-request.ts';
import { type HttpReply, httpError, jsonReply } from './transport/replies.ts';

/** Largest body the OAuth endpoints and pages read (forms and registration JSON are small). */
const WEB_BODY_MAX = 64 * 1024;

export interface Gangway {
  /**
   * Web-standard face: works with any fetch-style server (Hono, Bun, Deno, workers). Pass the
   * peer's address when the host knows it: per-address limits (client registration) use it.
   */
  fetch(request: Request, peer?: { ip?: string }): Promise<Response>;
  /** node:http face (also Express / Fastify raw handlers). */
  node(req: IncomingMessage, res: ServerResponse): void;
  /** Starts a node:http server; resolves once it listens. */
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; port: number; server: Server }>;
  /** Stops accepting, ends streams, drains in-flight requests, closes stores. */
  close(): Promise<void>;
  /** Tells subscribers (2025 resources/subscribe, 2026 subscriptions/listen) that a resource changed. */
  notifyResourceUpdated(uri: string): number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** False when the master switch is off: every MCP and OAuth route answers 404. */
  readonly enabled: boolean;
  /** Store and Ephemeral, opened on first use. */
  stores(): Promise<{ store: Store; ephemeral: Ephemeral }>;
}

/** Builds a server from its definition. Every configuration error is thrown here. */
export function createGangway(config: GangwayConfig): Gangway {
  const http: ResolvedHttp = resolveHttp(config);
  const logger =
    config.logger && 'info' in config.logger ? (config.logger as Logger) : createLogger(config.logger as { level?: string });
  const openapi = config.openapi ? setupOpenApi(config.openapi, logger) : null;
  const policyConfig = resolvePolicy(config.policy);
  const trusted = parseTrustedProxies(config.http?.trustedProxies);
  const enabled = config.enabled !== false && !/^(0|false|off|no)$/i.test(process.env.GANGWAY_MCP_ENABLED ?? '');
  let opened: Promise<{ store: Store; ephemeral: Ephemeral }> | undefined;
  // A failed open is not remembered: the next request tries again (Postgres down at start-up,
  // then back), and whichever adapter did open is closed rather than leaked.
  const stores = () =>
    (opened ??= openBoth(config).catch((err: unknown) => {
      opened = undefined;
      throw err;
    }));
  const policy = new Policy({
    resolved: policyConfig,
    stores,
    lookup: (name) => registry.tools.get(name),
    logger,
    now: Date.now,
  });
  const tools = [...(config.tools ?? []), ...(openapi?.tools ?? [])];
  const registry: Registry = new Registry({
    ...config,
    tools: [...tools, ...policy.builtinTools(tools)],
    resourceTemplates: [...(config.resourceTemplates ?? []), ...(openapi?.resourceTemplates ?? [])],
    pageSize: config.lists?.pageSize,
  });
  // Store specs are checked now; the adapters open on first use (listen, /readyz).
  if (typeof config.store === 'string') parseSpec(config.store, 'store');
  if (typeof config.ephemeral === 'string') parseSpec(config.ephemeral, 'ephemeral');
  const shared = sharesSessions(config);
  const sessions = new SessionTable(http.sessions, Date.now, shared ? sessionShare(stores) : undefined);
  if (shared && config.secret === undefined) {
    logger.warn('sessions are shared with other processes but `secret` is not set: each process signs 2026-07-28 request states with its own random key, so another process refuses them; give every process the same `secret`');
  }
  const hub = new ListenHub(sessions, registry.resourceList.length + registry.templates.length > 0);
  // Callers are identified at all: scopes are checked, and lists may be filtered by them.
  const identified = Boolean(config.auth || config.authenticate);
  const engine = new Engine({
    registry,
    serverInfo: {
      name: config.name,
      version: config.version,
      ...(config.title ? { title: config.title } : {}),
      ...(config.description ? { description: config.description } : {}),
      ...(config.websiteUrl ? { websiteUrl: config.websiteUrl } : {}),
    },
    ...(config.instructions ? { instructions: config.instructions } : {}),
    timeoutMs: http.requestTimeoutMs,
    listTtlMs: config.lists?.ttlMs ?? 300_000,
    stateCodec: new RequestStateCodec(http.secret, 10 * 60_000),
    onHandlerError: (tool, err, scope) => {
      const ref = errorReference();
      logger.error({ err: policy.scrubError(err, scope), tool, ref }, 'tool handler threw');
      return ref;
    },
    pipeline: policy,
    ...(identified && policyConfig.toolsList === 'permitted' ? { listFilter: permittedLists() } : {}),
  });

  // auth/ is built only when configured; a hand-written `authenticate` replaces it.
  const auth = config.authenticate ? null : setupAuth(config, http, registry, stores, logger, policyConfig.limits.web);
  const limited = limitsApply(config);
  // The scope gate (auth/), with every refusal of a call or read audited (policy/).
  const scopeCheck = auth ? auth.gate : config.authenticate ? scopeGate(registry, plainChallenge) : null;
  const gate: Gate | null = scopeCheck
    ? (principal, request, input) => {
        const refused = scopeCheck(principal, request, input);
        if (refused) policy.denied(principal, request.method, request.params);
        return refused;
      }
    : null;
  const endpoint = new McpEndpoint({
    engine,
    guard: http.guard,
    maxBodyBytes: http.maxBodyBytes,
    stateless: http.stateless,
    sessions,
    hub,
    authenticate: config.authenticate ?? auth?.authenticate ?? (() => ANONYMOUS),
    // Scopes and anonymous access are checked whenever callers are identified at all.
    ...(gate ? { gate } : {}),
    ...(limited ? { admit: (principal, requests, input) => policy.admit(principal, requests, clientIp(input.remoteAddress ?? 'unknown', input.header('x-forwarded-for'), trusted)) } : {}),
    timeoutMs: http.requestTimeoutMs,
    logger,
    now: Date.now,
  });

  let inflight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const done = () => {
    if (--inflight === 0) drained?.();
  };
  // Shared by every response ('close' fires once): counts the request out, cancels abandoned work.
  function onResponseClose(this: ServerResponse) {
    cancelIfUnfinished(this);
    done();
  }

  /** Health and readiness: for load balancers, so no Host check and no auth. */
  async function health(path: string): Promise<HttpReply | undefined> {
    if (path === '/healthz') return jsonReply(200, '{"status":"ok"}');
    if (path !== '/readyz') return undefined;
    try {
      const { store, ephemeral } = await stores();
      await Promise.all([store.ping(), ephemeral.ping()]);
      return jsonReply(200, JSON.stringify({ status: 'ready', store: store.kind, ephemeral: ephemeral.kind }));
    } catch (err) {
      logger.warn({ err }, 'readiness check failed');
      return jsonReply(503, '{"status":"unavailable"}', { 'retry-after': '5' });
    }
  }

  const notFound = () => httpError(404, 'Not Found');

  /** The web surface behind node:http: the Host guard, then a web Request. */
  async function webNode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!endpoint.hostOk(req.headers.host)) return writeReply(res, httpError(403, 'Forbidden: Host not allowed'), true);
      const request = await toWebRequest(req, WEB_BODY_MAX);
      if (request === 413) return writeReply(res, httpError(413, 'Payload Too Large'), true);
      const ip = clientIp(req.socket.remoteAddress ?? 'unknown', headerOf(req, 'x-forwarded-for'), trusted);
      const response = await auth!.web(request, { ip });
      if (!response) return writeReply(res, notFound(), req.method === 'POST');
      await writeWebResponse(res, response);
    } catch (err) {
      // An aborted upload lands here: the socket is gone, there is nobody to answer.
      if (!res.headersSent && !res.destroyed) writeReply(res, httpError(400, 'Bad Request'), true);
      logger.debug({ err }, 'web request failed');
    }
  }

  const app: Gangway = {
    registry,
    enabled,
    logger,
    stores,
    node(req, res) {
      inflight++;
      res.on('close', onResponseClose);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (closing) return writeReply(res, httpError(503, 'Service Unavailable: shutting down', { 'retry-after': '1' }), true);
      if (!enabled && path !== '/healthz' && path !== '/readyz') return writeReply(res, notFound(), req.method === 'POST');
      if (path === http.path) return serveNode(endpoint, http.maxBodyBytes, req, res);
      if (path === '/healthz' || path === '/readyz' || !auth) {
        health(path).then((r) => writeReply(res, r ?? notFound(), req.method === 'POST'));
        return;
      }
      webNode(req, res);
    },
    async fetch(request, peer) {
      inflight++;
      try {
        const path = new URL(request.url).pathname;
        if (closing) return toResponse(httpError(503, 'Service Unavailable: shutting down', { 'retry-after': '1' }));
        if (!enabled && path !== '/healthz' && path !== '/readyz') return toResponse(notFound());
        if (path === http.path) {
          if (limited && peer?.ip === undefined && !warnedNoPeer) {
            warnedNoPeer = true;
            logger.warn('app.fetch(request) without { ip }: per-address limits see every caller as one address; pass app.fetch(request, { ip })');
          }
          return await serveFetch(endpoint, http.maxBodyBytes, request, peer?.ip);
        }
        const h = await health(path);
        if (h) return toResponse(h);
        if (auth) {
          if (!endpoint.hostOk(request.headers.get('host') ?? new URL(request.url).host)) {
            return toResponse(httpError(403, 'Forbidden: Host not allowed'));
          }
          const capped = await capWebRequest(request, WEB_BODY_MAX);
          if (capped === 413) return toResponse(httpError(413, 'Payload Too Large'));
          stopMaintenance ??= auth.startMaintenance();
          const r = await auth.web(capped, { ip: clientIp(peer?.ip ?? 'unknown', request.headers.get('x-forwarded-for') ?? undefined, trusted) });
          if (r) return r;
        }
        return toResponse(notFound());
      } finally {
        done();
      }
    },
    notifyResourceUpdated: (uri) => hub.resourceUpdated(uri),
    async listen(options = {}) {
      await stores();
      // requestTimeout bounds receiving a request (headers and body), not answering it: a client
      // that trickles its upload (slowloris) gets 408 instead of holding a socket; SSE is unaffected.
      const server = createServer(
        {
          keepAliveTimeout: 65_000,
          requestTimeout: http.receiveTimeoutMs,
          headersTimeout: Math.min(http.receiveTimeoutMs, 20_000),
          // node checks those timeouts on this interval (30 s by default): check often enough to honour them
          connectionsCheckingInterval: Math.max(100, Math.floor(http.receiveTimeoutMs / 4)),
        },
        app.node,
      );
      const host = options.host ?? http.host;
      const port = options.port ?? http.port;
      if (auth?.resolved.oauth?.autoApprove && !(http.loopback && (isLoopbackHost(host) || host === 'localhost'))) {
        throw new GangwayConfigError('GW_CONFIG_AUTH', 'auth.oauth.autoApprove is for tests: it is refused unless the server is local (bound to loopback, with no public http.publicUrl)');
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      listening = server;
      stopMaintenance ??= auth?.startMaintenance();
      const actual = (server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host;
      return { url: `http://${shown}:${actual}${http.path}`, port: actual, server };
    },
    async close() {
      if (closing) return;
      closing = true;
      listening?.close();
      stopMaintenance?.();
      hub.close();
      if (inflight > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, http.drainMs);
          drained = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      sessions.close();
      listening?.closeAllConnections();
      await openapi?.close();
      await policy.close();
      if (opened) {
        const { store, ephemeral } = await opened;
        await Promise.all([store.close(), ephemeral.close()]);
      }
    },
  };
  let listening: Server | undefined;
  let warnedNoPeer = false;
  let stopMaintenance: (() => void) | undefined;
  return app;
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : v?.join(', ');
}
