import type { Clock, Ephemeral, Store } from '../../src/store/index.ts';
import { auditAndUsageContract } from './contract/audit-usage.ts';
import { ephemeralContract } from './contract/ephemeral.ts';
import { grantsAndTokensContract } from './contract/grants-tokens.ts';
import { keysAndClientsContract } from './contract/keys-clients.ts';

/** Opens a fresh, empty adapter that reads time from `now`. */
export interface Factories {
  store: (options: { now: Clock }) => Promise<Store>;
  ephemeral: (options: { now: Clock }) => Promise<Ephemeral>;
}

/**
 * The one contract every Store and Ephemeral adapter passes. Registers node:test suites; call it
 * at the top level of an adapter's test file.
 */
export function runContract(name: string, factories: Factories): void {
  ephemeralContract(name, factories.ephemeral);
  keysAndClientsContract(name, factories.store);
  grantsAndTokensContract(name, factories.store);
  auditAndUsageContract(name, factories.store);
}
