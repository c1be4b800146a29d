import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defineTool, type Gangway, ToolError } from '../../src/index.ts';
import { MASK, maskSecret } from '../../src/policy/secrets.ts';
import { type Answer, auditRows, callTool, capturedLogger, keyAuth, legacySession, policyApp, principal, textOf } from './helpers.ts';

/**
 * Write-only inputs (SECURITY 33, seed 001's BYOK provider keys): a property marked
 * `writeOnly: true` reaches the handler and nothing else. A canary value is planted, the
 * handlers do their worst (echo it, throw it), and then every response body, every log line,
 * every audit row and the bytes of the SQLite files are searched for it.
 */

const CANARY = `sk-live-CANARY${randomBytes(12).toString('hex')}`;
/** Keys the handlers stored, by tenant and provider (the product's own encrypted storage). */
const vault = new Map<string, string>();
const received: string[] = [];

const keyInput = {
  type: 'object',
  properties: { provider: { type: 'string', enum: ['openai', 'anthropic'] }, api_key: { type: 'string', writeOnly: true, minLength: 8 } },
  required: ['provider', 'api_key'],
  additionalProperties: false,
};

const tools = [
  defineTool({
    name: 'set_provider_key',
    scopes: ['provider_keys:write'],
    input: keyInput,
    // A careless handler: it echoes the key in its text and in its structured result.
    handler: ({ provider, api_key }: { provider: string; api_key: string }, ctx) => {
      received.push(api_key);
      vault.set(`${ctx.principal.tenant}:${provider}`, api_key);
      return { saved: provider, message: `stored ${api_key} for ${provider}`, key: api_key };
    },
  }),
  defineTool({
    name: 'set_provider_key_broken',
    input: keyInput,
    handler: ({ api_key }: { api_key: string }) => {
      received.push(api_key);
      throw new Error(`upstream refused key ${api_key}`);
    },
  }),
  defineTool({
    name: 'set_provider_key_rejected',
    input: keyInput,
    handler: ({ api_key }: { api_key: string }) => {
      received.push(api_key);
      throw new ToolError(`the key ${api_key} was rejected by the provider`);
    },
  }),
  defineTool({
    name: 'update_posthog_config',
    input: {
      type: 'object',
      properties: {
        app_id: { type: 'string' },
        config: { type: 'object', properties: { host: { type: 'string' }, api_key: { type: 'string', writeOnly: true } }, required: ['host', 'api_key'] },
      },
      required: ['app_id', 'config'],
    },
    handler: (args: { app_id: string; config: { host: string; api_key: string } }) => {
      received.push(args.config.api_key);
      return args;
    },
  }),
  defineTool({
    name: 'list_provider_keys',
    scopes: ['provider_keys:read'],
    handler: (_a, ctx) => {
      const out: Record<string, string> = {};
      for (const [k, v] of vault) if (k.startsWith(`${ctx.principal.tenant}:`)) out[k.split(':')[1]!] = maskSecret(v);
      return { keys: out };
    },
  }),
  defineTool({
    name: 'rotate_provider_key',
    destructive: true,
    input: { type: 'object', properties: { provider: { type: 'string' }, new_key: { type: 'string', writeOnly: true } }, required: ['provider', 'new_key'] },
    resourceId: 'provider',
    handler: ({ provider, new_key }: { provider: string; new_key: string }) => {
      received.push(new_key);
      return `rotated ${provider} to ${new_key}`;
    },
  }),
];

const keys = { admin: principal('admin', 'acme', { scopes: ['provider_keys:write', 'provider_keys:read'] }) };
const as = { headers: { 'x-api-key': 'admin' } };

describe('a write-only input never leaves the handler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-secrets-'));
  const { logger, lines } = capturedLogger();
  const bodies: string[] = [];
  let app: Gangway;
  const call = async (name: string, args: Record<string, unknown>) => {
    const a = await callTool(app, name, args, as);
    bodies.push(a.text);
    return a;
  };

  before(() => {
    app = policyApp({
      tools,
      authenticate: keyAuth(keys),
      logger,
      store: `sqlite:${join(dir, 'store.db')}`,
      ephemeral: `sqlite:${join(dir, 'ephemeral.db')}`,
    });
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('echoed in a result: the handler got the key, the caller sees the mask', async () => {
    const a = await call('set_provider_key', { provider: 'openai', api_key: CANARY });
    assert.equal(a.status, 200, a.text);
    assert.equal(received.at(-1), CANARY, 'the handler received the real value');
    assert.equal(a.json.result.structuredContent.key, MASK);
    assert.equal(a.json.result.structuredContent.message, `stored ${MASK} for openai`);
    assert.equal(a.json.result.structuredContent.saved, 'openai');
  });

  it('in a thrown Error: the caller gets a reference, the log line has the mask', async () => {
    const a = await call('set_provider_key_broken', { provider: 'openai', api_key: CANARY });
    assert.equal(a.json.result.isError, true);
    assert.match(textOf(a), /failed \(reference [0-9a-f]+\)/);
    const logged = lines.filter((l) => l.includes('upstream refused key'));
    assert.ok(logged.length >= 1, 'the failure was logged');
    assert.ok(logged.every((l) => l.includes(`upstream refused key ${MASK}`)));
  });

  it('in a ToolError message: the message reaches the caller without the key', async () => {
    const a = await call('set_provider_key_rejected', { provider: 'anthropic', api_key: CANARY });
    assert.equal(a.json.result.isError, true);
    assert.equal(textOf(a), `the key ${MASK} was rejected by the provider`);
  });

  it('nested in an object argument', async () => {
    const a = await call('update_posthog_config', { app_id: 'app_1', config: { host: 'https://eu.posthog.com', api_key: CANARY } });
    assert.deepEqual(a.json.result.structuredContent, { app_id: 'app_1', config: { host: 'https://eu.posthog.com', api_key: MASK } });
    assert.equal(received.at(-1), CANARY);
  });

  it('listed back by a tool with maskSecret: a placeholder, never the value', async () => {
    const a = await call('list_provider_keys', {});
    const shown = a.json.result.structuredContent.keys.openai as string;
    assert.equal(shown, maskSecret(CANARY));
    assert.ok(shown.endsWith(CANARY.slice(-4)));
    assert.ok(!CANARY.startsWith(shown) && shown.length < 12);
    assert.equal(maskSecret('short'), '••••');
  });

  it('through a 2025 session and through a destructive confirmation', async () => {
    const s = await legacySession(app, '2025-11-25', as);
    const r = await s.call('set_provider_key', { provider: 'anthropic', api_key: CANARY });
    bodies.push(r.text);
    assert.equal(r.json.result.structuredContent.key, MASK);
    const parked = await call('rotate_provider_key', { provider: 'openai', new_key: CANARY });
    const token = parked.json.result.structuredContent.token as string;
    const done = await call('confirm_destructive_action', { token, resource_id_echo: 'openai', reason: 'rotation' });
    assert.equal(textOf(done), `rotated openai to ${MASK}`, done.text);
    assert.equal(received.at(-1), CANARY, 'the confirmed call got the real value back from the sealed state');
  });

  it('refused by validation: the error names the problem, not the value', async () => {
    const a = await call('set_provider_key', { provider: 'not-a-provider', api_key: CANARY, extra: true });
    assert.equal(a.json.result.isError, true);
    assert.match(textOf(a), /Invalid arguments/);
  });

  it('audit rows show [secret] where the key was', async () => {
    const rows = await auditRows(app);
    const set = rows.filter((r) => r.tool === 'set_provider_key');
    assert.ok(set.length >= 2);
    for (const r of set) assert.equal((r.args as { api_key: string }).api_key, MASK);
    const nested = rows.find((r) => r.tool === 'update_posthog_config')!;
    assert.deepEqual(nested.args, { app_id: 'app_1', config: { host: 'https://eu.posthog.com', api_key: MASK } });
    const rotate = rows.filter((r) => r.tool === 'rotate_provider_key');
    assert.deepEqual(
      rotate.map((r) => [r.event, (r.args as { new_key: string }).new_key]),
      [
        ['tool.call', MASK],
        ['confirm.run', MASK],
      ],
    );
  });

  it('is nowhere: responses, log lines, audit rows, the SQLite files', async () => {
    assert.ok(received.filter((v) => v === CANARY).length >= 6, 'the handlers did receive the value');
    assert.ok(bodies.length >= 9 && lines.length >= 1);
    const leaks = (where: string, text: string) => assert.ok(!text.includes(CANARY), `the key is in ${where}`);
    bodies.forEach((b, i) => leaks(`response body ${i}`, b));
    lines.forEach((l, i) => leaks(`log line ${i}`, l));
    leaks('the audit log', JSON.stringify(await auditRows(app)));
    const scan = (when: string) => {
      const files = readdirSync(dir);
      assert.ok(files.includes('store.db'), files.join());
      for (const f of files) assert.equal(readFileSync(join(dir, f)).indexOf(CANARY), -1, `the key is in ${f} (${when})`);
      return files;
    };
    const live = scan('while serving');
    assert.ok(live.some((f) => f.endsWith('-wal')), `a WAL file was scanned: ${live.join()}`);
    await app.close();
    scan('after close');
  });
});

/**
 * Beyond the brief's handlers: other shapes a write-only value can take. Each of these failed
 * against src/ when written; they are reported to the lead, not fixed here.
 */
describe('write-only values in other shapes', () => {
  const seen: unknown[] = [];
  const { logger, lines } = capturedLogger();
  const app = policyApp({
    authenticate: keyAuth(keys),
    logger,
    tools: [
      defineTool({
        name: 'set_pin',
        input: { type: 'object', properties: { pin: { type: 'integer', writeOnly: true } }, required: ['pin'] },
        handler: (args: { pin: number }) => (seen.push(args.pin), { pin: args.pin }),
      }),
      defineTool({
        name: 'set_webhook_headers',
        input: {
          type: 'object',
          properties: { headers: { type: 'object', additionalProperties: { type: 'string', writeOnly: true } } },
          required: ['headers'],
        },
        handler: (args: { headers: Record<string, string> }) => (seen.push(args.headers), { saved: args.headers }),
      }),
      defineTool({
        name: 'test_provider_key',
        input: keyInput,
        handler: async ({ api_key }: { api_key: string }, ctx) => {
          seen.push(api_key);
          ctx.log('info', `testing key ${api_key}`);
          return 'key works';
        },
      }),
    ],
  });
  after(() => app.close());

  const expectClean = async (a: Answer, tool: string, secret: string) => {
    const rows = JSON.stringify(await auditRows(app, { tool }));
    assert.ok(!a.text.includes(secret), `response body of ${tool}: ${a.text}`);
    assert.ok(!rows.includes(secret), `audit rows of ${tool}: ${rows}`);
    assert.ok(!lines.join('').includes(secret), `logs of ${tool}`);
  };

  // Regression (found by this suite): scrubValue only rewrites strings, so a numeric secret echoed in
  // structuredContent goes out as a number.
  it('a numeric write-only value echoed in structuredContent', async () => {
    const pin = 987_654_321;
    const a = await callTool(app, 'set_pin', { pin }, as);
    assert.equal(seen.at(-1), pin);
    await expectClean(a, 'set_pin', String(pin));
  });

  // Regression (found by this suite): secretPaths walks `properties` and `items` only, so the values of a
  // map declared with `additionalProperties: { writeOnly: true }` are neither redacted nor scrubbed.
  it('write-only values of a map (additionalProperties)', async () => {
    const a = await callTool(app, 'set_webhook_headers', { headers: { authorization: CANARY } }, as);
    assert.deepEqual(seen.at(-1), { authorization: CANARY });
    await expectClean(a, 'set_webhook_headers', CANARY);
  });

  // Regression (found by this suite): notifications a handler sends during the call (ctx.log, progress) are
  // part of the HTTP response body and are not scrubbed.
  it('a log message the handler sends to the client during the call', async () => {
    const s = await legacySession(app, '2025-11-25', as);
    await s.request('logging/setLevel', { level: 'info' });
    const a = await s.call('test_provider_key', { provider: 'openai', api_key: CANARY });
    assert.equal(seen.at(-1), CANARY);
    assert.match(a.text, /notifications\/message/, 'the log message was streamed');
    await expectClean(a, 'test_provider_key', CANARY);
  });
});
