import { type GuardOptions, originAllowed } from './guard.ts';
import type { HttpReply } from './replies.ts';

/**
 * CORS headers for a browser page on an allowed origin (the MCP Inspector in direct mode, a
 * web client), on every answer including errors; undefined without an allowed Origin. The
 * exposed headers are those a browser client needs to read: session, version, challenge, and
 * when to retry.
 */
export function corsHeaders(origin: string | undefined, guard: GuardOptions): Record<string, string> | undefined {
  if (origin === undefined || !originAllowed(origin, guard)) return undefined;
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate, retry-after, ratelimit, ratelimit-policy',
    vary: 'origin',
  };
}

/** OPTIONS: the CORS preflight of an allowed origin (Origin was checked already). */
export function preflightReply(input: { header(name: string): string | undefined }): HttpReply {
  const requested = input.header('access-control-request-headers');
  return {
    status: 204,
    headers: {
      allow: 'GET, POST, DELETE, OPTIONS',
      'access-control-allow-methods': 'GET, POST, DELETE',
      // The credential headers are the deployment's choice (Authorization, x-api-key, ...).
      'access-control-allow-headers': requested && /^[\w\s,-]{1,1000}$/.test(requested) ? requested : 'content-type',
      'access-control-max-age': '600',
    },
  };
}
