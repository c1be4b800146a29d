import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineTool, type Gangway } from '../../src/index.ts';
import { mcpRequest, META, MODERN, post, postStreaming, sseMessages, testApp } from '../helpers/http.ts';

/**
 * SECURITY 6 (CVE-2026-25536): an answer never reaches another caller, even when their JSON-RPC
 * ids collide. Every caller below uses id 1 at the same moment: the tool holds each call until all
 * of them run, so the answers are in flight together. Then the server's own requests: a client
 * that answers an elicitation id it was never sent settles nothing.
 */

const CALLERS = 6;
let arrived: string[] = [];
let open: () => void = () => undefined;
let gate = new Promise<void>((resolve) => (open = resolve));

const app: Gangway = testApp({
  tools: [
    defineTool<{ who: string }>({
      name: 'hold',
      input: { type: 'object', properties: { who: { type: 'string' } }, required: ['who'] },
      handler: async ({ who }) => {
        arrived.push(who);
        if (arrived.length === CALLERS) open();
        await gate;
        return `for ${who}`;
      },
    }),
    defineTool({
      name: 'ask',
      handler: async (_args, ctx) => {
        const r = await ctx.elicit({ message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } });
        return `hello ${String(r.content?.name)}`;
      },
    }),
  ],
});
let url: string;
before(async () => {
  const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${port}/mcp`;
});
after(() => app.close());

/** The JSON-RPC message of an answer, JSON or a one-message SSE stream. */
function message(text: string): { id: unknown; result?: { content: Array<{ text: string }> } } {
  const data = /^data: ?(.*)$/m.exec(text)?.[1];
  return JSON.parse(data ?? text);
}

/** One POST through the fetch face (in-process) or the node:http face (a listening server). */
async function send(face: 'fetch' | 'node', body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = face === 'fetch' ? await app.fetch(mcpRequest(body, headers)) : await fetch(mcpRequest(body, headers, false, url));
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const initialize = (capabilities: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 't', version: '1' } },
});

describe('colliding JSON-RPC ids (SECURITY 6)', () => {
  for (const face of ['fetch', 'node'] as const) {
    it(`${face}: six callers send id 1 at once (three sessions, three stateless 2026 requests); each gets its own answer`, { timeout: 20_000 }, async () => {
      arrived = [];
      gate = new Promise<void>((resolve) => (open = resolve));
      const sessions = await Promise.all([0, 1, 2].map(async () => {
        const r = await send(face, initialize());
        return { 'mcp-session-id': r.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
      }));
      const call = (who: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'hold', arguments: { who } } });
      const answers = await Promise.all([
        ...sessions.map((h, i) => send(face, call(`session ${i}`), h)),
        ...[0, 1, 2].map((i) =>
          send(face, { ...call(`stateless ${i}`), params: { ...call('').params, arguments: { who: `stateless ${i}` }, _meta: META } }, {
            'mcp-protocol-version': MODERN,
            'mcp-method': 'tools/call',
            'mcp-name': 'hold',
          }),
        ),
      ]);
      assert.equal(arrived.length, CALLERS, 'all six ran at once');
      const expected = [0, 1, 2].map((i) => `session ${i}`).concat([0, 1, 2].map((i) => `stateless ${i}`));
      for (const [i, a] of answers.entries()) {
        assert.equal(a.status, 200, a.text);
        const m = message(a.text);
        assert.equal(m.id, 1);
        assert.equal(m.result!.content[0]!.text, `for ${expected[i]}`);
      }
    });
  }

  it("a session's answer to an elicitation id another session was sent settles nothing; the right answer still does", { timeout: 20_000 }, async () => {
    const ids = async () => {
      const r = await post(app, initialize({ elicitation: {} }));
      return { 'mcp-session-id': r.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    };
    const [asker, intruder] = await Promise.all([ids(), ids()]);
    const next = sseMessages(await postStreaming(app, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask' } }, asker));
    const asked = await next();
    assert.equal(asked.method, 'elicitation/create');

    const stolen = await post(app, { jsonrpc: '2.0', id: asked.id, result: { action: 'accept', content: { name: 'Mallory' } } }, intruder);
    assert.equal(stolen.status, 202, 'acknowledged, as every response a client posts is (MCP: 202 for responses)');
    const mine = await post(app, { jsonrpc: '2.0', id: asked.id, result: { action: 'accept', content: { name: 'Ada' } } }, asker);
    assert.equal(mine.status, 202);
    const result = (await next()) as { id: number; result: { content: Array<{ text: string }> } };
    assert.equal(result.id, 1);
    assert.equal(result.result.content[0]!.text, 'hello Ada', "the intruder's answer did not settle it");
  });
});
