import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { WebContext } from '../../src/auth/web-context.ts';
import { addressAllowed, classifyAddress } from '../../src/oauth/ip-address.ts';
import { oauthMaintenance } from '../../src/oauth/maintenance.ts';
import { pkceMatches, s256 } from '../../src/oauth/pkce.ts';
import { redirectUriMatches, redirectUriProblem } from '../../src/oauth/redirect-uri.ts';
import { MemoryStore } from '../../src/store/index.ts';

describe('address classification (SSRF)', () => {
  const cases: [string, string][] = [
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.1.1.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['not-an-ip', 'invalid'],
  ];
  for (const [ip, cls] of cases) it(`${ip} is ${cls}`, () => assert.equal(classifyAddress(ip), cls));

  it('allowLoopback adds loopback and nothing else', () => {
    assert.equal(addressAllowed('127.0.0.1', false), false);
    assert.equal(addressAllowed('127.0.0.1', true), true);
    assert.equal(addressAllowed('::ffff:127.0.0.1', true), true);
    assert.equal(addressAllowed('10.0.0.1', true), false);
    assert.equal(addressAllowed('169.254.169.254', true), false);
  });
});

describe('redirect URIs', () => {
  it('registration: https or loopback http only, no fragment, no userinfo, no control characters', () => {
    for (const ok of ['https://app.example/cb', 'http://127.0.0.1/cb', 'http://[::1]:8080/cb', 'http://localhost:3000/cb?x=1']) {
      assert.equal(redirectUriProblem(ok), null, ok);
    }
    for (const bad of ['javascript:alert(1)', 'data:,x', 'http://example.com/cb', 'https://a/cb#x', 'https://u:p@a/cb', 'https://a/c b', ' https://a/cb', 'http://127.0.0.1:99999/cb', 'file:///etc/passwd', 'http://localhost.evil.example/cb']) {
      assert.notEqual(redirectUriProblem(bad), null, bad);
    }
  });

  it('matching: exact, except the port of a loopback redirect', () => {
    const reg = ['http://127.0.0.1/cb', 'https://app.example/cb?a=1'];
    assert.ok(redirectUriMatches(reg, 'http://127.0.0.1:4321/cb'));
    assert.ok(redirectUriMatches(reg, 'https://app.example/cb?a=1'));
    for (const bad of ['http://127.0.0.1:4321/cb/', 'http://127.0.0.1:4321/cb?x', 'http://[::1]:4321/cb', 'https://app.example/cb', 'https://app.example/cb?a=1&b=2', 'https://APP.example/cb?a=1', 'https://app.example:443/cb?a=1']) {
      assert.ok(!redirectUriMatches(reg, bad), bad);
    }
  });
});

describe('PKCE', () => {
  it('RFC 7636 appendix B example', () => {
    assert.equal(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    assert.ok(pkceMatches('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
    assert.ok(!pkceMatches('short', s256('short')), 'a verifier under 43 characters never matches');
  });
});

describe('oauthMaintenance', () => {
  it('purges tokens a day past expiry and registrations never used', async () => {
    const DAY = 86_400_000;
    let clock = 1_700_000_000_000;
    const store = new MemoryStore({ now: () => clock });
    const ctx = {
      oauth: { registration: { perHourPerIp: 20, unusedExpiryMs: 7 * DAY } },
      now: () => clock,
      logger: pino({ level: 'silent' }),
      stores: async () => ({ store, ephemeral: undefined }),
    } as unknown as WebContext;
    const client = (clientId: string) => store.oauthClients.register({ clientId, tokenEndpointAuthMethod: 'none', redirectUris: ['https://a/cb'] });
    await client('unused');
    await client('with-grant');
    await client('used');
    await store.oauthClients.touch('used', clock);
    const grant = await store.grants.create({ clientId: 'with-grant', subject: 's', tenant: 't', scopes: [], resource: 'https://r/mcp' });
    const t0 = clock;
    await store.tokens.insert({ tokenHash: 'old-code', kind: 'code', grantId: grant.id, expiresAt: t0 + 60_000 });
    await store.tokens.insert({ tokenHash: 'recent-code', kind: 'code', grantId: grant.id, expiresAt: t0 + 8 * DAY - 3600_000 });
    await store.tokens.insert({ tokenHash: 'refresh', kind: 'refresh', grantId: grant.id, expiresAt: t0 + 90 * DAY });

    clock = t0 + 6 * DAY;
    await oauthMaintenance(ctx);
    assert.ok(await store.oauthClients.get('unused'), 'not yet 7 days old');

    clock = t0 + 8 * DAY;
    await oauthMaintenance(ctx);
    assert.equal(await store.oauthClients.get('unused'), undefined);
    assert.ok(await store.oauthClients.get('with-grant'));
    assert.ok(await store.oauthClients.get('used'));
    assert.equal(await store.tokens.findByHash('old-code'), undefined);
    assert.ok(await store.tokens.findByHash('recent-code'), 'expired less than a day ago: a replay still reads as reuse');
    assert.ok(await store.tokens.findByHash('refresh'));
  });
});
