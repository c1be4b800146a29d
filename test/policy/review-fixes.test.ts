import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { defineTool, type Gangway } from '../../src/index.ts';
import { resourceIdOf } from '../../src/policy/confirmation.ts';
import { utcMonth } from '../../src/policy/quota.ts';
import { MASK } from '../../src/policy/secrets.ts';
import { Registry } from '../../src/registry/registry.ts';
import { createAjv } from '../../src/registry/schema.ts';
import type { ToolDefinition } from '../../src/registry/types.ts';
import { RecordingUpstream } from '../openapi/recording-upstream.ts';
import {
  type Answer,
  assertRefused,
  auditRows,
  callTool,
  capturedLogger,
  keyAuth,
  legacySession,
  policyApp,
  principal,
  send,
  textOf,
} from './helpers.ts';
import { eventually } from '../helpers/eventually.ts';

/**
 * Regression tests for the review fixes in policy/, openapi/meta-tools.ts, app.ts and
 * protocol/engine.ts. Each test states what a user of the server observes; every refusal is
 * checked to have run nothing.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const as = (key: string) => ({ headers: { 'x-api-key': key } });
const ok = (a: Answer) => a.status === 200 && a.json?.result !== undefined && a.json.result.isError === undefined;

describe('1. OpenAPI meta mode: write-only fields of the invoked operation', () => {
  const CANARY = `pw-CANARY-${randomBytes(12).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'gangway-review-'));
  const { logger, lines } = capturedLogger();
  let upstream: RecordingUpstream;
  let app: Gangway;

  before(async () => {
    upstream = await new RecordingUpstream().start();
    // A careless API: it echoes the whole body back, password included.
    upstream.on('POST', '/users', (r) => ({ status: 201, body: { id: 'usr_1', ...(JSON.parse(r.body.toString()) as object) } }));
    const spec = join(dir, 'users.json');
    writeFileSync(
      spec,
      JSON.stringify({
        openapi: '3.0.3',
        info: { title: 'Users', version: '1' },
        paths: {
          '/users': {
            post: {
              operationId: 'createUser',
              requestBody: {
                required: true,
                content: {
                  'application/json': {
                    schema: {
                      type: 'object',
                      properties: { email: { type: 'string' }, password: { type: 'string', writeOnly: true } },
                      required: ['email', 'password'],
                    },
                  },
                },
              },
              responses: { 201: { description: 'created', content: { 'application/json': { schema: { type: 'object' } } } } },
            },
          },
        },
      }),
    );
    app = policyApp({ logger, openapi: { spec, upstream: { baseUrl: upstream.url }, mode: 'meta' } });
  });
  after(async () => {
    await app.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the upstream gets the password; the result and the audit row do not', async () => {
    assert.ok(app.registry.tools.has('invoke_operation'));
    assert.ok(!app.registry.tools.has('createUser'), 'meta mode: the operation is reached through invoke_operation');
    const a = await callTool(app, 'invoke_operation', { name: 'createUser', arguments: { email: 'ann@example.com', password: CANARY } });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.result.isError, undefined, a.text);

    // The API received the real value: masking must not break the call.
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual(JSON.parse(upstream.last.body.toString()), { email: 'ann@example.com', password: CANARY });

    // The echoed password is cut out of what the caller sees; the rest of the answer is intact.
    assert.ok(!a.text.includes(CANARY), `the password is in the tool result: ${a.text}`);
    assert.match(a.text, /usr_1/);
    assert.match(a.text, /ann@example\.com/);

    const rows = await auditRows(app, { tool: 'invoke_operation' });
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.deepEqual(rows[0]!.args, { name: 'createUser', arguments: { email: 'ann@example.com', password: MASK } });
    assert.ok(!JSON.stringify(await auditRows(app)).includes(CANARY), 'the password is in the audit log');
    assert.ok(!lines.join('').includes(CANARY), 'the password is in the logs');
  });
});

describe('2. a failing quotas.plan() does not leak concurrency slots', () => {
  it('503 while plan() throws; once it recovers, calls run up to the cap and the cap still holds', async () => {
    let planDown = true;
    let entered = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const app = policyApp({
      authenticate: keyAuth({ alice: principal('alice', 'acme') }),
      tools: [
        defineTool({
          name: 'slow',
          handler: async () => {
            entered++;
            await gate;
            return 'slow ok';
          },
        }),
      ],
      policy: {
        limits: { perCredential: false, concurrent: 2 },
        quotas: {
          plans: { pro: 10_000 },
          plan: () => {
            if (planDown) throw new Error('billing service down');
            return 'pro';
          },
        },
      },
    });
    try {
      for (let i = 0; i < 6; i++) {
        const a = await callTool(app, 'slow', {}, as('alice'));
        assert.equal(a.status, 503, a.text);
        assert.equal(a.headers.get('retry-after'), '5');
        assert.match(a.json.error.message, /limits cannot be checked/);
      }
      assert.equal(entered, 0, 'no refused call ran');

      planDown = false;
      const first = callTool(app, 'slow', {}, as('alice'));
      const second = callTool(app, 'slow', {}, as('alice'));
      for (let i = 0; i < 200 && entered < 2; i++) await sleep(5);
      assert.equal(entered, 2, 'both slots are free after the outage');
      const third = await callTool(app, 'slow', {}, as('alice'));
      assert.equal(third.status, 429, third.text);
      assert.equal(third.json.error.data.policy, 'concurrency');
      release();
      assert.deepEqual((await Promise.all([first, second])).map(textOf), ['slow ok', 'slow ok']);
      const later = await callTool(app, 'slow', {}, as('alice'));
      assert.ok(ok(later), later.text);
      assert.equal(entered, 3);
    } finally {
      release();
      await app.close();
    }
  });
});

describe('3. a 2025 live confirmation form nobody answers', () => {
  it('is GW_CONFIRM_EXPIRED after confirmation.ttlMs, and the tool never runs, even if the answer comes later', async () => {
    let ran = 0;
    const app = policyApp({
      authenticate: keyAuth({ alice: principal('alice', 'acme') }),
      tools: [
        defineTool({
          name: 'delete_product',
          destructive: true,
          input: { type: 'object', properties: { product_id: { type: 'string' } }, required: ['product_id'] },
          handler: () => (ran++, 'deleted'),
        }),
      ],
      policy: { limits: { perCredential: false }, confirmation: { ttlMs: 1500 } },
    });
    const { url } = await app.listen({ port: 0 });
    let asked = 0;
    let answerLate!: (r: ElicitResult) => void;
    const late = new Promise<ElicitResult>((r) => (answerLate = r));
    const client = new Client({ name: 'review-sdk1', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => {
      asked++;
      return late; // the user walked away
    });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { 'x-api-key': 'alice' } } }));
      assert.equal(client.getServerVersion()?.name, 'policy-test');
      const started = Date.now();
      // The client gives up after 5 s (its default is 60 s): a server that never times out fails fast.
      const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'p1' } }, undefined, { timeout: 5000 });
      const elapsed = Date.now() - started;
      assert.equal(asked, 1, 'the form was shown');
      assert.equal(result.isError, true, JSON.stringify(result));
      assert.equal((result.structuredContent as { error?: { code?: string } }).error?.code, 'GW_CONFIRM_EXPIRED', JSON.stringify(result));
      assert.ok(elapsed >= 1400 && elapsed < 3000, `answered after ${elapsed} ms`);
      assert.equal(ran, 0);
      const cancel = (await auditRows(app, { event: 'confirm.cancel' })).at(-1);
      assert.equal(cancel?.outcome, 'GW_CONFIRM_EXPIRED');
      // The user comes back and approves: too late, nothing runs.
      answerLate({ action: 'accept', content: { resource_id_echo: 'p1', reason: 'late' } });
      await sleep(200);
      assert.equal(ran, 0);
      assert.deepEqual(await auditRows(app, { event: 'confirm.run' }), []);
    } finally {
      answerLate({ action: 'decline' });
      await client.close();
      await app.close();
    }
  });
});

describe('4. token mode and a destructive tool with an output schema', () => {
  const output = {
    type: 'object',
    properties: { purged: { type: 'string' }, entries: { type: 'integer' } },
    required: ['purged', 'entries'],
    additionalProperties: false,
  };
  const ran: unknown[] = [];
  let app: Gangway;
  let url: URL;
  before(async () => {
    app = policyApp({
      authenticate: keyAuth({ alice: principal('alice', 'acme') }),
      tools: [
        defineTool({
          name: 'purge_cache',
          destructive: true,
          input: { type: 'object', properties: { cache_id: { type: 'string' } }, required: ['cache_id'] },
          output,
          handler: (args: { cache_id: string }) => (ran.push(args), { purged: args.cache_id, entries: 42 }),
        }),
      ],
      policy: { limits: { perCredential: false }, confirmation: { mode: 'token' } },
    });
    url = new URL((await app.listen({ port: 0 })).url);
  });
  after(() => app.close());

  it('on the wire (2025-11-25): the pending answer is isError; the token runs the tool once; its result fits the schema', async () => {
    ran.length = 0;
    const s = await legacySession(app, '2025-11-25', as('alice'));
    const listed = (await s.request('tools/list')).json.result.tools.find((t: { name: string }) => t.name === 'purge_cache');
    assert.deepEqual(listed.outputSchema, output);
    const pending = await s.call('purge_cache', { cache_id: 'cdn-us' });
    assert.equal(pending.json.result.isError, true, pending.text);
    // The pending action is not the tool's output: it travels in _meta, not structuredContent.
    assert.equal(pending.json.result.structuredContent, undefined);
    const parked = pending.json.result._meta['io.gangway/confirmation'];
    assert.equal(parked.status, 'confirmation_required');
    assert.deepEqual(ran, []);
    const token = parked.token as string;
    const done = await s.call('confirm_destructive_action', { token, resource_id_echo: 'cdn-us', reason: 'stale assets' });
    assert.equal(done.json.result.isError, undefined, done.text);
    const validate = createAjv().compile(listed.outputSchema);
    assert.ok(validate(done.json.result.structuredContent), JSON.stringify(validate.errors));
    assert.deepEqual(done.json.result.structuredContent, { purged: 'cdn-us', entries: 42 });
    assert.deepEqual(ran, [{ cache_id: 'cdn-us' }]);
  });

  // Regression (found by this suite): SDK 1.32.2's Client.callTool validates structuredContent
  // against the tool's output schema whenever it is present, isError or not, so the pending
  // answer of such a tool carries no structuredContent.
  it("the SDK 1.x client's callTool does not throw on the pending answer, and the token then works", async () => {
    ran.length = 0;
    const client = new Client({ name: 'review-sdk1', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { 'x-api-key': 'alice' } } }));
      // listTools makes the SDK check every later result of purge_cache against its output schema.
      const listed = (await client.listTools()).tools.find((t) => t.name === 'purge_cache');
      assert.ok(listed?.outputSchema, 'the output schema is listed');

      let pending: Awaited<ReturnType<Client['callTool']>>;
      try {
        pending = await client.callTool({ name: 'purge_cache', arguments: { cache_id: 'cdn-eu' } });
      } catch (err) {
        assert.fail(`callTool threw on the pending answer: ${(err as Error).message}`);
      }
      assert.equal(pending.isError, true, 'a pending action is marked isError: the tool did not run');
      const token = /token: (\S+)/.exec((pending.content as Array<{ text?: string }>)[0]?.text ?? '')?.[1];
      assert.ok(token, JSON.stringify(pending));
      assert.deepEqual(ran, []);

      const done = await client.callTool({ name: 'confirm_destructive_action', arguments: { token, resource_id_echo: 'cdn-eu', reason: 'stale assets' } });
      assert.equal(done.isError, undefined, JSON.stringify(done));
      const validate = createAjv().compile(listed.outputSchema);
      assert.ok(validate(done.structuredContent), JSON.stringify(validate.errors));
      assert.deepEqual(ran, [{ cache_id: 'cdn-eu' }]);
    } finally {
      await client.close();
    }
  });
});

describe('5. 2026-07-28: a form confirmation, then the handler asks its own question', () => {
  it('three rounds, one side effect; replaying the last round is GW_CONFIRM_NOT_FOUND', async () => {
    const effects: Array<{ repo: string; forks: unknown }> = [];
    const app = policyApp({
      authenticate: keyAuth({ alice: principal('alice', 'acme') }),
      tools: [
        defineTool({
          name: 'delete_repo',
          destructive: true,
          resourceId: 'repo',
          input: { type: 'object', properties: { repo: { type: 'string' } }, required: ['repo'] },
          handler: async (args: { repo: string }, ctx) => {
            const answer = await ctx.elicit(
              {
                mode: 'form',
                message: `Delete the forks of ${args.repo} too?`,
                requestedSchema: { type: 'object', properties: { forks: { type: 'boolean' } }, required: ['forks'] },
              },
              'forks',
            );
            effects.push({ repo: args.repo, forks: answer.content?.forks });
            return `deleted ${args.repo}`;
          },
        }),
      ],
      policy: { limits: { perCredential: false } },
    });
    const o = (params: Record<string, unknown> = {}) => ({ ...as('alice'), capabilities: { elicitation: {} }, params });
    const call = (params?: Record<string, unknown>) => callTool(app, 'delete_repo', { repo: 'acme/widgets' }, o(params));
    try {
      const r1 = await call();
      assert.equal(r1.json.result?.resultType, 'input_required', r1.text);
      assert.deepEqual(Object.keys(r1.json.result.inputRequests), ['gangway.confirm']);

      const approval = { 'gangway.confirm': { action: 'accept', content: { resource_id_echo: 'acme/widgets', reason: 'archived project' } } };
      const r2 = await call({ requestState: r1.json.result.requestState, inputResponses: approval });
      assert.equal(r2.json.result?.resultType, 'input_required', r2.text);
      assert.deepEqual(Object.keys(r2.json.result.inputRequests), ['forks']);
      assert.match(r2.json.result.inputRequests.forks.params.message, /forks of acme\/widgets/);
      assert.deepEqual(effects, [], 'approved, but the handler has not finished');

      const round3 = { requestState: r2.json.result.requestState, inputResponses: { forks: { action: 'accept', content: { forks: true } } } };
      const r3 = await call(round3);
      assert.equal(r3.json.result?.resultType, 'complete', r3.text);
      assert.equal(textOf(r3), 'deleted acme/widgets');
      assert.deepEqual(effects, [{ repo: 'acme/widgets', forks: true }]);

      assertRefused(await call(round3), 'GW_CONFIRM_NOT_FOUND');
      assert.equal(effects.length, 1, 'the replay ran nothing');
      const runs = await auditRows(app, { event: 'confirm.run' });
      assert.equal(runs.filter((r) => r.outcome === 'ok').length, 1, JSON.stringify(runs));
    } finally {
      await app.close();
    }
  });
});

describe('6. usage is counted under known names only', () => {
  it('50 unknown tools and 50 unknown methods add (unknown tool) and (other), not 100 keys', async () => {
    let cheap = 0;
    const app = policyApp({
      authenticate: keyAuth({ alice: principal('alice', 'acme') }),
      tools: [defineTool({ name: 'cheap', handler: () => (cheap++, 'ok') })],
      policy: { limits: { perCredential: false }, quotas: { plans: { pro: 100_000 }, plan: () => 'pro' } },
    });
    try {
      const rnd = () => randomBytes(6).toString('hex');
      assert.ok(ok(await callTool(app, 'cheap', {}, as('alice'))));
      for (let i = 0; i < 50; i++) {
        const a = await callTool(app, `nope_${rnd()}`, {}, as('alice'));
        assert.equal(a.status, 200, a.text);
        assert.ok(a.json.error || a.json.result?.isError, `an unknown tool is an error: ${a.text}`);
      }
      const s = await legacySession(app, '2025-11-25', as('alice'));
      for (let i = 0; i < 50; i++) {
        const a = await s.request(`x-${rnd()}/${rnd()}`);
        assert.equal(a.json.error?.code, -32601, a.text);
      }
      assert.equal(cheap, 1);
      const { store } = await app.stores();
      const query = { month: utcMonth(Date.now()).month, tenant: 'acme' };
      await eventually(async () => (await store.usage.month(query)).total >= 102);
      const usage = await store.usage.month(query);
      assert.deepEqual(usage.byTool, { cheap: 1, initialize: 1, '(unknown tool)': 50, '(other)': 50 });
    } finally {
      await app.close();
    }
  });
});

describe('7. calls refused by the scope gate are audited, once a minute', () => {
  it('one denied row for 21 refused calls, and the handler never ran', async () => {
    let ran = 0;
    const app = policyApp({
      authenticate: keyAuth({ rita: principal('rita', 'acme', { scopes: ['notes:read'] }) }),
      tools: [defineTool({ name: 'wipe_notes', scopes: ['notes:admin'], handler: () => (ran++, 'wiped') })],
      policy: { limits: { perCredential: false } },
    });
    try {
      const first = await callTool(app, 'wipe_notes', {}, as('rita'));
      assert.equal(first.status, 403, first.text);
      assert.match(first.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      await eventually(async () => (await auditRows(app)).length > 0);
      const rows = await auditRows(app);
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.equal(rows[0]!.event, 'tool.call');
      assert.equal(rows[0]!.outcome, 'denied');
      assert.equal(rows[0]!.tool, 'wipe_notes');
      assert.equal(rows[0]!.subject, 'rita');
      assert.equal(rows[0]!.tenant, 'acme');

      for (let i = 0; i < 20; i++) assert.equal((await callTool(app, 'wipe_notes', {}, as('rita'))).status, 403);
      await sleep(150);
      assert.equal((await auditRows(app)).length, 1, 'a retrying client does not become a stream of rows');
      assert.equal(ran, 0);
    } finally {
      await app.close();
    }
  });
});

describe('8. 2025-03-26 batches and the concurrency cap', () => {
  const batch = (n: number, from = 1) =>
    Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: from + i, method: 'tools/call', params: { name: 'work', arguments: {} } }));
  const headersOf = (s: { id: string }) => ({ 'mcp-session-id': s.id, 'mcp-protocol-version': '2025-03-26', 'x-api-key': 'alice' });

  it('a batch of 20 with concurrent: 16 is answered: 20 results', async () => {
    let ran = 0;
    const app = policyApp({
      authenticate: keyAuth({ alice: principal('alice', 'acme') }),
      tools: [defineTool({ name: 'work', handler: () => (ran++, 'done') })],
      policy: { limits: { perCredential: false, concurrent: 16 } },
    });
    try {
      const s = await legacySession(app, '2025-03-26', as('alice'));
      for (const round of [1, 2]) {
        const a = await send(app, batch(20), { headers: headersOf(s) });
        assert.equal(a.status, 200, a.text);
        assert.ok(Array.isArray(a.json), a.text);
        assert.equal(a.json.length, 20, `round ${round}`);
        assert.deepEqual(
          (a.json as Array<{ id: number }>).map((m) => m.id).sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        for (const m of a.json as Array<{ result?: { content: Array<{ text: string }> } }>) assert.equal(m.result?.content[0]?.text, 'done');
      }
      assert.equal(ran, 40);
    } finally {
      await app.close();
    }
  });

  it('with concurrent: 1, a second batch while the first runs is 429 concurrency; after it, batches pass', async () => {
    let entered = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const app = policyApp({
      authenticate: keyAuth({ alice: principal('alice', 'acme') }),
      tools: [
        defineTool({
          name: 'work',
          handler: async () => {
            entered++;
            await gate;
            return 'done';
          },
        }),
      ],
      policy: { limits: { perCredential: false, concurrent: 1 } },
    });
    try {
      const s = await legacySession(app, '2025-03-26', as('alice'));
      const first = send(app, batch(3), { headers: headersOf(s) });
      for (let i = 0; i < 200 && entered < 3; i++) await sleep(5);
      assert.equal(entered, 3, 'the first batch runs every call');
      const second = await send(app, batch(3, 10), { headers: headersOf(s) });
      assert.equal(second.status, 429, second.text);
      // Answered as a batch: one error per request, each with its own id.
      assert.deepEqual(second.json.map((m: { id: number }) => m.id), [10, 11, 12]);
      for (const m of second.json) {
        assert.equal(m.error.code, -32029);
        assert.equal(m.error.data.policy, 'concurrency');
      }
      assert.equal(entered, 3, 'the refused batch ran nothing');
      release();
      const a = await first;
      assert.equal(a.json.length, 3, a.text);
      const third = await send(app, batch(3, 20), { headers: headersOf(s) });
      assert.equal(third.status, 200, third.text);
      assert.equal(third.json.length, 3);
      assert.equal(entered, 6);
    } finally {
      release();
      await app.close();
    }
  });
});

describe('9. resourceIdOf', () => {
  const handler = () => 'ok';
  const strings = (...names: string[]) => ({ type: 'object', properties: Object.fromEntries(names.map((n) => [n, { type: 'string' }])) });
  const compiled = (def: Omit<ToolDefinition, 'handler'>) => new Registry({ tools: [{ ...def, handler }] }).tools.get(def.name)!;

  it('paid, valid and android are not ids', () => {
    for (const name of ['paid', 'valid', 'android']) {
      const tool = compiled({ name: 'update_plan', destructive: true, input: strings(name) });
      assert.equal(resourceIdOf(tool, { [name]: 'v1' }), 'update_plan', name);
    }
    const all = compiled({ name: 'update_plan', destructive: true, input: strings('paid', 'valid', 'android', 'plan_id') });
    assert.equal(resourceIdOf(all, { paid: 'yes', valid: 'true', android: 'x', plan_id: 'pl_9' }), 'pl_9');
  });

  it('order_id, orderId, order-id and orderID are', () => {
    for (const name of ['order_id', 'orderId', 'order-id', 'orderID']) {
      const tool = compiled({ name: 'cancel_order', destructive: true, input: strings(name, 'note') });
      assert.equal(resourceIdOf(tool, { [name]: 'ord_77', note: 'n' }), 'ord_77', name);
    }
  });

  it('resourceId naming an absent (or empty) argument falls back to the default rule', () => {
    const tool = compiled({ name: 'delete_thing', destructive: true, resourceId: 'missing_arg', input: strings('missing_arg', 'id', 'thing_id') });
    assert.equal(resourceIdOf(tool, { id: 'th_1' }), 'th_1');
    assert.equal(resourceIdOf(tool, { thing_id: 'th_2' }), 'th_2');
    assert.equal(resourceIdOf(tool, { missing_arg: '', thing_id: 'th_3' }), 'th_3');
    assert.equal(resourceIdOf(tool, {}), 'delete_thing');
    assert.equal(resourceIdOf(tool, { missing_arg: 'named', id: 'th_1' }), 'named', 'present, the rule wins');
  });
});

describe('10. app.fetch without { ip } on a limited server', () => {
  const WARNING = /without \{ ip \}/;
  const warnings = (lines: string[]) => lines.filter((l) => WARNING.test((JSON.parse(l) as { msg?: string }).msg ?? ''));
  const tools = [defineTool({ name: 'ping', anonymous: true, handler: () => 'pong' })];

  it('logs one warning, at the first MCP request without a peer address, and never again', async () => {
    const { logger, lines } = capturedLogger();
    const app = policyApp({ tools, logger, authenticate: keyAuth({}) });
    try {
      assert.ok(ok(await callTool(app, 'ping', {}, { ip: '203.0.113.5' })));
      assert.equal((await app.fetch(new Request('http://localhost/healthz'))).status, 200);
      assert.deepEqual(warnings(lines), [], 'not for a request with { ip }, nor for a non-MCP path');
      for (let i = 0; i < 5; i++) assert.ok(ok(await callTool(app, 'ping', {})));
      const w = warnings(lines);
      assert.equal(w.length, 1, lines.join(''));
      assert.equal((JSON.parse(w[0]!) as { level: number }).level, 40, 'a warning');
    } finally {
      await app.close();
    }
  });

  it('says nothing on a server without limits', async () => {
    const { logger, lines } = capturedLogger();
    const app = policyApp({ tools, logger });
    try {
      for (let i = 0; i < 3; i++) assert.ok(ok(await callTool(app, 'ping', {})));
      assert.deepEqual(warnings(lines), []);
    } finally {
      await app.close();
    }
  });
});
