import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGangway, GangwayConfigError } from '../../src/index.ts';

const base = { name: 'c', version: '1', store: 'memory', logger: { level: 'silent' } };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GangwayConfigError, String(err));
    return err.code;
  }
  assert.fail('expected a config error');
}

describe('bad options fail at start-up', () => {
  it('refuses a non-loopback bind without a Host allow-list', () => {
    assert.equal(code(() => createGangway({ ...base, http: { host: '0.0.0.0' } })), 'GW_CONFIG_HTTP');
    const ok = createGangway({ ...base, http: { host: '0.0.0.0', publicUrl: 'https://mcp.example.com/mcp' } });
    void ok.close();
  });

  it('refuses missing names, bad ports, paths, origins, secrets and limits', () => {
    assert.equal(code(() => createGangway({ ...base, name: '' })), 'GW_CONFIG_HTTP');
    assert.equal(code(() => createGangway({ ...base, http: { port: 70000 } })), 'GW_CONFIG_HTTP');
    assert.equal(code(() => createGangway({ ...base, http: { path: 'mcp' } })), 'GW_CONFIG_HTTP');
    assert.equal(code(() => createGangway({ ...base, http: { allowedOrigins: ['not an origin'] } })), 'GW_CONFIG_HTTP');
    assert.equal(code(() => createGangway({ ...base, secret: 'short' })), 'GW_CONFIG_HTTP');
    assert.equal(code(() => createGangway({ ...base, http: { maxBodyBytes: 10 } })), 'GW_CONFIG_HTTP');
  });

  it('allows the public URL host and origin', async () => {
    const app = createGangway({ ...base, http: { publicUrl: 'https://mcp.example.com/mcp' } });
    const res = await app.fetch(
      new Request('https://mcp.example.com/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://mcp.example.com' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } }),
      }),
    );
    assert.equal(res.status, 200);
    await app.close();
  });
});

describe('store specs fail at start-up too', () => {
  it('refuses an unknown store or ephemeral spec in createGangway, naming it', () => {
    assert.equal(code(() => createGangway({ ...base, store: 'mongodb://x' })), 'GW_CONFIG_STORE');
    assert.equal(code(() => createGangway({ ...base, ephemeral: 'sqlite://host/db' })), 'GW_CONFIG_STORE');
  });
});
