import { randomUUID } from 'node:crypto';
import { newApiKeyRecord } from '../arguments.ts';
import { StoreError } from '../errors.ts';
import type {
  ApiKeyRepo,
  NewApiKey,
  NewOAuthClient,
  OAuthClientRecord,
  OAuthClientRepo,
} from '../types.ts';
import { copy, type MemoryState, newestFirst } from './state.ts';

export function memoryApiKeys(state: MemoryState): ApiKeyRepo {
  return {
    async create(input: NewApiKey) {
      state.open();
      const id = input.id ?? randomUUID();
      if (state.apiKeys.has(id) || state.apiKeyIdByHash.has(input.keyHash)) {
        throw new StoreError('GW_STORE_CONFLICT', 'API key already exists');
      }
      const record = newApiKeyRecord(input, id, state.now());
      state.apiKeys.set(id, record);
      state.apiKeyIdByHash.set(record.keyHash, id);
      return copy(record);
    },

    async findByHash(keyHash) {
      state.open();
      const id = state.apiKeyIdByHash.get(keyHash);
      const record = id === undefined ? undefined : state.apiKeys.get(id);
      return record && copy(record);
    },

    async list(filter) {
      state.open();
      const found = [...state.apiKeys.values()].filter(
        (k) =>
          (filter.tenant === undefined || k.tenant === filter.tenant) &&
          (filter.subject === undefined || k.subject === filter.subject) &&
          (filter.kind === undefined || k.kind === filter.kind),
      );
      return newestFirst(found).map(copy);
    },

    async revoke(id, scope) {
      state.open();
      const record = state.apiKeys.get(id);
      if (!record || record.revokedAt !== null) return false;
      if (scope?.tenant !== undefined && record.tenant !== scope.tenant) return false;
      record.revokedAt = state.now();
      return true;
    },

    async touch(id, at) {
      state.open();
      const record = state.apiKeys.get(id);
      if (record) record.lastUsedAt = at ?? state.now();
    },
  };
}

export function memoryOAuthClients(state: MemoryState): OAuthClientRepo {
  return {
    async register(input: NewOAuthClient) {
      state.open();
      if (state.clients.has(input.clientId))
        throw new StoreError('GW_STORE_CONFLICT', 'client already exists');
      const record: OAuthClientRecord = {
        clientId: input.clientId,
        secretHash: input.secretHash ?? null,
        tokenEndpointAuthMethod: input.tokenEndpointAuthMethod,
        redirectUris: [...input.redirectUris],
        name: input.name ?? null,
        metadata: JSON.parse(JSON.stringify(input.metadata ?? {})),
        createdAt: state.now(),
        lastUsedAt: null,
      };
      state.clients.set(record.clientId, record);
      return copy(record);
    },

    async get(clientId) {
      state.open();
      const record = state.clients.get(clientId);
      return record && copy(record);
    },

    async touch(clientId, at) {
      state.open();
      const record = state.clients.get(clientId);
      if (record) record.lastUsedAt = at ?? state.now();
    },

    async deleteUnused(createdBefore) {
      state.open();
      const withGrants = new Set([...state.grants.values()].map((g) => g.clientId));
      let deleted = 0;
      for (const [id, client] of state.clients) {
        if (client.createdAt < createdBefore && client.lastUsedAt === null && !withGrants.has(id)) {
          state.clients.delete(id);
          deleted++;
        }
      }
      return deleted;
    },
  };
}
