import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GangwayConfigError } from '../../src/errors.ts';
import { addressBucket, clientIp, parseTrustedProxies } from '../../src/policy/client-ip.ts';

/** SECURITY 40: X-Forwarded-For is believed only from a configured proxy, read from the right. */

const none = parseTrustedProxies(undefined);
const lb = parseTrustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);

describe('clientIp', () => {
  it('with no trusted proxy, the socket address, whatever the header says', () => {
    assert.equal(clientIp('203.0.113.9', undefined, none), '203.0.113.9');
    assert.equal(clientIp('203.0.113.9', '1.2.3.4', none), '203.0.113.9');
    assert.equal(clientIp('203.0.113.9', '1.2.3.4', parseTrustedProxies([])), '203.0.113.9');
    assert.equal(clientIp('unknown', '1.2.3.4', lb), 'unknown');
  });

  it('an untrusted peer rotating X-Forwarded-For always gets its own socket address', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(clientIp('198.51.100.23', `10.0.0.${i}, 172.16.0.${i}`, lb));
    assert.deepEqual([...seen], ['198.51.100.23']);
    // even when it claims to be a trusted proxy in the header
    assert.equal(clientIp('198.51.100.23', '192.168.1.7', lb), '198.51.100.23');
  });

  it('a trusted chain is walked from the right to the first untrusted address', () => {
    assert.equal(clientIp('10.1.2.3', '198.51.100.23', lb), '198.51.100.23');
    assert.equal(clientIp('10.1.2.3', '198.51.100.23, 192.168.1.7, 10.9.9.9', lb), '198.51.100.23');
    // entries left of the first untrusted one were written by the client: never read
    assert.equal(clientIp('10.1.2.3', '6.6.6.6, 7.7.7.7, 198.51.100.23, 10.0.0.1', lb), '198.51.100.23');
    // several headers arrive comma-joined
    assert.equal(clientIp('10.1.2.3', '6.6.6.6,198.51.100.23 ,  10.0.0.2', lb), '198.51.100.23');
    // every hop trusted: the leftmost one is the best we know
    assert.equal(clientIp('10.1.2.3', '10.0.0.9, 192.168.1.7', lb), '10.0.0.9');
  });

  it('a trusted peer without the header is the client itself', () => {
    assert.equal(clientIp('10.1.2.3', undefined, lb), '10.1.2.3');
  });

  it('garbage stops the walk at the last trusted hop: never text a client chose', () => {
    assert.equal(clientIp('10.1.2.3', 'evil', lb), '10.1.2.3');
    assert.equal(clientIp('10.1.2.3', 'nonsense, 10.0.0.9', lb), '10.0.0.9');
    assert.equal(clientIp('10.1.2.3', '198.51.100.23, 1.2.3.4:5678:9', lb), '10.1.2.3');
    assert.equal(clientIp('10.1.2.3', '[2001:db8::1', lb), '10.1.2.3');
    assert.equal(clientIp('10.1.2.3', 'fe80::1%eth0', lb), '10.1.2.3');
    assert.equal(clientIp('10.1.2.3', '01.2.3.4', lb), '10.1.2.3');
    assert.equal(clientIp('10.1.2.3', '', lb), '10.1.2.3');
    assert.equal(clientIp('10.1.2.3', '198.51.100.23,', lb), '10.1.2.3');
    assert.equal(clientIp('10.1.2.3', ',198.51.100.23', lb), '198.51.100.23');
    assert.equal(clientIp('10.1.2.3', `${'x'.repeat(10_000)}, 10.0.0.5`, lb), '10.0.0.5');
  });

  it('a port some gateways append is dropped: the address is still read', () => {
    assert.equal(clientIp('10.1.2.3', '198.51.100.23, 1.2.3.4:5678', lb), '1.2.3.4');
    assert.equal(clientIp('10.1.2.3', '[2001:db8::1]:443', lb), '2001:db8::1');
    assert.equal(clientIp('10.1.2.3', '[2001:db8::1]', lb), '2001:db8::1');
  });

  it('limits count an IPv6 client by its /64, an IPv4 client by its address', () => {
    assert.equal(addressBucket('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('2001:db8:1:2:bbbb::7'), '2001:db8:1:2::/64');
    assert.notEqual(addressBucket('2001:db8:1:3::1'), addressBucket('2001:db8:1:2::1'));
    assert.equal(addressBucket('::ffff:198.51.100.23'), '198.51.100.23');
    assert.equal(addressBucket('unknown'), 'unknown');
  });

  it('the walk is bounded: a long all-trusted chain ends at the last hop read', () => {
    const chain = Array.from({ length: 100 }, (_, i) => `10.0.${i}.1`).join(', ');
    const ip = clientIp('10.1.2.3', chain, lb);
    assert.match(ip, /^10\.0\.\d+\.1$/);
  });

  it('IPv4-mapped IPv6 is the IPv4 address, for the socket, the header and the rules', () => {
    assert.equal(clientIp('::ffff:203.0.113.9', undefined, none), '203.0.113.9');
    assert.equal(clientIp('::ffff:203.0.113.9', '1.2.3.4', none), '203.0.113.9');
    assert.equal(clientIp('::ffff:10.1.2.3', '::ffff:198.51.100.23', lb), '198.51.100.23');
    assert.equal(clientIp('::FFFF:10.1.2.3', '0:0:0:0:0:ffff:c633:6417', lb), '198.51.100.23');
    const mappedRule = parseTrustedProxies(['::ffff:10.0.0.0/104']);
    assert.equal(clientIp('10.200.0.1', '198.51.100.23', mappedRule), '198.51.100.23');
    assert.equal(clientIp('11.0.0.1', '198.51.100.23', mappedRule), '11.0.0.1');
  });

  it('IPv6 proxies and clients, CIDR on both families, canonical text', () => {
    assert.equal(clientIp('fd12:3456::1', '2001:DB8:0:0::0:1', lb), '2001:db8::1');
    assert.equal(clientIp('::1', '2001:db8::7, fd00::5', lb), '2001:db8::7');
    assert.equal(clientIp('fe00::1', '2001:db8::7', lb), 'fe00::1', 'outside fd00::/8');
    const v6 = parseTrustedProxies(['2001:db8:aa::/48']);
    assert.equal(clientIp('2001:db8:aa:ffff::9', '2001:db8:bb::1', v6), '2001:db8:bb::1');
    assert.equal(clientIp('2001:db8:ab::9', '2001:db8:bb::1', v6), '2001:db8:ab::9');
    const v4 = parseTrustedProxies(['172.16.0.0/12']);
    assert.equal(clientIp('172.31.255.255', '203.0.113.1', v4), '203.0.113.1');
    assert.equal(clientIp('172.32.0.0', '203.0.113.1', v4), '172.32.0.0');
  });

  it('trusting everything (0.0.0.0/0, ::/0) believes every peer, mapped addresses included', () => {
    const all = parseTrustedProxies(['::/0']);
    assert.equal(clientIp('203.0.113.9', '198.51.100.23', all), '198.51.100.23');
    assert.equal(clientIp('2001:db8::1', '198.51.100.23', all), '198.51.100.23');
  });
});

describe('parseTrustedProxies', () => {
  it('refuses a bad entry at start-up, naming it', () => {
    for (const bad of ['10.0.0.0/33', 'fd00::/129', '10.0.0.1/8', 'fd00::1/8', 'proxy.internal', '10.0.0.0/', '10.0.0.0/8/8', '1.2.3.4:80', 'fe80::1%eth0', '::ffff:10.0.0.1/80']) {
      assert.throws(
        () => parseTrustedProxies(['10.0.0.0/8', bad]),
        (err: unknown) => err instanceof GangwayConfigError && err.code === 'GW_CONFIG_HTTP' && err.message.includes(bad),
        bad,
      );
    }
    assert.throws(() => parseTrustedProxies('10.0.0.0/8' as unknown as string[]), GangwayConfigError);
    assert.throws(() => parseTrustedProxies([42 as unknown as string]), GangwayConfigError);
  });

  it('suggests the network when host bits are set', () => {
    assert.throws(() => parseTrustedProxies(['10.1.2.3/8']), /did you mean 10\.0\.0\.0\/8/);
  });

  it('accepts surrounding spaces and single addresses of both families', () => {
    const t = parseTrustedProxies([' 192.0.2.1 ', '2001:db8::5']);
    assert.equal(clientIp('192.0.2.1', '198.51.100.1', t), '198.51.100.1');
    assert.equal(clientIp('192.0.2.2', '198.51.100.1', t), '192.0.2.2');
    assert.equal(clientIp('2001:db8::5', '198.51.100.1', t), '198.51.100.1');
  });
});
