import type { Logger } from 'pino';
import type { ResolvedLimits } from '../policy/config.ts';
import type { Ephemeral, Store } from '../store/types.ts';
import type { Browser, Browsers } from '../ui/browser.ts';
import type { Authenticator } from './authenticator.ts';
import type { ResolvedAuth, ResolvedOAuth, SignedInUser } from './config.ts';
import type { PublicUrls } from './urls.ts';

/**
 * What the OAuth endpoints and the pages (sign-in, consent, API tokens) are given: web-standard
 * handlers `(Request, WebContext) => Response`, the same behind the node:http and fetch faces.
 */
export interface WebContext {
  readonly serverName: string;
  readonly auth: ResolvedAuth;
  /** Null when the built-in authorization server is off. */
  readonly oauth: ResolvedOAuth | null;
  stores(): Promise<{ store: Store; ephemeral: Ephemeral }>;
  readonly browsers: Browsers;
  readonly urls: PublicUrls;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  now(): number;
  /** Every scope with its description: the catalogue plus the scopes tools declare. */
  readonly scopes: Readonly<Record<string, string>>;
  /** Per-address budgets of /oauth/token, /oauth/authorize and the built-in sign-in (SECURITY 40). */
  readonly limits: ResolvedLimits['web'];
  /** The signed-in user of this browser, or where to send it to sign in first. */
  user(request: Request, browser: Browser, returnTo: string): Promise<SignedInUser | { redirect: string }>;
}

/** Where the request came from, as the HTTP face saw it (SECURITY 40). */
export interface PeerInfo {
  /**
   * The client address: the socket's, or read from `X-Forwarded-For` only when the socket peer is
   * a configured trusted proxy (policy/client-ip.ts); `unknown` behind the fetch face unless the
   * host adapter passes it.
   */
  ip: string;
}

export type WebHandler = (request: Request, ctx: WebContext, peer: PeerInfo) => Promise<Response>;

/** Fixed paths of the web surface. The issuer's metadata path follows RFC 8414 3.1. */
export const PATHS = {
  authorize: '/oauth/authorize',
  token: '/oauth/token',
  register: '/oauth/register',
  revoke: '/oauth/revoke',
  signIn: '/signin',
  signOut: '/signout',
  tokens: '/settings/tokens',
  audit: '/settings/audit',
} as const;

export function authorizationServerMetadataPath(issuer: string): string {
  const path = new URL(issuer).pathname;
  return `/.well-known/oauth-authorization-server${path === '/' ? '' : path}`;
}

/** The request's Host: the header (node face), else the URL's (a Request built in code has none). */
export function hostOf(request: Request): string {
  return request.headers.get('host') ?? new URL(request.url).host;
}
