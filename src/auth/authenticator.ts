import type { Logger } from 'pino';
import { credentialState } from '../store/credential-state.ts';
import type { Ephemeral, Store } from '../store/types.ts';
import type { HttpInput } from '../transport/endpoint.ts';
import type { HttpReply } from '../transport/replies.ts';
import { bearerChallenge, type ChallengeError, refusal } from './challenge.ts';
import type { ResolvedAuth } from './config.ts';
import type { JwtVerifier } from './jwt.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import { resourceMetadataUrl } from './resource-metadata.ts';
import { hashSecret } from './secrets.ts';
import type { PublicUrls } from './urls.ts';

interface Cached {
  /** The credential's stored hash (revocation finds the entry by it). */
  hash: string;
  principal: Principal;
  /** Trusted until then; after that the store is read again (the revocation delay). */
  until: number;
  /** Access tokens: the resource they were issued for. */
  resource: string | null;
}

const CACHE_MAX = 10_000;
const MINUTE_MS = 60_000;
/** `auth.refused` rows a minute, all credentials together: a flood of distinct garbage stays bounded on disk. */
const REFUSED_ROWS_PER_MINUTE = 600;
/** The principal kind each way of sending a credential may yield. */
const VIA = { bearer: 'oauth', api_key: 'api-key', management: 'management-token' } as const;
const OURS = /^gw[akm]_[\w-]{43}$/;

type Kind = 'bearer' | 'api_key' | 'management';

/** A presented credential that was refused, for its `auth.refused` audit row (never the secret; the hash only dedupes). */
interface Refused {
  /** Hash of what was presented: the dedupe key, never written to the audit log. */
  hash: string;
  via: (typeof VIA)[Kind] | null;
  reason: 'malformed' | 'multiple' | 'unknown' | 'expired' | 'revoked' | 'used' | 'wrong_kind' | 'bad_audience' | 'bad_signature' | 'bad_claim' | 'no_subject' | 'unverifiable';
  subject?: string | null;
  tenant?: string | null;
  client?: string | null;
}

/**
 * Resolves every request's caller in one place (DESIGN: auth/): an OAuth access token (ours or an
 * external issuer's JWT), an API key, a management token, or anonymous. Nothing else reads
 * credentials. Verified credentials are cached for `cacheMs`, which is therefore the longest a
 * revoked credential keeps working (SECURITY 13).
 */
export class Authenticator {
  private readonly cache = new Map<string, Cached>();
  constructor(
    private readonly o: {
      auth: ResolvedAuth;
      store: () => Promise<Store>;
      /** Dedupes and caps `auth.refused` audit rows across processes. */
      ephemeral: () => Promise<Ephemeral>;
      urls: PublicUrls;
      jwt: JwtVerifier | null;
      /** Some tool, resource or prompt may be used with no credential (seed 004). */
      anonymous: boolean;
      logger: Logger;
      now: () => number;
    },
  ) {}

  /** Protected resource metadata URL for this request's resource (null: no OAuth of any kind). */
  metadataUrl(input: HttpInput): string | null {
    if (!this.o.auth.oauth && !this.o.auth.external) return null;
    return resourceMetadataUrl(this.o.urls.resource(input.header('host')));
  }

  challenge(input: HttpInput, error?: ChallengeError, description?: string, scopes?: readonly string[]): string {
    return bearerChallenge({
      resourceMetadata: this.metadataUrl(input),
      error,
      description,
      scopes: scopes ?? Object.keys(this.o.auth.scopes),
      apiKeyHeader: this.o.auth.apiKeyHeader,
    });
  }

  readonly authenticate = (input: HttpInput): Principal | HttpReply | Promise<Principal | HttpReply> => {
    const a = this.o.auth;
    const authorization = input.header('authorization');
    const apiKey = a.apiKeyHeader ? input.header(a.apiKeyHeader) : undefined;
    const mgmt = a.managementTokenHeader ? input.header(a.managementTokenHeader) : undefined;
    const count = (authorization !== undefined ? 1 : 0) + (apiKey !== undefined ? 1 : 0) + (mgmt !== undefined ? 1 : 0);
    if (count === 0) {
      return this.o.anonymous ? ANONYMOUS : refusal('missing', 'Unauthorized: a credential is required', this.challenge(input));
    }
    // RFC 6750 3.1: more than one way of passing a credential is an invalid request.
    if (count > 1) {
      const presented = hashSecret(`${authorization ?? ''}\u0000${apiKey ?? ''}\u0000${mgmt ?? ''}`);
      return this.refuse(input, 'invalid_request', 'send exactly one credential', { hash: presented, via: null, reason: 'multiple' });
    }
    let secret: string;
    let kind: Kind;
    if (authorization !== undefined) {
      const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
      // SECURITY 8: a malformed credential is a 401 with the challenge (clients start OAuth discovery on 401).
      if (!m) {
        const refused: Refused = { hash: hashSecret(authorization), via: 'oauth', reason: 'malformed' };
        return this.refuse(input, 'invalid_token', 'the Authorization header must be "Bearer <token>"', refused);
      }
      secret = m[1]!;
      kind = 'bearer';
    } else {
      secret = (apiKey ?? mgmt)!.trim();
      kind = apiKey !== undefined ? 'api_key' : 'management';
    }
    const now = this.o.now();
    const hit = this.cache.get(secret);
    if (hit && hit.until > now) return this.accept(input, hit, kind, hit.hash);
    const hash = hashSecret(secret);
    if (kind === 'bearer' && !OURS.test(secret) && this.o.jwt) return this.external(input, secret, hash);
    if (!OURS.test(secret)) return this.refuse(input, 'invalid_token', 'unknown credential', { hash, via: VIA[kind], reason: 'unknown' });
    return this.lookup(input, secret, hash, kind, now);
  };

  private accept(input: HttpInput, c: Cached, kind: Kind, hash: string): Principal | HttpReply {
    const p = c.principal;
    if (p.via !== VIA[kind]) return this.refuse(input, 'invalid_token', 'unknown credential', refusedKnown(p, kind, hash, 'wrong_kind'));
    // RFC 8707 / SECURITY 10: only tokens issued for this resource.
    if (c.resource !== null && c.resource !== this.o.urls.resource(input.header('host'))) {
      return this.refuse(input, 'invalid_token', 'the token was issued for another resource', refusedKnown(p, kind, hash, 'bad_audience'));
    }
    return p;
  }

  private async lookup(input: HttpInput, secret: string, hash: string, kind: Kind, now: number) {
    const store = await this.o.store();
    const via = VIA[kind];
    if (kind === 'bearer') {
      const t = await store.tokens.findByHash(hash);
      if (!t || t.kind !== 'access') return this.refuse(input, 'invalid_token', 'unknown token', { hash, via, reason: 'unknown' });
      const state = credentialState(t, now);
      if (state !== 'active') {
        const refused: Refused = { hash, via, reason: state, subject: t.subject, tenant: t.tenant, client: t.clientId };
        return this.refuse(input, 'invalid_token', `the token is ${state}`, refused);
      }
      const principal: Principal = Object.freeze({
        subject: t.subject,
        tenant: t.tenant,
        scopes: Object.freeze([...t.scopes]),
        client: t.clientId,
        via: 'oauth',
      });
      return this.accept(input, this.remember(secret, hash, principal, t.expiresAt, t.resource, now), kind, hash);
    }
    const k = await store.apiKeys.findByHash(hash);
    if (!k || k.kind !== kind) return this.refuse(input, 'invalid_token', 'unknown key', { hash, via, reason: 'unknown' });
    const state = credentialState({ ...k, usedAt: null }, now);
    if (state !== 'active') {
      const refused: Refused = { hash, via, reason: state, subject: k.subject, tenant: k.tenant, client: k.id };
      return this.refuse(input, 'invalid_token', `the key is ${state}`, refused);
    }
    store.apiKeys.touch(k.id, now).catch((err: unknown) => this.o.logger.warn({ err }, 'could not record key use'));
    const principal: Principal = Object.freeze({
      subject: k.subject,
      tenant: k.tenant,
      scopes: Object.freeze([...k.scopes]),
      client: k.id,
      via: kind === 'api_key' ? 'api-key' : 'management-token',
    });
    return this.accept(input, this.remember(secret, hash, principal, k.expiresAt, null, now), kind, hash);
  }

  private async external(input: HttpInput, token: string, hash: string): Promise<Principal | HttpReply> {
    const resource = this.o.urls.resource(input.header('host'));
    const verified = await this.o.jwt!.verify(token, resource);
    if ('error' in verified) return this.refuse(input, 'invalid_token', verified.error, { hash, via: 'oauth', reason: jwtReason(verified.error) });
    const c = this.remember(token, hash, verified.principal, verified.expiresAt, null, this.o.now());
    return c.principal;
  }

  /**
   * Verdicts are keyed by the presented secret, not its hash: a SHA-256 per request measured
   * ~6 µs of CPU inside the server (bench/README.md). The secret stays in this process's memory
   * while it is in use (at most `cacheMs` past its last lookup), as the request's own header does;
   * it never reaches a store, a log or an audit row.
   */
  private remember(secret: string, hash: string, principal: Principal, expiresAt: number | null, resource: string | null, now: number): Cached {
    const c: Cached = { hash, principal, until: Math.min(now + this.o.auth.cacheMs, expiresAt ?? Infinity), resource };
    if (this.o.auth.cacheMs === 0) return c;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(secret, c);
    return c;
  }

  /** Forgets a credential at once in this process (revocation through this process's pages or CLI). */
  forget(secretHash: string): void {
    for (const [secret, c] of this.cache) if (c.hash === secretHash) this.cache.delete(secret);
  }

  /** Forgets every cached credential of a subject or key id (grant or key revoked here). */
  forgetWhere(match: (p: Principal) => boolean): void {
    for (const [secret, c] of this.cache) if (match(c.principal)) this.cache.delete(secret);
  }

  /** 401/400 with the challenge; a presented credential also gets its audit row, off the answer's path. */
  private refuse(input: HttpInput, error: ChallengeError, description: string, refused?: Refused): HttpReply {
    if (refused) {
      this.auditRefused(refused).catch((err: unknown) => this.o.logger.warn({ err, event: 'auth.refused' }, 'could not write audit record'));
    }
    return refusal(error, `Unauthorized: ${description}`, this.challenge(input, error, description));
  }

  /**
   * One `auth.refused` row per credential a minute (a client retrying a dead token writes one, not
   * thousands), and at most REFUSED_ROWS_PER_MINUTE in all, so rotating garbage cannot fill the disk.
   */
  private async auditRefused(r: Refused): Promise<void> {
    const ephemeral = await this.o.ephemeral();
    if (!(await ephemeral.setIfAbsent(`auth:refused:${r.hash}`, '1', MINUTE_MS))) return;
    const { value } = await ephemeral.increment('auth:refused:rows', 1, MINUTE_MS);
    if (value > REFUSED_ROWS_PER_MINUTE) {
      if (value === REFUSED_ROWS_PER_MINUTE + 1) this.o.logger.warn({ event: 'auth.refused', cap: REFUSED_ROWS_PER_MINUTE }, 'refused credentials over the audit cap this minute; not audited');
      return;
    }
    const store = await this.o.store();
    await store.audit.append({
      event: 'auth.refused',
      outcome: 'denied',
      subject: r.subject ?? null,
      tenant: r.tenant ?? null,
      client: r.client ?? null,
      via: r.via,
      reason: r.reason,
      detail: { via: r.via, reason: r.reason },
    });
  }
}

/** A refused credential whose owner is known (built only on refusal: the success path allocates nothing). */
function refusedKnown(p: Principal, kind: Kind, hash: string, reason: Refused['reason']): Refused {
  return { hash, via: VIA[kind], reason, subject: p.subject, tenant: p.tenant, client: p.client };
}

/** The JWT verifier's message as a stable reason code. */
function jwtReason(error: string): Refused['reason'] {
  if (/expired/.test(error)) return 'expired';
  if (/\baud\b/.test(error)) return 'bad_audience';
  if (/claim/.test(error)) return 'bad_claim';
  if (/subject/.test(error)) return 'no_subject';
  if (/signature|format/.test(error)) return 'bad_signature';
  return 'unverifiable';
}
