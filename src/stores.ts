import type { GangwayConfig } from './config.ts';
import type { SessionShare } from './protocol/session-table.ts';
import { openEphemeral, openStore } from './store/index.ts';
import { parseSpec } from './store/spec.ts';
import type { Ephemeral, Store } from './store/types.ts';

/** How the app opens its two stores, and keeps 2025 sessions in the ephemeral one. */

/** Sessions go to the Ephemeral store when another process can read it (Redis, a SQLite file). */
export function sharesSessions(config: GangwayConfig): boolean {
  const explicit = config.http?.sessions?.shared;
  if (explicit !== undefined) return explicit;
  const e = config.ephemeral ?? 'memory';
  if (typeof e !== 'string') return e.kind !== 'memory';
  const parsed = parseSpec(e, 'ephemeral');
  return parsed.adapter === 'redis' || (parsed.adapter === 'sqlite' && parsed.path !== ':memory:');
}

/**
 * 2025 sessions in the Ephemeral store, under digests of their ids (the store never sees an id),
 * and the messages between processes on its channels where it has them (Redis, memory).
 */
export function sessionShare(stores: () => Promise<{ ephemeral: Ephemeral }>): SessionShare {
  const ephemeral = async () => (await stores()).ephemeral;
  return {
    save: async (key, value, ttlMs) => (await ephemeral()).set(`session:${key}`, value, ttlMs),
    load: async (key) => (await ephemeral()).get(`session:${key}`),
    drop: async (key) => {
      await (await ephemeral()).delete(`session:${key}`);
    },
    send: async (to, message) => {
      const e = await ephemeral();
      await e.publish?.(`bus:${to}`, message);
    },
    listen: async (tag, onMessage) => {
      const e = await ephemeral();
      if (!e.subscribe) return;
      await Promise.all([e.subscribe(`bus:${tag}`, onMessage), e.subscribe('bus:*', onMessage)]);
    },
  };
}

export async function openBoth(config: GangwayConfig): Promise<{ store: Store; ephemeral: Ephemeral }> {
  const [store, ephemeral] = await Promise.allSettled([
    openStore(config.store ?? 'sqlite:./data/gangway.db'),
    openEphemeral(config.ephemeral ?? 'memory'),
  ]);
  if (store.status === 'fulfilled' && ephemeral.status === 'fulfilled') return { store: store.value, ephemeral: ephemeral.value };
  await Promise.allSettled([
    store.status === 'fulfilled' ? store.value.close() : undefined,
    ephemeral.status === 'fulfilled' ? ephemeral.value.close() : undefined,
  ]);
  throw store.status === 'rejected' ? store.reason : (ephemeral as PromiseRejectedResult).reason;
}
