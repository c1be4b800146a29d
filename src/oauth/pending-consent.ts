import { createHash } from 'node:crypto';
import { hashSecret, randomId } from '../auth/secrets.ts';
import type { Ephemeral } from '../store/types.ts';

/**
 * An authorization request waiting for the user's decision, kept server-side in Ephemeral under a
 * random handle (only its hash is a key). The consent form carries just the handle and a CSRF
 * token, so a forged or edited POST cannot change the client, redirect URI, PKCE challenge,
 * resource or requested scopes: it can only approve fewer scopes, or deny.
 */
export interface PendingConsent {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  resource: string;
  /** Requested scopes: the most the user can approve. */
  scopes: string[];
  /** Browser (hash of its cookie id) and user the consent page was shown to. */
  browser: string;
  subject: string;
  tenant: string | null;
  name: string | undefined;
}

/** Long enough to read a consent page; shorter than the CSRF token's 30 minutes. */
export const PENDING_TTL_MS = 10 * 60_000;
const key = (handle: string) => `oauth:consent:${hashSecret(handle)}`;

export async function savePending(ephemeral: Ephemeral, p: PendingConsent): Promise<string> {
  const handle = randomId(24);
  await ephemeral.set(key(handle), JSON.stringify(p), PENDING_TTL_MS);
  return handle;
}

export async function peekPending(ephemeral: Ephemeral, handle: string): Promise<PendingConsent | undefined> {
  if (!/^[\w-]{32}$/.test(handle)) return undefined;
  const raw = await ephemeral.get(key(handle));
  return raw ? (JSON.parse(raw) as PendingConsent) : undefined;
}

/** Single use: of two concurrent submissions exactly one gets the request. */
export async function takePending(ephemeral: Ephemeral, handle: string): Promise<PendingConsent | undefined> {
  const raw = await ephemeral.consume(key(handle));
  return raw ? (JSON.parse(raw) as PendingConsent) : undefined;
}

/** The CSRF purpose: binds the token to this very request (handle and every bound parameter). */
export function consentPurpose(handle: string, p: PendingConsent): string {
  const bound = [handle, p.clientId, p.redirectUri, p.codeChallenge, p.state ?? '', p.resource, p.scopes.join(' ')].join('\n');
  return `oauth-consent:${createHash('sha256').update(bound).digest('base64url')}`;
}
