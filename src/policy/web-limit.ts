import type { PeerInfo, WebContext } from '../auth/web-context.ts';
import { errorPage } from '../ui/html.ts';
import { addressBucket } from './client-ip.ts';
import type { RateRule } from './config.ts';
import { type RateState, tooManyHeaders } from './rate-headers.ts';

/** The browser and OAuth endpoints with a per-address budget of their own (SECURITY 40). */
export type WebLimitName = 'token' | 'authorize' | 'signin' | 'register';

/**
 * Counts one request from `peer.ip` against `rule` (null: no limit) in a fixed window kept in
 * Ephemeral under `web:<name>:<ip>`, so every process behind a load balancer shares it. Returns
 * null while within the budget, else the refusal: 429 with `RateLimit-Policy`, `RateLimit` and
 * `Retry-After`, as an OAuth JSON error (machine endpoints) or an HTML page (browser endpoints).
 * Call it before anything else the request would do: a refused request does nothing.
 */
export async function overWebLimit(
  ctx: Pick<WebContext, 'stores'>,
  peer: PeerInfo,
  name: WebLimitName,
  rule: RateRule | null,
  answer: 'json' | 'page',
): Promise<Response | null> {
  if (!rule) return null;
  const { ephemeral } = await ctx.stores();
  const { value, ttlMs } = await ephemeral.increment(`web:${name}:${addressBucket(peer.ip)}`, 1, rule.windowMs);
  if (value <= rule.max) return null;
  const state: RateState = { policy: name, quota: rule.max, windowMs: rule.windowMs, remaining: 0, resetMs: ttlMs };
  return answer === 'json' ? tooManyJson(state) : tooManyPage(state);
}

const retryIn = (s: RateState) => Math.max(1, Math.ceil(s.resetMs / 1000));

/** RFC 6749 5.2 shape (the error registry has no rate-limit code: `invalid_request`), never cached. */
function tooManyJson(s: RateState): Response {
  const body = { error: 'invalid_request', error_description: `too many requests from this address; retry in ${retryIn(s)} s` };
  return new Response(JSON.stringify(body), {
    status: 429,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...tooManyHeaders(s) },
  });
}

function tooManyPage(s: RateState): Response {
  const res = errorPage(429, 'Too many requests', `Too many attempts from this address. Try again in ${retryIn(s)} seconds.`);
  for (const [k, v] of Object.entries(tooManyHeaders(s))) res.headers.set(k, v);
  return res;
}
