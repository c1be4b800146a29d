import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type ElicitRequest, ElicitRequestSchema, type ElicitResult, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { defineTool, type Gangway, type GangwayConfig } from '../../src/index.ts';
import { type Answer, assertRefused, auditRows, callTool, keyAuth, legacySession, modernRequest, policyApp, principal, textOf } from './helpers.ts';

/**
 * Destructive tools confirmed through a form the client shows (mode `auto` with a client that
 * declares elicitation): a live elicitation/create in 2025-06-18 and 2025-11-25 sessions, an
 * `input_required` round trip in 2026-07-28. Also `mode: token` and `mode: elicitation`.
 */

const ran: Array<Record<string, unknown>> = [];
const deleteProduct = defineTool({
  name: 'delete_product',
  destructive: true,
  input: { type: 'object', properties: { product_id: { type: 'string' } }, required: ['product_id'] },
  handler: (args: Record<string, unknown>) => {
    ran.push(args);
    return `deleted ${String(args.product_id)}`;
  },
});
const keys = { alice: principal('alice', 'acme'), bob: principal('bob', 'acme') };

function app(extra: Partial<GangwayConfig> = {}): Gangway {
  return policyApp({ tools: [deleteProduct], authenticate: keyAuth(keys), policy: { limits: { perCredential: false } }, ...extra });
}

/** SDK 1.x asks for its newest version; this rewrites `initialize` so each 2025 era is spoken as such. */
class VersionedTransport extends StreamableHTTPClientTransport {
  constructor(
    url: URL,
    private readonly version: string,
  ) {
    super(url, { requestInit: { headers: { 'x-api-key': 'alice' } } });
  }
  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('method' in message && message.method === 'initialize' && 'id' in message) {
      return super.send({ ...message, params: { ...message.params, protocolVersion: this.version } }, options);
    }
    return super.send(message, options);
  }
}

type Answerer = (request: ElicitRequest) => ElicitResult;

async function sdk1(url: URL, version: string, answer: () => Answerer): Promise<{ client: Client; asked: ElicitRequest[] }> {
  const asked: ElicitRequest[] = [];
  const client = new Client({ name: 'policy-sdk1', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push(request);
    return answer()(request);
  });
  await client.connect(new VersionedTransport(url, version));
  return { client, asked };
}

const structuredOf = (r: unknown) => (r as { structuredContent?: { error?: { code?: string } } }).structuredContent;
const textOfResult = (r: unknown) => ((r as { content: Array<{ text?: string }> }).content[0]?.text ?? '');

describe('2025 sessions: the SDK 1.x client is asked through elicitation/create', () => {
  let server: Gangway;
  let url: URL;
  before(async () => {
    server = app();
    url = new URL((await server.listen({ port: 0 })).url);
  });
  after(() => server.close());

  for (const version of ['2025-06-18', '2025-11-25']) {
    describe(`at ${version}`, () => {
      let client: Client;
      let asked: ElicitRequest[];
      let answerer: Answerer = () => ({ action: 'decline' });
      before(async () => {
        ({ client, asked } = await sdk1(url, version, () => answerer));
      });
      after(() => client.close());

      it('asks for the Resource id and a reason; the right echo runs the tool once', async () => {
        ran.length = 0;
        asked.length = 0;
        answerer = () => ({ action: 'accept', content: { resource_id_echo: 'prem_monthly', reason: 'retired plan' } });
        const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'prem_monthly' } });
        assert.equal(result.isError, undefined, JSON.stringify(result));
        assert.equal(textOfResult(result), 'deleted prem_monthly');
        assert.deepEqual(ran, [{ product_id: 'prem_monthly' }]);
        assert.equal(asked.length, 1);
        const params = asked[0]!.params as { message: string; requestedSchema: { properties: Record<string, unknown>; required: string[] } };
        assert.match(params.message, /delete_product/);
        assert.match(params.message, /prem_monthly/);
        assert.deepEqual(Object.keys(params.requestedSchema.properties).sort(), ['reason', 'resource_id_echo']);
        assert.deepEqual([...params.requestedSchema.required].sort(), ['reason', 'resource_id_echo']);
        const row = (await auditRows(server, { event: 'confirm.run' })).at(-1)!;
        assert.equal(row.resourceId, 'prem_monthly');
        assert.equal(row.reason, 'retired plan');
        assert.deepEqual(row.detail, { via: 'form' });
      });

      it('a wrong echo is GW_CONFIRM_ECHO_MISMATCH and nothing runs', async () => {
        ran.length = 0;
        answerer = () => ({ action: 'accept', content: { resource_id_echo: 'PREM_MONTHLY', reason: 'oops' } });
        const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'prem_monthly' } });
        assert.equal(result.isError, true);
        assert.equal(structuredOf(result)?.error?.code, 'GW_CONFIRM_ECHO_MISMATCH');
        assert.deepEqual(ran, []);
        const row = (await auditRows(server, { event: 'confirm.cancel' })).at(-1)!;
        assert.equal(row.outcome, 'GW_CONFIRM_ECHO_MISMATCH');
        assert.equal(row.resourceId, 'prem_monthly');
      });

      it('a decline is GW_CONFIRM_DECLINED and nothing runs', async () => {
        ran.length = 0;
        answerer = () => ({ action: 'decline' });
        const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'prem_monthly' } });
        assert.equal(result.isError, true);
        assert.equal(structuredOf(result)?.error?.code, 'GW_CONFIRM_DECLINED');
        assert.deepEqual(ran, []);
      });

      it('a cancel is refused too, and nothing runs', async () => {
        ran.length = 0;
        answerer = () => ({ action: 'cancel' });
        const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'prem_monthly' } });
        assert.equal(result.isError, true);
        assert.equal(structuredOf(result)?.error?.code, 'GW_CONFIRM_DECLINED');
        assert.deepEqual(ran, []);
      });
    });
  }

  it('a 2025-03-26 session (no elicitation in that era) gets the token, even if it declares the capability', async () => {
    ran.length = 0;
    const { client, asked } = await sdk1(url, '2025-03-26', () => () => ({ action: 'accept', content: { resource_id_echo: 'p0', reason: 'r' } }));
    try {
      const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'p0' } });
      assert.match(textOfResult(result), /CONFIRMATION REQUIRED/);
      assert.equal(asked.length, 0);
      assert.deepEqual(ran, []);
    } finally {
      await client.close();
    }
  });
});

describe('2026-07-28: the confirmation is an input_required round trip', () => {
  const server = app();
  after(() => server.close());
  const caps = { elicitation: {} };
  const as = (key: string, params: Record<string, unknown> = {}) => ({ headers: { 'x-api-key': key }, capabilities: caps, params });
  const accept = (echo: string, reason = 'retired plan') => ({ 'gangway.confirm': { action: 'accept', content: { resource_id_echo: echo, reason } } });

  async function ask(productId: string, key = 'alice'): Promise<string> {
    const r = await callTool(server, 'delete_product', { product_id: productId }, as(key));
    assert.equal(r.json.result?.resultType, 'input_required', r.text);
    const q = r.json.result.inputRequests['gangway.confirm'];
    assert.equal(q.method, 'elicitation/create');
    assert.deepEqual(Object.keys(q.params.requestedSchema.properties).sort(), ['reason', 'resource_id_echo']);
    assert.match(q.params.message, new RegExp(productId));
    return r.json.result.requestState as string;
  }
  const retry = (productId: string, state: string, answers: Record<string, unknown>, key = 'alice'): Promise<Answer> =>
    callTool(server, 'delete_product', { product_id: productId }, as(key, { requestState: state, inputResponses: answers }));

  it('the retry with the right echo runs the tool; replaying that exact retry is refused and it ran once', async () => {
    ran.length = 0;
    const state = await ask('p1');
    assert.deepEqual(ran, [], 'asking ran nothing');
    const ok = await retry('p1', state, accept('p1'));
    assert.equal(ok.json.result.resultType, 'complete');
    assert.equal(textOf(ok), 'deleted p1', ok.text);
    assertRefused(await retry('p1', state, accept('p1')), 'GW_CONFIRM_NOT_FOUND');
    assert.deepEqual(ran, [{ product_id: 'p1' }]);
  });

  it('a wrong echo or a decline is refused and nothing runs', async () => {
    ran.length = 0;
    assertRefused(await retry('p2', await ask('p2'), accept('P2')), 'GW_CONFIRM_ECHO_MISMATCH');
    assertRefused(await retry('p2', await ask('p2'), { 'gangway.confirm': { action: 'decline' } }), 'GW_CONFIRM_DECLINED');
    assert.deepEqual(ran, []);
  });

  it('a reason of 0 or 257 characters is refused (GW_CONFIRM_REASON) and nothing runs', async () => {
    ran.length = 0;
    for (const reason of ['', 'x'.repeat(257)]) assertRefused(await retry('p3', await ask('p3'), accept('p3', reason)), 'GW_CONFIRM_REASON');
    assert.deepEqual(ran, []);
    assert.equal(textOf(await retry('p3', await ask('p3'), accept('p3', 'y'.repeat(256)))), 'deleted p3');
  });

  it('the retry with other arguments is refused (Invalid requestState) and nothing runs', async () => {
    ran.length = 0;
    const state = await ask('p4');
    const moved = await retry('p4-other', state, accept('p4-other'));
    assert.equal(moved.json.error?.code, -32602, moved.text);
    assert.match(moved.json.error.message, /Invalid requestState/);
    // ...and the original action is still answerable: nothing was consumed by the refusal
    assert.equal(textOf(await retry('p4', state, accept('p4'))), 'deleted p4');
    assert.deepEqual(ran, [{ product_id: 'p4' }]);
  });

  it("another caller cannot use someone's state", async () => {
    ran.length = 0;
    const state = await ask('p5');
    const stolen = await retry('p5', state, accept('p5'), 'bob');
    assert.equal(stolen.json.error?.code, -32602, stolen.text);
    assert.deepEqual(ran, []);
  });

  it('inputResponses keys starting with gangway: are refused (-32602) and nothing runs', async () => {
    ran.length = 0;
    const state = await ask('p6');
    const forged = await retry('p6', state, { ...accept('p6'), 'gangway:confirm': { n: 'forged', t: Date.now() } });
    assert.equal(forged.json.error?.code, -32602, forged.text);
    assert.match(forged.json.error.message, /gangway:/);
    // even on a first call without any state
    const first = await callTool(server, 'delete_product', { product_id: 'p6' }, as('alice', { inputResponses: { 'gangway:confirm': { n: 'x', t: 0 } } }));
    assert.equal(first.json.error?.code, -32602, first.text);
    assert.deepEqual(ran, []);
  });

  // Regression (found by this suite): an answer sent without requestState is accepted and runs the action on
  // the first request, with no single-use record: every replay of that request runs it again.
  it('an answer sent without the requestState runs nothing, however often it is replayed', async () => {
    ran.length = 0;
    const oneShot = () => callTool(server, 'delete_product', { product_id: 'p7' }, as('alice', { inputResponses: accept('p7') }));
    const answers = [await oneShot(), await oneShot(), await oneShot()];
    // The server never asked: the single-use record and the expiry live in the signed state it issues.
    assert.deepEqual(ran, [], answers.map((a) => a.text).join('\n'));
  });

  it('a retry after the TTL is GW_CONFIRM_EXPIRED and nothing runs', async () => {
    ran.length = 0;
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    // Built under the mocked Date: the policy reads the time through it.
    const late = app({ policy: { limits: { perCredential: false }, confirmation: { ttlMs: 10_000 } } });
    try {
      const r = await callTool(late, 'delete_product', { product_id: 'p8' }, as('alice'));
      const state = r.json.result.requestState as string;
      mock.timers.tick(10_001);
      const tooLate = await callTool(late, 'delete_product', { product_id: 'p8' }, as('alice', { requestState: state, inputResponses: accept('p8') }));
      assertRefused(tooLate, 'GW_CONFIRM_EXPIRED');
      assert.deepEqual(ran, []);
    } finally {
      await late.close();
      mock.timers.reset();
    }
  });
});

describe('2026-07-28 with the 2.x client', () => {
  let server: Gangway;
  let client: Client2;
  let answer: ElicitResult = { action: 'decline' };
  const asked: unknown[] = [];
  before(async () => {
    server = app();
    const { url } = await server.listen({ port: 0 });
    client = new Client2({ name: 'policy-client2', version: '1.0.0' }, { capabilities: { elicitation: {} }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params);
      return answer;
    });
    await client.connect(new Transport2(new URL(url), { requestInit: { headers: { 'x-api-key': 'alice' } } }));
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('the client shows the form, the user approves, the tool runs once', async () => {
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    ran.length = 0;
    answer = { action: 'accept', content: { resource_id_echo: 'c2', reason: 'via client 2' } };
    const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'c2' } });
    assert.equal(textOfResult(result), 'deleted c2', JSON.stringify(result));
    assert.deepEqual(ran, [{ product_id: 'c2' }]);
    assert.equal(asked.length, 1);
  });

  it('the user declines: a typed refusal and nothing runs', async () => {
    ran.length = 0;
    answer = { action: 'decline' };
    const result = await client.callTool({ name: 'delete_product', arguments: { product_id: 'c3' } });
    assert.equal(result.isError, true);
    assert.equal(structuredOf(result)?.error?.code, 'GW_CONFIRM_DECLINED');
    assert.deepEqual(ran, []);
  });
});

describe("mode 'token' and mode 'elicitation'", () => {
  it("'token' answers with the token even to a client that can show forms", async () => {
    ran.length = 0;
    const server = app({ policy: { limits: { perCredential: false }, confirmation: { mode: 'token' } } });
    const { url } = await server.listen({ port: 0 });
    const { client, asked } = await sdk1(new URL(url), '2025-11-25', () => () => ({ action: 'accept', content: { resource_id_echo: 't1', reason: 'r' } }));
    try {
      const modern = await callTool(server, 'delete_product', { product_id: 't1' }, { headers: { 'x-api-key': 'alice' }, capabilities: { elicitation: {} } });
      assert.equal(modern.json.result.structuredContent?.status, 'confirmation_required', modern.text);
      const legacy = await client.callTool({ name: 'delete_product', arguments: { product_id: 't1' } });
      assert.equal((legacy.structuredContent as { status?: string } | undefined)?.status, 'confirmation_required');
      assert.equal(asked.length, 0, 'no form was shown');
      assert.deepEqual(ran, []);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("'elicitation' refuses clients that cannot show a form, and registers no confirm tool", async () => {
    ran.length = 0;
    const server = app({ policy: { limits: { perCredential: false }, confirmation: { mode: 'elicitation' } } });
    try {
      const o = { headers: { 'x-api-key': 'alice' } };
      const listed = await modernRequest(server, 'tools/list', {}, o);
      assert.deepEqual(
        listed.json.result.tools.map((t: { name: string }) => t.name),
        ['delete_product'],
      );
      assertRefused(await callTool(server, 'delete_product', { product_id: 'e1' }, o), 'GW_CONFIRM_UNSUPPORTED');
      const old = await legacySession(server, '2025-03-26', { ...o, capabilities: { elicitation: {} } });
      const r = await old.call('delete_product', { product_id: 'e1' });
      assert.equal(r.json.result.isError, true);
      assert.match(textOf(r), /GW_CONFIRM_UNSUPPORTED/);
      const confirm = await callTool(server, 'confirm_destructive_action', { token: 'x', resource_id_echo: 'e1', reason: 'r' }, o);
      assert.equal(confirm.json.error?.code, -32602, confirm.text);
      assert.match(confirm.json.error.message, /Unknown tool/);
      // A capable client still gets the form.
      const form = await callTool(server, 'delete_product', { product_id: 'e1' }, { ...o, capabilities: { elicitation: {} } });
      assert.equal(form.json.result.resultType, 'input_required');
      assert.deepEqual(ran, []);
      const refused = (await auditRows(server, { event: 'confirm.cancel' })).map((row) => row.outcome);
      assert.deepEqual(refused, ['GW_CONFIRM_UNSUPPORTED', 'GW_CONFIRM_UNSUPPORTED']);
    } finally {
      await server.close();
    }
  });
});
