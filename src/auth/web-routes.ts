import { authorizeRoute } from '../oauth/authorize.ts';
import { metadataRoute } from '../oauth/metadata.ts';
import { registerRoute } from '../oauth/register.ts';
import { revokeRoute } from '../oauth/revoke.ts';
import { tokenRoute } from '../oauth/token.ts';
import { auditRoute } from '../ui/audit-page.ts';
import { signInRoute } from '../ui/signin-page.ts';
import { signOutRoute } from '../ui/signout.ts';
import { tokensRoute } from '../ui/tokens-page.ts';
import { errorReference, isUnavailable, UNAVAILABLE_RETRY_S } from '../errors.ts';
import { PRM_PREFIX as PRM_ROOT, resourceMetadata, resourceMetadataUrl } from './resource-metadata.ts';
import { authorizationServerMetadataPath, hostOf, PATHS, type PeerInfo, type WebContext, type WebHandler } from './web-context.ts';

/**
 * Everything but the MCP endpoint and health: well-known metadata, the OAuth endpoints and the
 * pages. Returns undefined for a path it does not serve (the app answers 404).
 */
export function webRoutes(ctx: WebContext, mcpPath: string): (request: Request, peer: PeerInfo) => Promise<Response | undefined> {
  // Machine endpoints a browser-based client (MCP Inspector) calls cross-origin: CORS without
  // credentials is safe here, they never read cookies. Not /authorize or the pages (SECURITY 25).
  const machine = new Map<string, WebHandler>();
  const pages = new Map<string, WebHandler>();
  const prm: WebHandler = async (request) => {
    const host = hostOf(request);
    const resource = ctx.urls.resource(host);
    const path = new URL(request.url).pathname;
    // The path-aware URL of this very resource, or the root one (single-resource fallback).
    if (path !== PRM_ROOT && path !== new URL(resourceMetadataUrl(resource)).pathname) return notFound();
    // Our own server first when both are on: clients take the first one they can use.
    const servers = [...(ctx.oauth ? [ctx.oauth.issuer ?? ctx.urls.issuer(host)] : []), ...(ctx.auth.external ? [ctx.auth.external.issuer] : [])];
    return json(200, resourceMetadata({ resource, authorizationServers: servers, scopes: Object.keys(ctx.scopes), name: ctx.serverName }), {
      'cache-control': 'public, max-age=300',
    });
  };
  if (ctx.oauth || ctx.auth.external) {
    machine.set(`/.well-known/oauth-protected-resource${mcpPath}`, prm);
    // Clients that do not build the path-aware URL try the root one (RFC 9728 3.1 allows it for a single resource).
    machine.set(PRM_ROOT, prm);
  }
  if (ctx.oauth) {
    machine.set(ctx.oauth.issuer ? authorizationServerMetadataPath(ctx.oauth.issuer) : '/.well-known/oauth-authorization-server', metadataRoute);
    machine.set(PATHS.token, tokenRoute);
    machine.set(PATHS.revoke, revokeRoute);
    if (ctx.oauth.registration) machine.set(PATHS.register, registerRoute);
    pages.set(PATHS.authorize, authorizeRoute);
  }
  // Pages that need a browser user exist only with a way to sign in.
  if (ctx.auth.signIn) {
    if (ctx.auth.apiKeyHeader || ctx.auth.managementTokenHeader || ctx.oauth) pages.set(PATHS.tokens, tokensRoute);
    pages.set(PATHS.audit, auditRoute);
    pages.set(PATHS.signIn, signInRoute);
    pages.set(PATHS.signOut, signOutRoute);
  }

  return async (request, peer) => {
    const path = new URL(request.url).pathname;
    const m = machine.get(path);
    if (m) {
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: corsPreflight() });
      const res = await safely(m, request, ctx, peer);
      res.headers.set('access-control-allow-origin', '*');
      // A browser client must be able to read when to retry (429 from the per-address limits).
      res.headers.set('access-control-expose-headers', 'retry-after, ratelimit, ratelimit-policy, www-authenticate');
      return res;
    }
    const p = pages.get(path);
    return p ? safely(p, request, ctx, peer) : undefined;
  };
}

/** A handler that throws answers 500 with a reference, never a stack (the handlers should not throw). */
async function safely(h: WebHandler, request: Request, ctx: WebContext, peer: PeerInfo): Promise<Response> {
  try {
    return await h(request, ctx, peer);
  } catch (err) {
    const ref = errorReference();
    if (isUnavailable(err)) {
      ctx.logger.warn({ err, ref, path: new URL(request.url).pathname }, 'store unavailable');
      const res = json(503, { error: 'temporarily_unavailable', error_description: `storage cannot be reached; retry shortly (reference ${ref})` });
      res.headers.set('retry-after', String(UNAVAILABLE_RETRY_S));
      return res;
    }
    ctx.logger.error({ err, ref, path: new URL(request.url).pathname }, 'web route failed');
    return json(500, { error: 'server_error', error_description: `internal error (reference ${ref})` });
  }
}

function corsPreflight(): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
    'access-control-max-age': '600',
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

const notFound = () => json(404, { error: 'not_found' });
