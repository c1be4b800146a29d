import type { AdapterOptions, Store } from '../types.ts';
import { memoryApiKeys, memoryOAuthClients } from './credentials.ts';
import { memoryGrants, memoryTokens } from './grants.ts';
import { memoryAudit, memoryUsage } from './records.ts';
import { MemoryState } from './state.ts';

/**
 * Everything in this process's memory, gone on exit: tests and demos. Each operation completes
 * synchronously inside its async function, so operations never interleave.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly #state: MemoryState;
  readonly apiKeys;
  readonly oauthClients;
  readonly grants;
  readonly tokens;
  readonly audit;
  readonly usage;

  constructor(options: AdapterOptions = {}) {
    const state = new MemoryState(options.now ?? Date.now);
    this.#state = state;
    this.apiKeys = memoryApiKeys(state);
    this.oauthClients = memoryOAuthClients(state);
    this.grants = memoryGrants(state);
    this.tokens = memoryTokens(state);
    this.audit = memoryAudit(state);
    this.usage = memoryUsage(state);
  }

  async ping(): Promise<void> {
    this.#state.open();
  }

  async close(): Promise<void> {
    this.#state.closed = true;
  }
}
