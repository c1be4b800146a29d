import { GangwayConfigError } from '../errors.ts';

/** The user a sign-in hook reports: the identity OAuth grants and the token page are bound to. */
export interface SignedInUser {
  /** Stable user id (becomes the principal's `subject`). */
  subject: string;
  /** Tenant (workspace, account); defaults to the subject. */
  tenant?: string | null;
  /** Shown on the consent and token pages. */
  name?: string;
}

/**
 * The product's own sign-in: given the browser's request, return the signed-in user, or where to
 * send the browser to sign in (`returnTo` is the URL to come back to afterwards).
 */
export type SignInHook = (
  request: Request,
  returnTo: string,
) => SignedInUser | { redirect: string } | Promise<SignedInUser | { redirect: string }>;

export interface OAuthServerConfig {
  /** Issuer identifier (RFC 8414), exactly as published. Default: the origin of `http.publicUrl`. */
  issuer?: string;
  /** Approve every requested scope without a consent page. Tests only: refused unless bound to loopback. */
  autoApprove?: boolean;
  /** Seconds. Defaults: access 3600 (at most 90 days), refresh 90 days (at most 365), code 60 (at most 600). */
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  codeTtl?: number;
  /** RFC 7591 dynamic registration. Default on. */
  registration?: boolean | { perHourPerIp?: number; unusedExpiryDays?: number };
  /** Client ID Metadata Documents (https URLs as client ids). Default on. */
  clientMetadataDocuments?:
    | boolean
    | {
        timeoutMs?: number;
        maxBytes?: number;
        /** Tests only: also fetch from loopback addresses and over http. */
        allowLoopback?: boolean;
        /** Extra trusted CA certificates (PEM) for fetching documents, e.g. a private PKI. */
        ca?: string | string[];
      };
}

export interface ExternalIssuerConfig {
  /** The `iss` the tokens carry; also what the protected resource metadata names. */
  issuer: string;
  /** Default: `jwks_uri` from the issuer's RFC 8414 / OIDC metadata. */
  jwksUri?: string;
  /** Accepted `aud`; default the server's canonical URL (RFC 8707). */
  audience?: string | string[];
  /** Claim names. Defaults: `sub`, none (tenant = subject), `scope` (space-separated) or `scp`. */
  claims?: { subject?: string; tenant?: string; scopes?: string; client?: string };
  /** Default ['RS256', 'ES256', 'EdDSA', 'PS256']. */
  algorithms?: string[];
}

export interface AuthConfig {
  /**
   * Who the browser user is, for the consent and API-token pages: the product's own hook, or
   * `email` (built in, the address is the identity, unverified: for demos and development, so
   * refused unless the server binds to loopback). Default `email` on loopback; required elsewhere.
   */
  signIn?: 'email' | SignInHook;
  /** Header carrying API keys (seed 003: `x-api-key`). Default `x-api-key`; false turns keys off. */
  apiKeyHeader?: string | false;
  /** Header carrying management tokens (seed 001). Default `x-management-token`; false: off. */
  managementTokenHeader?: string | false;
  /** Scope catalogue: name -> description, shown on the consent page and published in metadata. */
  scopes?: Record<string, string>;
  /** How long a verified credential is trusted before the store is read again: revocation delay. Default 10 s. */
  cacheMs?: number;
  /** Gangway's own authorization server. */
  oauth?: OAuthServerConfig | boolean;
  /** Accept JWT access tokens from another issuer instead of (or besides) our own. */
  external?: ExternalIssuerConfig;
}

export interface ResolvedAuth {
  /** Null: no sign-in (no pages that need a user). */
  signIn: 'email' | SignInHook | null;
  apiKeyHeader: string | null;
  managementTokenHeader: string | null;
  scopes: Record<string, string>;
  cacheMs: number;
  oauth: ResolvedOAuth | null;
  external: ExternalIssuerConfig | null;
}

export interface ResolvedOAuth {
  issuer: string | null;
  autoApprove: boolean;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  codeTtlMs: number;
  registration: { perHourPerIp: number; unusedExpiryMs: number } | null;
  clientMetadataDocuments: { timeoutMs: number; maxBytes: number; allowLoopback: boolean; ca: string[] } | null;
}

const HEADER = /^[a-z0-9-]{1,64}$/;

/** Checks and completes the auth options at start-up. `loopback`: the server binds to loopback only. */
export function resolveAuth(
  auth: AuthConfig | undefined,
  env: { loopback: boolean; publicUrl: string | undefined; autoApproveEnv: boolean },
): ResolvedAuth | null {
  if (!auth) return null;
  const fail = (msg: string): never => {
    throw new GangwayConfigError('GW_CONFIG_AUTH', msg);
  };
  const header = (v: string | false | undefined, fallback: string, what: string): string | null => {
    if (v === false) return null;
    const h = (v ?? fallback).toLowerCase();
    if (!HEADER.test(h) || h === 'authorization' || h === 'host' || h === 'cookie') fail(`auth.${what} "${v}" is not a usable header name`);
    return h;
  };
  const scopes = auth.scopes ?? {};
  for (const [name, description] of Object.entries(scopes)) {
    // RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    if (!/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(name)) fail(`auth.scopes: "${name}" is not a valid scope name`);
    if (typeof description !== 'string') fail(`auth.scopes.${name} must be a description string`);
  }
  const cacheMs = auth.cacheMs ?? 10_000;
  if (!Number.isInteger(cacheMs) || cacheMs < 0 || cacheMs > 300_000) fail('auth.cacheMs must be 0..300000');

  let oauth: ResolvedOAuth | null = null;
  if (auth.oauth) {
    const o: OAuthServerConfig = auth.oauth === true ? {} : auth.oauth;
    if (!env.loopback && !env.publicUrl) fail('auth.oauth needs http.publicUrl: the issuer and resource URLs must be fixed');
    const issuer = o.issuer ?? (env.publicUrl ? new URL(env.publicUrl).origin : null);
    if (issuer !== null) {
      let u: URL | undefined;
      try {
        u = new URL(issuer);
      } catch {
        fail(`auth.oauth.issuer "${issuer}" is not an absolute URL`);
      }
      // RFC 8414 2: https, no query or fragment (http allowed on loopback for development)
      if (u!.search || u!.hash || (u!.protocol !== 'https:' && !(u!.protocol === 'http:' && env.loopback))) {
        fail(`auth.oauth.issuer "${issuer}" must be an https URL without query or fragment`);
      }
    }
    const autoApprove = o.autoApprove ?? env.autoApproveEnv;
    if (autoApprove && !env.loopback) fail('auth.oauth.autoApprove (GANGWAY_OAUTH_AUTO_APPROVE) is for tests: it is refused unless the server is local (bound to loopback, with no public http.publicUrl)');
    const secs = (v: number | undefined, d: number, max: number, what: string) => {
      const s = v ?? d;
      if (!Number.isInteger(s) || s < 1 || s > max) fail(`auth.oauth.${what} must be 1..${max} seconds`);
      return s * 1000;
    };
    const reg = o.registration ?? true;
    const cimd = o.clientMetadataDocuments ?? true;
    oauth = {
      issuer,
      autoApprove,
      // Up to 90 days (seed 002 hands out 30-day access tokens, seed 004 90-day ones): they are
      // opaque, stored as hashes and revocable, so a revocation still lands within auth.cacheMs.
      accessTokenTtlMs: secs(o.accessTokenTtl, 3600, 90 * 86_400, 'accessTokenTtl'),
      refreshTokenTtlMs: secs(o.refreshTokenTtl, 90 * 86_400, 365 * 86_400, 'refreshTokenTtl'),
      codeTtlMs: secs(o.codeTtl, 60, 600, 'codeTtl'), // OAuth 2.1 4.1.2: at most 10 minutes
      registration: reg
        ? {
            perHourPerIp: (reg === true ? undefined : reg.perHourPerIp) ?? 20,
            unusedExpiryMs: ((reg === true ? undefined : reg.unusedExpiryDays) ?? 7) * 86_400_000,
          }
        : null,
      clientMetadataDocuments: cimd
        ? {
            timeoutMs: (cimd === true ? undefined : cimd.timeoutMs) ?? 5000,
            maxBytes: (cimd === true ? undefined : cimd.maxBytes) ?? 64 * 1024,
            allowLoopback: (cimd === true ? undefined : cimd.allowLoopback) ?? false,
            ca: [(cimd === true ? undefined : cimd.ca) ?? []].flat(),
          }
        : null,
    };
    if (oauth.clientMetadataDocuments?.allowLoopback && !env.loopback) {
      fail('auth.oauth.clientMetadataDocuments.allowLoopback is for tests: it is refused unless the server is local (bound to loopback, with no public http.publicUrl)');
    }
  }
  const external = auth.external ?? null;
  if (external) {
    try {
      new URL(external.issuer);
      if (external.jwksUri) new URL(external.jwksUri);
    } catch {
      fail('auth.external.issuer and jwksUri must be absolute URLs');
    }
  }
  const signIn = auth.signIn ?? (env.loopback ? 'email' : null);
  if (signIn !== null && typeof signIn !== 'function' && signIn !== 'email') fail('auth.signIn must be "email" or a function');
  // The built-in email sign-in does not verify the address: on a public server anyone could
  // claim anyone's tenant. It is for demos and development only.
  if (signIn === 'email' && !env.loopback) fail('auth.signIn "email" does not verify addresses: it is refused unless the server is local (bound to loopback, with no public http.publicUrl); plug in your sign-in (auth.signIn)');
  if (auth.oauth && !signIn && !(typeof auth.oauth === 'object' && auth.oauth.autoApprove)) {
    fail('auth.oauth needs auth.signIn: the function that tells who the browser user is');
  }
  return {
    signIn,
    apiKeyHeader: header(auth.apiKeyHeader, 'x-api-key', 'apiKeyHeader'),
    managementTokenHeader: header(auth.managementTokenHeader, 'x-management-token', 'managementTokenHeader'),
    scopes,
    cacheMs,
    oauth,
    external,
  };
}
