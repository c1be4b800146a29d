import { StoreConfigError } from './errors.ts';
import { MemoryEphemeral, type MemoryEphemeralOptions } from './memory/ephemeral.ts';
import { MemoryStore } from './memory/store.ts';
import { parseSpec } from './spec.ts';
import { SqliteEphemeral, type SqliteEphemeralOptions } from './sqlite/ephemeral.ts';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/store.ts';
import type { Ephemeral, Store } from './types.ts';

export { type CredentialState, credentialState } from './credential-state.ts';
export { StoreConfigError, StoreError, type StoreErrorCode } from './errors.ts';
export { MemoryEphemeral, type MemoryEphemeralOptions } from './memory/ephemeral.ts';
export { MemoryStore } from './memory/store.ts';
export { SqliteEphemeral, type SqliteEphemeralOptions } from './sqlite/ephemeral.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/store.ts';
export type * from './types.ts';

export type StoreOptions = SqliteStoreOptions;
export type EphemeralOptions = SqliteEphemeralOptions & MemoryEphemeralOptions;

const STORE_METHODS = ['ping', 'close'] as const;
const STORE_REPOS = ['apiKeys', 'oauthClients', 'grants', 'tokens', 'audit', 'usage'] as const;
const EPHEMERAL_METHODS = [
  'increment',
  'get',
  'set',
  'setIfAbsent',
  'consume',
  'delete',
  'ping',
  'close',
] as const;

/**
 * Opens the durable Store named by `spec`, or checks and returns an adapter object passed in.
 * Bad specs fail here, at start-up, with a StoreConfigError (code GW_CONFIG_STORE).
 */
export async function openStore(spec: string | Store, options: StoreOptions = {}): Promise<Store> {
  if (typeof spec === 'object' && spec !== null) {
    const missing = [
      ...STORE_METHODS.filter((m) => typeof spec[m] !== 'function'),
      ...STORE_REPOS.filter((r) => typeof spec[r] !== 'object' || spec[r] === null),
    ];
    if (missing.length) throw new StoreConfigError(`store object lacks ${missing.join(', ')}`);
    return spec;
  }
  const parsed = parseSpec(spec, 'store');
  if (parsed.adapter === 'memory') return new MemoryStore(options);
  return new SqliteStore(parsed.path, parsed.synchronous ? { ...options, synchronous: parsed.synchronous } : options);
}

/** Opens the Ephemeral adapter named by `spec`, or checks and returns an adapter object passed in. */
export async function openEphemeral(
  spec: string | Ephemeral,
  options: EphemeralOptions = {},
): Promise<Ephemeral> {
  if (typeof spec === 'object' && spec !== null) {
    const missing = EPHEMERAL_METHODS.filter((m) => typeof spec[m] !== 'function');
    if (missing.length) throw new StoreConfigError(`ephemeral object lacks ${missing.join(', ')}`);
    return spec;
  }
  const parsed = parseSpec(spec, 'ephemeral');
  return parsed.adapter === 'memory'
    ? new MemoryEphemeral(options)
    : new SqliteEphemeral(parsed.path, parsed.synchronous ? { ...options, synchronous: parsed.synchronous } : options);
}
