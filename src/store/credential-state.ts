export type CredentialState = 'active' | 'revoked' | 'used' | 'expired';

/**
 * What a found key, token or grant is worth at `now`. Lookups return inactive records on purpose
 * (so a replay can be told from an unknown value); callers must accept only `active`.
 * `expiresAt` is exclusive: at `now === expiresAt` the record is expired.
 */
export function credentialState(
  record: { revokedAt: number | null; expiresAt: number | null; usedAt?: number | null },
  now: number,
): CredentialState {
  if (record.revokedAt !== null) return 'revoked';
  if (record.usedAt !== null && record.usedAt !== undefined) return 'used';
  if (record.expiresAt !== null && record.expiresAt <= now) return 'expired';
  return 'active';
}

/** Why a single-use consume lost, for the token found after it: the adapters' one wording of it. */
export function consumeRefusal(token: { revokedAt: number | null; expiresAt: number | null; usedAt: number | null }, now: number): 'revoked' | 'reused' | 'expired' {
  const state = credentialState(token, now);
  return state === 'revoked' ? 'revoked' : state === 'used' ? 'reused' : 'expired';
}
