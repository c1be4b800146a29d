import { createHash } from 'node:crypto';
import { safeEqual } from '../auth/secrets.ts';

/**
 * PKCE (RFC 7636), S256 only: OAuth 2.1 4.1.1 and SECURITY 19 refuse `plain`, which a code thief
 * who also saw the authorization request could replay.
 */

/** RFC 7636 4.1: code_verifier = 43*128unreserved. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** RFC 7636 4.2: BASE64URL(SHA256(verifier)) is always 43 characters without padding. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export const isCodeVerifier = (v: string): boolean => VERIFIER.test(v);
export const isS256Challenge = (c: string): boolean => CHALLENGE.test(c);

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 7636 4.6: the verifier must hash to the challenge bound to the code. Constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  return isCodeVerifier(verifier) && safeEqual(s256(verifier), challenge);
}
