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
  if (parsed.adapter === 'postgres') {
    // Loaded only when configured: a server on SQLite never loads pg.
    const { PostgresStore } = await import('./postgres/store.ts');
    const { url, value: schema } = takeParam(parsed.url, 'schema');
    const { url: rest, numbers } = takeNumbers(url, POSTGRES_NUMBERS);
    return PostgresStore.open(rest, { ...(options.now ? { now: options.now } : {}), ...(schema ? { schema } : {}), ...numbers });
  }
  if (parsed.adapter === 'redis') throw new StoreConfigError('redis is not a store'); // parseSpec refuses it first
  return new SqliteStore(parsed.path, parsed.synchronous ? { ...options, synchronous: parsed.synchronous } : options);
}

/**
 * Gangway's own parameter of a connection URL, taken out so the driver never sees it:
 * `postgres://…?schema=name` (tables in that schema, default public), `redis://…?prefix=acme:`
 * (keys and channels under that prefix, default `gangway:`).
 */
function takeParam(spec: string, name: string): { url: string; value?: string } {
  const q = spec.indexOf('?');
  if (q < 0) return { url: spec };
  const params = new URLSearchParams(spec.slice(q + 1));
  const value = params.get(name);
  if (value === null) return { url: spec };
  params.delete(name);
  const rest = params.toString();
  return { url: spec.slice(0, q) + (rest ? `?${rest}` : ''), value };
}

/** Adapter options a URL may carry as query parameters (the adapters check their ranges). */
const POSTGRES_NUMBERS = ['poolMax', 'connectTimeoutMs', 'statementTimeoutMs', 'maxBatch'] as const;
const REDIS_NUMBERS = ['connectTimeoutMs', 'commandTimeoutMs'] as const;

/** Takes `names` out of the URL's query as numbers: `postgres://…?poolMax=20`, `redis://…?commandTimeoutMs=500`. */
function takeNumbers<N extends string>(spec: string, names: readonly N[]): { url: string; numbers: Partial<Record<N, number>> } {
  const numbers: Partial<Record<N, number>> = {};
  let url = spec;
  for (const name of names) {
    const taken = takeParam(url, name);
    url = taken.url;
    if (taken.value === undefined) continue;
    const n = Number(taken.value);
    if (taken.value === '' || !Number.isSafeInteger(n) || n < 1) throw new StoreConfigError(`?${name}= must be a positive integer, got ${JSON.stringify(taken.value.slice(0, 32))}`);
    numbers[name] = n;
  }
  return { url, numbers };
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
  if (parsed.adapter === 'memory') return new MemoryEphemeral(options);
  if (parsed.adapter === 'redis') {
    const { url, value: prefix } = takeParam(parsed.url, 'prefix');
    // Two deployments on one Redis are told apart by this prefix, rate windows and channels included.
    if (prefix !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
      throw new StoreConfigError('redis ?prefix= must be 1-64 characters of letters, digits and _ . : -');
    }
    const { url: rest, numbers } = takeNumbers(url, REDIS_NUMBERS);
    const { RedisEphemeral } = await import('./redis/ephemeral.ts');
    return RedisEphemeral.open(rest, { ...(options.now ? { now: options.now } : {}), ...(prefix !== undefined ? { keyPrefix: prefix } : {}), ...numbers });
  }
  if (parsed.adapter === 'postgres') throw new StoreConfigError('postgres is not an ephemeral store'); // parseSpec refuses it first
  return new SqliteEphemeral(parsed.path, parsed.synchronous ? { ...options, synchronous: parsed.synchronous } : options);
}
