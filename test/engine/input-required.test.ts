import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { defineTool } from '../../src/index.ts';
import { META, modern, testApp } from '../helpers/http.ts';

const done: string[] = [];
const app = testApp({
  // Who calls is taken from a test header, to prove the state is bound to the caller.
  authenticate: (input) => ({
    subject: input.header('x-test-user') ?? 'alice',
    tenant: 't1',
    scopes: [],
    client: null,
    via: 'custom',
  }),
  tools: [
    defineTool({
      name: 'delete_thing',
      input: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      handler: async ({ id }: { id: string }, ctx) => {
        const first = await ctx.elicit({ message: `Delete ${id}?`, requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } }, 'confirm');
        const second = await ctx.elicit({ message: 'Why?', requestedSchema: { type: 'object', properties: { reason: { type: 'string' } } } }, 'reason');
        done.push(`${id}:${JSON.stringify(first.content)}:${JSON.stringify(second.content)}`);
        return 'deleted';
      },
    }),
  ],
});
after(() => app.close());

const withElicitation = { _meta: { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } } };
const call = (id: number, params: Record<string, unknown>, headers: Record<string, string> = {}) =>
  modern(app, id, 'tools/call', { name: 'delete_thing', ...withElicitation, ...params }, headers);

describe('2026-07-28 multi round-trip (input_required + requestState)', () => {
  it('asks, carries earlier answers in requestState, then completes', async () => {
    const r1 = await call(1, { arguments: { id: 'a' } });
    assert.equal(r1.json.result.resultType, 'input_required');
    assert.deepEqual(Object.keys(r1.json.result.inputRequests), ['confirm']);
    assert.equal(r1.json.result.inputRequests.confirm.method, 'elicitation/create');
    const r2 = await call(2, {
      arguments: { id: 'a' },
      inputResponses: { confirm: { action: 'accept', content: { ok: true } } },
      requestState: r1.json.result.requestState,
    });
    assert.deepEqual(Object.keys(r2.json.result.inputRequests), ['reason']);
    // The retry carries only this round's answer: the first one must come back from the state.
    const r3 = await call(3, {
      arguments: { id: 'a' },
      inputResponses: { reason: { action: 'accept', content: { reason: 'cleanup' } } },
      requestState: r2.json.result.requestState,
    });
    assert.equal(r3.json.result.resultType, 'complete');
    assert.equal(r3.json.result.content[0].text, 'deleted');
    assert.deepEqual(done, ['a:{"ok":true}:{"reason":"cleanup"}']);
  });

  it('refuses a tampered, foreign, re-targeted or re-argued state and runs nothing', async () => {
    const r1 = await call(1, { arguments: { id: 'b' } });
    const r2 = await call(2, {
      arguments: { id: 'b' },
      inputResponses: { confirm: { action: 'accept', content: { ok: true } } },
      requestState: r1.json.result.requestState,
    });
    const state: string = r2.json.result.requestState;
    const answer = { inputResponses: { reason: { action: 'accept', content: { reason: 'x' } } } };
    const before = done.length;
    const tampered = `${state.slice(0, 10)}${state[10] === 'A' ? 'B' : 'A'}${state.slice(11)}`;
    for (const [params, headers] of [
      [{ arguments: { id: 'b' }, ...answer, requestState: tampered }, {}],
      [{ arguments: { id: 'b' }, ...answer, requestState: state }, { 'x-test-user': 'mallory' }],
      [{ arguments: { id: 'OTHER' }, ...answer, requestState: state }, {}],
      [{ arguments: { id: 'b' }, ...answer, requestState: 'not-a-state' }, {}],
    ] as const) {
      const r = await call(9, params, headers);
      assert.equal(r.json.error?.code, -32602, JSON.stringify(r.json));
      assert.match(r.json.error.message, /requestState/);
    }
    assert.equal(done.length, before);
  });

  it('answers -32021 when the client did not declare elicitation', async () => {
    const r = await modern(app, 1, 'tools/call', { name: 'delete_thing', arguments: { id: 'c' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32021);
    assert.deepEqual(r.json.error.data, { requiredCapabilities: { elicitation: {} } });
  });
});

describe('RequestStateCodec', async () => {
  const { RequestStateCodec } = await import('../../src/protocol/input-required.ts');
  it('expires states and refuses them after their lifetime', () => {
    let now = 1_000_000;
    const codec = new RequestStateCodec(Buffer.alloc(32, 7), 60_000, () => now);
    const state = codec.seal('binding', { a: 1 });
    assert.deepEqual(codec.open(state, 'binding'), { a: 1 });
    now += 60_001;
    assert.throws(() => codec.open(state, 'binding'), /expired/);
  });

  it('refuses a state signed with another secret', () => {
    const a = new RequestStateCodec(Buffer.alloc(32, 1), 60_000);
    const b = new RequestStateCodec(Buffer.alloc(32, 2), 60_000);
    assert.throws(() => b.open(a.seal('x', {}), 'x'), /bad signature/);
  });
});

describe('questions and answers in 2026-07-28', () => {
  const asks = testApp({
    tools: [
      defineTool({
        name: 'survey',
        handler: async (_args, ctx) => {
          // Asked together: one input_required round carries all three.
          const [name, color, roots] = await Promise.all([
            ctx.elicit({ message: 'Name?', requestedSchema: { type: 'object', properties: { v: { type: 'string' } } } }, 'name'),
            ctx.elicit({ message: 'Color?', requestedSchema: { type: 'object', properties: { v: { type: 'string' } } } }, 'color'),
            ctx.roots('roots'),
          ]);
          return `${name.content?.v} likes ${color.content?.v} in ${roots.roots.map((r) => r.uri).join(',')}`;
        },
      }),
    ],
  });
  after(() => asks.close());
  const caps = { _meta: { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {}, roots: {} } } };
  const survey = (id: number, extra: Record<string, unknown> = {}) => modern(asks, id, 'tools/call', { name: 'survey', arguments: {}, ...caps, ...extra });

  it('sends concurrent questions in one round and completes with every answer', async () => {
    const r1 = await survey(1);
    assert.deepEqual(Object.keys(r1.json.result.inputRequests).sort(), ['color', 'name', 'roots']);
    assert.equal(r1.json.result.inputRequests.roots.method, 'roots/list');
    const r2 = await survey(2, {
      requestState: r1.json.result.requestState,
      inputResponses: {
        name: { action: 'accept', content: { v: 'Ada' } },
        color: { action: 'accept', content: { v: 'teal' } },
        roots: { roots: [{ uri: 'file:///work' }] },
      },
    });
    assert.equal(r2.json.result.content[0].text, 'Ada likes teal in file:///work');
  });

  it('refuses an answer of the wrong shape with -32602 instead of handing it to the handler', async () => {
    const r1 = await survey(1);
    const r2 = await survey(2, {
      requestState: r1.json.result.requestState,
      inputResponses: {
        name: { action: 'maybe' },
        color: { action: 'accept', content: { v: 'teal' } },
        roots: { roots: 'nope' },
      },
    });
    assert.equal(r2.json.error.code, -32602);
    assert.match(r2.json.error.message, /inputResponses\["(name|roots)"\]/);
  });
});

describe('capabilities a question needs', () => {
  const app2 = testApp({
    tools: [
      defineTool({
        name: 'open_link',
        handler: async (_a, ctx) => {
          const r = await ctx.elicit({ mode: 'url', message: 'Sign in', url: 'https://example.com/auth', elicitationId: 'e1' }, 'link');
          return r.action;
        },
      }),
      defineTool({
        name: 'sample_tools',
        handler: async (_a, ctx) => {
          await ctx.sample({ messages: [], maxTokens: 10, tools: [{ name: 't' }] }, 's');
          return 'x';
        },
      }),
    ],
  });
  after(() => app2.close());
  const call = (name: string, caps: Record<string, unknown>) =>
    modern(app2, 1, 'tools/call', {
      name,
      arguments: {},
      _meta: { ...META, 'io.modelcontextprotocol/clientCapabilities': caps },
    });

  it('asks for URL mode only from a client that declared elicitation.url, without elicitationId in 2026', async () => {
    const formOnly = await call('open_link', { elicitation: {} });
    assert.equal(formOnly.json.error.code, -32021);
    assert.deepEqual(formOnly.json.error.data, { requiredCapabilities: { elicitation: { url: {} } } });
    const ok = await call('open_link', { elicitation: { url: {} } });
    const asked = ok.json.result.inputRequests.link;
    assert.equal(asked.params.url, 'https://example.com/auth');
    assert.equal('elicitationId' in asked.params, false);
  });

  it('sends sampling with tools only to a client that declared sampling.tools', async () => {
    const plain = await call('sample_tools', { sampling: {} });
    assert.deepEqual(plain.json.error.data, { requiredCapabilities: { sampling: { tools: {} } } });
    const ok = await call('sample_tools', { sampling: { tools: {} } });
    assert.equal(ok.json.result.resultType, 'input_required');
  });
});
