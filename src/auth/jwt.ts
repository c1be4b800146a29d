import type { JWTPayload } from 'jose';
import { lazyModule } from '../lazy-module.ts';
import type { ExternalIssuerConfig } from './config.ts';
import type { Principal } from './principal.ts';

const jose = lazyModule<typeof import('jose')>('jose');

export type JwtResult = { principal: Principal; expiresAt: number } | { error: string };

/**
 * External issuer mode: JWT access tokens from the product's own identity provider, verified with
 * its JWKS (jose fetches and caches the keys, and refetches on an unknown `kid`). RFC 9068 shapes:
 * `iss`, `aud` (this resource, RFC 8707), `exp`, `sub`, `scope`, `client_id`.
 */
export class JwtVerifier {
  private jwks: ReturnType<typeof import('jose').createRemoteJWKSet> | undefined;
  private jwksUri: Promise<URL> | undefined;

  constructor(private readonly c: ExternalIssuerConfig) {}

  private keys(): Promise<ReturnType<typeof import('jose').createRemoteJWKSet>> {
    if (this.jwks) return Promise.resolve(this.jwks);
    this.jwksUri ??= this.c.jwksUri ? Promise.resolve(new URL(this.c.jwksUri)) : discover(this.c.issuer);
    return this.jwksUri.then(
      (uri) => (this.jwks ??= jose().createRemoteJWKSet(uri, { timeoutDuration: 5000, cooldownDuration: 30_000 })),
      (err: unknown) => {
        this.jwksUri = undefined; // try again on the next request
        throw err;
      },
    );
  }

  async verify(token: string, resource: string): Promise<JwtResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jose().jwtVerify(token, await this.keys(), {
        issuer: this.c.issuer,
        audience: this.c.audience ?? resource,
        algorithms: this.c.algorithms ?? ['RS256', 'ES256', 'EdDSA', 'PS256'],
        requiredClaims: ['exp'],
        clockTolerance: 5,
      }));
    } catch (err) {
      const { errors } = jose();
      if (err instanceof errors.JWTExpired) return { error: 'the token is expired' };
      if (err instanceof errors.JWTClaimValidationFailed) return { error: `the token's ${err.claim} claim is not accepted` };
      if (err instanceof errors.JOSEError) return { error: 'the token signature or format is not valid' };
      return { error: 'the token could not be verified (issuer keys unavailable)' };
    }
    const claims = this.c.claims ?? {};
    const subject = payload[claims.subject ?? 'sub'];
    if (typeof subject !== 'string' || !subject) return { error: 'the token has no subject' };
    const tenantClaim = claims.tenant ? payload[claims.tenant] : undefined;
    const raw = claims.scopes ? payload[claims.scopes] : (payload.scope ?? payload.scp);
    const scopes = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : Array.isArray(raw) ? raw.filter((s) => typeof s === 'string') : [];
    const client = payload[claims.client ?? 'client_id'] ?? payload.azp;
    const principal: Principal = Object.freeze({
      subject,
      tenant: typeof tenantClaim === 'string' ? tenantClaim : subject,
      scopes: Object.freeze(scopes as string[]),
      client: typeof client === 'string' ? client : null,
      via: 'oauth',
    });
    return { principal, expiresAt: (payload.exp as number) * 1000 };
  }
}

/** RFC 8414 3 / OIDC discovery: the issuer's `jwks_uri`. */
async function discover(issuer: string): Promise<URL> {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname;
  for (const url of [`${u.origin}/.well-known/oauth-authorization-server${path}`, `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`]) {
    try {
      const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5000) });
      if (!res.ok) continue;
      const meta = (await res.json()) as { issuer?: string; jwks_uri?: string };
      if (meta.issuer === issuer && typeof meta.jwks_uri === 'string') return new URL(meta.jwks_uri);
    } catch {
      // try the next well-known location
    }
  }
  throw new Error(`no jwks_uri found for issuer ${issuer}`);
}
