import type { Logger } from 'pino';
import type { GangwayConfig, ResolvedHttp } from '../config.ts';
import { oauthMaintenance } from '../oauth/maintenance.ts';
import { checkAccess, hasAnonymousSurface } from '../policy/access.ts';
import { type ResolvedLimits, resolvePolicy } from '../policy/config.ts';
import type { Registry } from '../registry/registry.ts';
import type { Ephemeral, Store } from '../store/types.ts';
import type { Authenticate, Gate, HttpInput } from '../transport/endpoint.ts';
import { Browsers } from '../ui/browser.ts';
import { PATHS } from './web-context.ts';
import { Authenticator } from './authenticator.ts';
import { bearerChallenge, type ChallengeError, refusal } from './challenge.ts';
import { type ResolvedAuth, resolveAuth } from './config.ts';
import { JwtVerifier } from './jwt.ts';
import { PublicUrls } from './urls.ts';
import type { PeerInfo, WebContext } from './web-context.ts';
import { webRoutes } from './web-routes.ts';

export interface AuthSetup {
  authenticate: Authenticate;
  gate: Gate;
  web: (request: Request, peer: PeerInfo) => Promise<Response | undefined>;
  authenticator: Authenticator;
  resolved: ResolvedAuth;
  /** Starts the hourly clean-up (expired tokens, unused registrations); returns its stop. */
  startMaintenance(): () => void;
}

/** Builds auth/ from the config: null when `auth` is not configured (everyone is anonymous). */
export function setupAuth(
  config: GangwayConfig,
  http: ResolvedHttp,
  registry: Registry,
  stores: () => Promise<{ store: Store; ephemeral: Ephemeral }>,
  logger: Logger,
  /** Per-address budgets of the OAuth endpoints and sign-in; default: from `config.policy`. */
  webLimits?: ResolvedLimits['web'],
): AuthSetup | null {
  const resolved = resolveAuth(config.auth, {
    loopback: http.loopback,
    publicUrl: http.publicUrl,
    autoApproveEnv: process.env.GANGWAY_OAUTH_AUTO_APPROVE === '1',
  });
  if (!resolved) return null;
  const urls = new PublicUrls(http.publicUrl, http.path, resolved.oauth?.issuer ?? null);
  const now = Date.now;
  const authenticator = new Authenticator({
    auth: resolved,
    store: () => stores().then((s) => s.store),
    ephemeral: () => stores().then((s) => s.ephemeral),
    urls,
    jwt: resolved.external ? new JwtVerifier(resolved.external) : null,
    anonymous: hasAnonymousSurface(registry),
    logger,
    now,
  });

  // Every scope a page may show: the catalogue, plus those tools declare without a description.
  const scopes: Record<string, string> = {};
  for (const t of registry.toolList) for (const s of t.def.scopes ?? []) scopes[s] = '';
  for (const r of registry.resourceList) for (const s of r.scopes ?? []) scopes[s] = '';
  for (const p of registry.promptList) for (const s of p.scopes ?? []) scopes[s] = '';
  Object.assign(scopes, resolved.scopes);

  const browsers = new Browsers(() => stores().then((s) => s.ephemeral));
  const signIn = resolved.signIn;
  const ctx: WebContext = {
    serverName: config.title ?? config.name,
    auth: resolved,
    oauth: resolved.oauth,
    stores,
    browsers,
    urls,
    authenticator,
    logger,
    now,
    scopes,
    limits: webLimits ?? resolvePolicy(config.policy).limits.web,
    async user(request, browser, returnTo) {
      if (typeof signIn === 'function') return signIn(request, returnTo);
      if (signIn === null) throw new Error('no sign-in configured'); // routes needing a user are not served then
      return (await browsers.user(browser)) ?? { redirect: `${PATHS.signIn}?return_to=${encodeURIComponent(returnTo)}` };
    },
  };

  const gate = scopeGate(registry, (input, error, description, scopes) => authenticator.challenge(input, error, description, scopes));

  const startMaintenance = () => {
    if (!ctx.oauth) return () => {};
    const run = () => oauthMaintenance(ctx).catch((err: unknown) => logger.warn({ err }, 'OAuth maintenance failed'));
    const timer = setInterval(run, 3600_000);
    timer.unref();
    return () => clearInterval(timer);
  };
  return { authenticate: authenticator.authenticate, gate, web: webRoutes(ctx, http.path), authenticator, resolved, startMaintenance };
}

type Challenge = (input: HttpInput, error?: ChallengeError, description?: string, scopes?: readonly string[]) => string;

/**
 * The per-request access check (policy/access.ts) as the endpoint's gate: 401 with the challenge
 * where a credential is needed, 403 `insufficient_scope` naming the scopes. Installed whenever
 * callers are identified at all (`auth` or a custom `authenticate`).
 */
export function scopeGate(registry: Registry, challenge: Challenge): Gate {
  return (principal, request, input) => {
    const refused = checkAccess(registry, principal, request.method, request.params);
    if (!refused) return null;
    if (refused.kind === 'unauthenticated') {
      return refusal('missing', `Unauthorized: ${refused.target} needs a credential`, challenge(input));
    }
    const message = `Forbidden: ${refused.target} needs scope ${refused.needed.join(' ')}`;
    return refusal('insufficient_scope', message, challenge(input, 'insufficient_scope', message, refused.needed));
  };
}

/** The challenge of a server whose own `authenticate` resolves callers: no metadata to point at. */
export const plainChallenge: Challenge = (_input, error, description, scopes) =>
  bearerChallenge({ resourceMetadata: null, ...(error ? { error } : {}), ...(description ? { description } : {}), ...(scopes ? { scopes } : {}) });
