import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Credentials Gangway issues: 256 random bits behind a short prefix that says what they are (so
 * secret scanners and people can tell an API key from an access token). Only the hash is stored
 * (SECURITY 32). SHA-256 without salt is enough here: the input is a uniformly random 256-bit
 * value, so neither a dictionary nor a rainbow table applies, and lookups stay one index probe.
 */
export type SecretKind = 'access' | 'refresh' | 'code' | 'api_key' | 'management' | 'client_secret' | 'session' | 'csrf' | 'confirmation';

const PREFIX: Record<SecretKind, string> = {
  access: 'gwa_',
  refresh: 'gwr_',
  code: 'gwc_',
  api_key: 'gwk_',
  management: 'gwm_',
  client_secret: 'gws_',
  session: 'gwb_',
  csrf: 'gwx_',
  confirmation: 'gwd_',
};

export interface NewSecret {
  /** Shown once, never stored. */
  secret: string;
  hash: string;
  /** Enough to recognise the secret in a list, never to use it. */
  hint: string;
}

export function newSecret(kind: SecretKind): NewSecret {
  const secret = PREFIX[kind] + randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret), hint: `${PREFIX[kind]}…${secret.slice(-4)}` };
}

/** One-shot `crypto.hash` (Node 20.12+): no Hash object per call, on every authenticated request. */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'base64url');
}

/** Constant-time comparison of two strings (SECURITY 7). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A random opaque id (session, state handle): 128+ bits. */
export const randomId = (bytes = 24): string => randomBytes(bytes).toString('base64url');
