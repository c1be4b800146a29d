/**
 * Who is calling, resolved once per request from a verified credential (auth/). Nothing
 * downstream reads credentials: handlers, policy and sessions see only this.
 */
export interface Principal {
  /** Stable id of the user or service (OAuth `sub`, key owner). */
  readonly subject: string;
  /** Tenant (workspace, account) taken from the credential, never from arguments. */
  readonly tenant: string | null;
  readonly scopes: readonly string[];
  /** OAuth client id, key id or null. */
  readonly client: string | null;
  readonly via: 'oauth' | 'api-key' | 'management-token' | 'anonymous' | 'custom';
}

export const ANONYMOUS: Principal = Object.freeze({
  subject: 'anonymous',
  tenant: null,
  scopes: Object.freeze([]) as readonly string[],
  client: null,
  via: 'anonymous',
});

const keys = new WeakMap<Principal, string>();

/** The identity a session or a signed state is bound to (computed once per principal object). */
export function principalKey(p: Principal): string {
  let key = keys.get(p);
  if (key === undefined) {
    key = `${p.via}\u0000${p.subject}\u0000${p.tenant ?? ''}\u0000${p.client ?? ''}`;
    keys.set(p, key);
  }
  return key;
}
