import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialState, type NewGrant, type Store } from '../../../src/store/index.ts';
import { fresh, HOUR, type Open, rejectsWith } from './harness.ts';

const RESOURCE = 'https://mcp.example/mcp';
const MIN = 60_000;

const grant = (over: Partial<NewGrant> = {}): NewGrant => ({
  clientId: 'client-1',
  subject: 'alice',
  tenant: 'acme',
  scopes: ['read', 'write'],
  resource: RESOURCE,
  ...over,
});

export function grantsAndTokensContract(name: string, open: Open<Store>): void {
  describe(`${name} Store: grants`, () => {
    it('creates, reads and lists grants by subject; revoked ones only when asked', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const g1 = await s.grants.create(grant({ id: 'g1' }));
      assert.deepEqual(await s.grants.get('g1'), g1);
      assert.deepEqual(g1, {
        id: 'g1',
        clientId: 'client-1',
        subject: 'alice',
        tenant: 'acme',
        scopes: ['read', 'write'],
        resource: RESOURCE,
        createdAt: clock.t,
        expiresAt: null,
        revokedAt: null,
      });
      clock.advance(1);
      await s.grants.create(grant({ id: 'g2', clientId: 'client-2' }));
      await s.grants.create(grant({ id: 'g3', tenant: 'globex' }));
      await s.grants.create(grant({ id: 'g4', subject: 'bob' }));
      await s.grants.revoke('g1');
      const ids = async (filter?: { tenant?: string; includeRevoked?: boolean }) =>
        (await s.grants.listBySubject('alice', filter)).map((g) => g.id);
      assert.deepEqual(await ids({ tenant: 'acme' }), ['g2']);
      assert.deepEqual(await ids({ tenant: 'acme', includeRevoked: true }), ['g2', 'g1']);
      assert.deepEqual(await ids(), ['g3', 'g2']);
      assert.equal(await s.grants.get('nope'), undefined);
      await rejectsWith(s.grants.create(grant({ id: 'g2' })), 'GW_STORE_CONFLICT');
    });

    it('a scoped revoke of another subject’s or tenant’s grant does nothing', async (t) => {
      const { adapter: s } = await fresh(t, open);
      await s.grants.create(grant({ id: 'g' }));
      await s.tokens.insert({ tokenHash: 'at', kind: 'access', grantId: 'g', expiresAt: Date.UTC(2030, 0) });
      assert.equal(await s.grants.revoke('g', { subject: 'mallory' }), false);
      assert.equal(await s.grants.revoke('g', { tenant: 'globex' }), false);
      assert.equal((await s.grants.get('g'))!.revokedAt, null);
      assert.equal((await s.tokens.findByHash('at'))!.revokedAt, null);
      assert.equal(await s.grants.revoke('g', { subject: 'alice', tenant: 'acme' }), true);
      assert.equal(await s.grants.revoke('g'), false);
    });
  });

  describe(`${name} Store: tokens`, () => {
    const setup = async (t: Parameters<typeof fresh>[0]) => {
      const { adapter: s, clock } = await fresh(t, open);
      await s.grants.create(grant({ id: 'g' }));
      return { s, clock };
    };

    it('insert copies subject, tenant and client from the grant and defaults scopes and resource', async (t) => {
      const { s, clock } = await setup(t);
      const code = await s.tokens.insert({
        tokenHash: 'code-1',
        kind: 'code',
        grantId: 'g',
        redirectUri: 'https://app.example/cb',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        expiresAt: clock.t + 10 * MIN,
      });
      assert.deepEqual(code, {
        tokenHash: 'code-1',
        kind: 'code',
        grantId: 'g',
        clientId: 'client-1',
        subject: 'alice',
        tenant: 'acme',
        scopes: ['read', 'write'],
        resource: RESOURCE,
        redirectUri: 'https://app.example/cb',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        createdAt: clock.t,
        expiresAt: clock.t + 10 * MIN,
        usedAt: null,
        revokedAt: null,
      });
      assert.deepEqual(await s.tokens.findByHash('code-1'), code);
      const narrow = await s.tokens.insert({
        tokenHash: 'at',
        kind: 'access',
        grantId: 'g',
        scopes: ['read'],
        expiresAt: clock.t + HOUR,
      });
      assert.deepEqual(narrow.scopes, ['read']);
      assert.equal(await s.tokens.findByHash('nope'), undefined);
    });

    it('insert refuses an unknown or revoked grant and a known hash, and stores nothing', async (t) => {
      const { s, clock } = await setup(t);
      const exp = clock.t + HOUR;
      await rejectsWith(
        s.tokens.insert({ tokenHash: 't1', kind: 'access', grantId: 'missing', expiresAt: exp }),
        'GW_STORE_GRANT_INACTIVE',
      );
      assert.equal(await s.tokens.findByHash('t1'), undefined);
      await s.tokens.insert({ tokenHash: 't2', kind: 'access', grantId: 'g', expiresAt: exp });
      await rejectsWith(
        s.tokens.insert({ tokenHash: 't2', kind: 'refresh', grantId: 'g', expiresAt: exp + 1 }),
        'GW_STORE_CONFLICT',
      );
      assert.equal((await s.tokens.findByHash('t2'))!.kind, 'access');
      await s.grants.revoke('g');
      await rejectsWith(
        s.tokens.insert({ tokenHash: 't3', kind: 'access', grantId: 'g', expiresAt: exp }),
        'GW_STORE_GRANT_INACTIVE',
      );
      assert.equal(await s.tokens.findByHash('t3'), undefined);
    });

    it('a code is redeemed once with its tokens; a replay is reported and issues nothing', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'code', kind: 'code', grantId: 'g', expiresAt: clock.t + 10 * MIN });
      clock.advance(1000);
      const first = await s.tokens.consume('code', 'code', [
        { tokenHash: 'at-1', kind: 'access', expiresAt: clock.t + HOUR },
        { tokenHash: 'rt-1', kind: 'refresh', expiresAt: clock.t + 90 * 24 * HOUR },
      ]);
      assert.equal(first.ok, true);
      assert.ok(first.ok);
      assert.equal(first.token.usedAt, clock.t);
      assert.deepEqual(
        first.issued.map((x) => [x.tokenHash, x.grantId, x.subject]),
        [
          ['at-1', 'g', 'alice'],
          ['rt-1', 'g', 'alice'],
        ],
      );
      const replay = await s.tokens.consume('code', 'code', [
        { tokenHash: 'at-2', kind: 'access', expiresAt: clock.t + HOUR },
      ]);
      assert.equal(replay.ok, false);
      assert.ok(!replay.ok);
      assert.equal(replay.reason, 'reused');
      assert.equal(replay.token?.grantId, 'g');
      assert.equal(await s.tokens.findByHash('at-2'), undefined);
      assert.equal(credentialState((await s.tokens.findByHash('code'))!, clock.t), 'used');
      assert.deepEqual(await s.tokens.consume('unknown', 'code'), { ok: false, reason: 'not_found' });
    });

    it('of 20 concurrent redemptions of one code exactly one wins, and only its tokens exist', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'code', kind: 'code', grantId: 'g', expiresAt: clock.t + 10 * MIN });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s.tokens.consume('code', 'code', [
            { tokenHash: `at-${i}`, kind: 'access', expiresAt: clock.t + HOUR },
          ]),
        ),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
      assert.equal(winners.length, 1);
      assert.ok(results.every((r) => r.ok || r.reason === 'reused'));
      for (let i = 0; i < 20; i++) {
        const issued = await s.tokens.findByHash(`at-${i}`);
        assert.equal(issued !== undefined, i === winners[0], `at-${i}`);
      }
    });

    it('when issuing fails the redemption rolls back and the code stays usable', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'taken', kind: 'access', grantId: 'g', expiresAt: clock.t + HOUR });
      await s.tokens.insert({ tokenHash: 'code', kind: 'code', grantId: 'g', expiresAt: clock.t + 10 * MIN });
      await rejectsWith(
        s.tokens.consume('code', 'code', [
          { tokenHash: 'fresh', kind: 'access', expiresAt: clock.t + HOUR },
          { tokenHash: 'taken', kind: 'refresh', expiresAt: clock.t + HOUR },
        ]),
        'GW_STORE_CONFLICT',
      );
      assert.equal((await s.tokens.findByHash('code'))!.usedAt, null);
      assert.equal(await s.tokens.findByHash('fresh'), undefined);
      assert.equal((await s.tokens.consume('code', 'code')).ok, true);
    });

    it('an expired code cannot be redeemed and is not marked used', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'code', kind: 'code', grantId: 'g', expiresAt: clock.t + 10 * MIN });
      clock.advance(10 * MIN);
      const r = await s.tokens.consume('code', 'code', [
        { tokenHash: 'at', kind: 'access', expiresAt: clock.t + 1 },
      ]);
      assert.equal(r.ok || r.reason, 'expired');
      assert.equal((await s.tokens.findByHash('code'))!.usedAt, null);
      assert.equal(await s.tokens.findByHash('at'), undefined);
    });

    it('consume checks the kind: an access token is not a refresh token or a code', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'at', kind: 'access', grantId: 'g', expiresAt: clock.t + HOUR });
      assert.deepEqual(await s.tokens.consume('at', 'refresh'), { ok: false, reason: 'not_found' });
      assert.deepEqual(await s.tokens.consume('at', 'code'), { ok: false, reason: 'not_found' });
      assert.equal((await s.tokens.findByHash('at'))!.usedAt, null);
    });

    it('refresh rotation: the old token rotates once; reusing it is reported for the grant', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'rt-1', kind: 'refresh', grantId: 'g', expiresAt: clock.t + HOUR });
      const rotated = await s.tokens.consume('rt-1', 'refresh', [
        { tokenHash: 'rt-2', kind: 'refresh', expiresAt: clock.t + HOUR },
        { tokenHash: 'at-2', kind: 'access', scopes: ['read'], expiresAt: clock.t + MIN },
      ]);
      assert.ok(rotated.ok);
      assert.deepEqual(rotated.issued[1]!.scopes, ['read']);
      const reuse = await s.tokens.consume('rt-1', 'refresh', [
        { tokenHash: 'rt-3', kind: 'refresh', expiresAt: clock.t + HOUR },
      ]);
      assert.ok(!reuse.ok);
      assert.equal(reuse.reason, 'reused');
      // RFC 9700 4.14.2: the caller answers reuse by revoking the grant; the newest token dies too.
      assert.equal(await s.grants.revoke(reuse.token!.grantId), true);
      assert.equal(credentialState((await s.tokens.findByHash('rt-2'))!, clock.t), 'revoked');
      assert.equal(credentialState((await s.tokens.findByHash('at-2'))!, clock.t), 'revoked');
      assert.equal((await s.tokens.consume('rt-2', 'refresh')).ok || 'refused', 'refused');
      assert.equal(await s.tokens.findByHash('rt-3'), undefined);
    });

    it('revokeByGrant revokes every token of that grant and no other', async (t) => {
      const { s, clock } = await setup(t);
      await s.grants.create(grant({ id: 'other' }));
      const exp = clock.t + HOUR;
      for (const [hash, grantId] of [
        ['a1', 'g'],
        ['a2', 'g'],
        ['b1', 'other'],
      ] as const) {
        await s.tokens.insert({ tokenHash: hash, kind: 'access', grantId, expiresAt: exp });
      }
      await s.tokens.insert({ tokenHash: 'r1', kind: 'refresh', grantId: 'g', expiresAt: exp });
      await s.tokens.revoke('a2');
      clock.advance(7);
      assert.equal(await s.tokens.revokeByGrant('g'), 2);
      assert.equal((await s.tokens.findByHash('a1'))!.revokedAt, clock.t);
      assert.equal((await s.tokens.findByHash('r1'))!.revokedAt, clock.t);
      assert.equal((await s.tokens.findByHash('a2'))!.revokedAt, clock.t - 7);
      assert.equal((await s.tokens.findByHash('b1'))!.revokedAt, null);
      assert.equal((await s.tokens.consume('r1', 'refresh')).ok || 'refused', 'refused');
      assert.equal(await s.tokens.revokeByGrant('g'), 0);
      // The grant itself stays active: only grants.revoke ends it.
      assert.equal((await s.grants.get('g'))!.revokedAt, null);
    });

    it('grants.revoke revokes its tokens in the same step; revoked tokens cannot be redeemed', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'code', kind: 'code', grantId: 'g', expiresAt: clock.t + MIN });
      await s.tokens.insert({ tokenHash: 'at', kind: 'access', grantId: 'g', expiresAt: clock.t + HOUR });
      assert.equal(await s.grants.revoke('g'), true);
      const r = await s.tokens.consume('code', 'code', [
        { tokenHash: 'x', kind: 'access', expiresAt: clock.t + 1 },
      ]);
      assert.equal(r.ok || r.reason, 'revoked');
      assert.equal(await s.tokens.findByHash('x'), undefined);
      assert.equal(credentialState((await s.tokens.findByHash('at'))!, clock.t), 'revoked');
      assert.equal(await s.tokens.revoke('at'), false);
    });

    it('purgeExpired deletes tokens that expired before the cut-off and nothing else', async (t) => {
      const { s, clock } = await setup(t);
      await s.tokens.insert({ tokenHash: 'old', kind: 'code', grantId: 'g', expiresAt: clock.t + MIN });
      await s.tokens.insert({
        tokenHash: 'edge',
        kind: 'access',
        grantId: 'g',
        expiresAt: clock.t + 2 * MIN,
      });
      await s.tokens.insert({ tokenHash: 'live', kind: 'refresh', grantId: 'g', expiresAt: clock.t + HOUR });
      assert.equal(await s.tokens.purgeExpired(clock.t + 2 * MIN), 1);
      assert.equal(await s.tokens.findByHash('old'), undefined);
      assert.ok(await s.tokens.findByHash('edge'));
      assert.ok(await s.tokens.findByHash('live'));
    });
  });
}
