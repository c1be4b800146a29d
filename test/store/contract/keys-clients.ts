import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialState, type NewApiKey, type Store } from '../../../src/store/index.ts';
import { fresh, HOUR, type Open, rejectsWith } from './harness.ts';

const key = (over: Partial<NewApiKey> = {}): NewApiKey => ({
  kind: 'api_key',
  keyHash: 'hash-a',
  hint: 'gw_…a1b2',
  name: 'CI key',
  tenant: 'acme',
  subject: 'alice@acme.test',
  scopes: ['chatbots:read', 'chatbots:write'],
  ...over,
});

export function keysAndClientsContract(name: string, open: Open<Store>): void {
  describe(`${name} Store: API keys`, () => {
    it('creates a key and finds it by hash; an unknown hash finds nothing', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const created = await s.apiKeys.create(key({ expiresAt: clock.t + HOUR }));
      assert.match(created.id, /^[0-9a-f-]{36}$/);
      const found = await s.apiKeys.findByHash('hash-a');
      assert.deepEqual(found, {
        id: created.id,
        kind: 'api_key',
        keyHash: 'hash-a',
        hint: 'gw_…a1b2',
        name: 'CI key',
        tenant: 'acme',
        subject: 'alice@acme.test',
        scopes: ['chatbots:read', 'chatbots:write'],
        createdAt: clock.t,
        expiresAt: clock.t + HOUR,
        lastUsedAt: null,
        revokedAt: null,
      });
      assert.equal(credentialState(found!, clock.t), 'active');
      clock.advance(HOUR);
      assert.equal(credentialState((await s.apiKeys.findByHash('hash-a'))!, clock.t), 'expired');
      assert.equal(await s.apiKeys.findByHash('hash-b'), undefined);
    });

    it('refuses a second key with the same hash or id and keeps only the first', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const first = await s.apiKeys.create(key({ id: 'k1' }));
      await rejectsWith(s.apiKeys.create(key({ id: 'k2', tenant: 'evil' })), 'GW_STORE_CONFLICT');
      await rejectsWith(s.apiKeys.create(key({ id: 'k1', keyHash: 'other' })), 'GW_STORE_CONFLICT');
      assert.deepEqual(await s.apiKeys.findByHash('hash-a'), first);
      assert.equal(await s.apiKeys.findByHash('other'), undefined);
      assert.equal((await s.apiKeys.list({})).length, 1);
    });

    it('lists by tenant, subject and kind, newest first, never another tenant’s keys', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      await s.apiKeys.create(key({ id: 'a1', keyHash: 'h1' }));
      clock.advance(1);
      await s.apiKeys.create(key({ id: 'a2', keyHash: 'h2', kind: 'management' }));
      clock.advance(1);
      await s.apiKeys.create(key({ id: 'b1', keyHash: 'h3', tenant: 'globex', subject: 'bob' }));
      await s.apiKeys.create(key({ id: 'a3', keyHash: 'h4', subject: 'carol' }));
      const ids = async (filter: Parameters<Store['apiKeys']['list']>[0]) =>
        (await s.apiKeys.list(filter)).map((k) => k.id);
      assert.deepEqual(await ids({ tenant: 'acme' }), ['a3', 'a2', 'a1']);
      assert.deepEqual(await ids({ tenant: 'acme', subject: 'alice@acme.test' }), ['a2', 'a1']);
      assert.deepEqual(await ids({ tenant: 'acme', kind: 'management' }), ['a2']);
      assert.deepEqual(await ids({ tenant: 'globex' }), ['b1']);
      assert.deepEqual(await ids({ subject: 'bob', tenant: 'acme' }), []);
    });

    it('revokes once; a revoke from another tenant does nothing; lookups then report revoked', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const k = await s.apiKeys.create(key());
      assert.equal(await s.apiKeys.revoke(k.id, { tenant: 'globex' }), false);
      assert.equal((await s.apiKeys.findByHash('hash-a'))!.revokedAt, null);
      clock.advance(5);
      assert.equal(await s.apiKeys.revoke(k.id, { tenant: 'acme' }), true);
      assert.equal(await s.apiKeys.revoke(k.id), false);
      assert.equal(await s.apiKeys.revoke('no-such-id'), false);
      const found = await s.apiKeys.findByHash('hash-a');
      assert.equal(found!.revokedAt, clock.t);
      assert.equal(credentialState(found!, clock.t), 'revoked');
    });

    it('touch records the last use; a record handed out is a copy', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const k = await s.apiKeys.create(key());
      clock.advance(1000);
      await s.apiKeys.touch(k.id);
      await s.apiKeys.touch('no-such-id');
      const found = await s.apiKeys.findByHash('hash-a');
      assert.equal(found!.lastUsedAt, clock.t);
      found!.scopes.push('admin');
      found!.tenant = 'globex';
      k.scopes.push('admin');
      const again = await s.apiKeys.findByHash('hash-a');
      assert.deepEqual(again!.scopes, ['chatbots:read', 'chatbots:write']);
      assert.equal(again!.tenant, 'acme');
    });
  });

  describe(`${name} Store: OAuth clients`, () => {
    const client = {
      clientId: 'c-1',
      secretHash: 'secret-hash',
      tokenEndpointAuthMethod: 'client_secret_basic' as const,
      redirectUris: ['https://app.example/cb', 'http://127.0.0.1/cb'],
      name: 'Example <b>App</b>',
      metadata: { client_name: 'Example <b>App</b>', grant_types: ['authorization_code', 'refresh_token'] },
    };

    it('registers a client and reads it back; a second registration of the id is refused', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const registered = await s.oauthClients.register(client);
      const expected = { ...client, createdAt: clock.t, lastUsedAt: null };
      assert.deepEqual(registered, expected);
      assert.deepEqual(await s.oauthClients.get('c-1'), expected);
      await rejectsWith(s.oauthClients.register({ ...client, name: 'impostor' }), 'GW_STORE_CONFLICT');
      assert.equal((await s.oauthClients.get('c-1'))!.name, client.name);
      assert.equal(await s.oauthClients.get('c-2'), undefined);
      const pub = await s.oauthClients.register({
        clientId: 'public',
        tokenEndpointAuthMethod: 'none',
        redirectUris: ['https://x.example/cb'],
      });
      assert.deepEqual([pub.secretHash, pub.name, pub.metadata], [null, null, {}]);
    });

    it('deleteUnused removes only old, never-used clients that hold no grant', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const reg = (clientId: string) => s.oauthClients.register({ ...client, clientId });
      await reg('old-unused');
      await reg('old-touched');
      await reg('old-granted');
      clock.advance(HOUR);
      const cutoff = clock.t;
      await reg('new-unused');
      await s.oauthClients.touch('old-touched');
      await s.grants.create({
        clientId: 'old-granted',
        subject: 'alice',
        tenant: 'acme',
        scopes: [],
        resource: 'https://mcp.example/mcp',
      });
      assert.equal(await s.oauthClients.deleteUnused(cutoff), 1);
      assert.equal(await s.oauthClients.get('old-unused'), undefined);
      for (const id of ['old-touched', 'old-granted', 'new-unused']) {
        assert.ok(await s.oauthClients.get(id), `${id} kept`);
      }
      assert.equal(await s.oauthClients.deleteUnused(cutoff), 0);
    });
  });
}
