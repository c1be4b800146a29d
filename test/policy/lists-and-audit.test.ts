import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defineTool, type Gangway, type GangwayConfig, type Principal, ToolError } from '../../src/index.ts';
import { MemoryStore } from '../../src/store/index.ts';
import type { AuditLog, AuditRecord } from '../../src/store/types.ts';
import { type Answer, auditRows, callTool, capturedLogger, keyAuth, legacySession, modernRequest, policyApp, principal, textOf } from './helpers.ts';

/**
 * `policy.toolsList: "permitted"`: a caller sees the tools it may call and no other (anonymous
 * callers, the anonymous ones). And the audit log of ordinary calls: one row per tools/call,
 * resources/read and prompts/get, with who, what, a digest of the arguments and the outcome.
 */

const noop = (name: string) => () => `${name} ok`;
const tools = [
  defineTool({ name: 'a_read', scopes: ['a:read'], handler: noop('a_read') }),
  defineTool({ name: 'a_write', scopes: ['a:write'], handler: noop('a_write') }),
  defineTool({ name: 'a_delete', scopes: ['a:write'], destructive: true, input: { type: 'object', properties: { id: { type: 'string' } } }, handler: noop('a_delete') }),
  defineTool({ name: 'b_read', scopes: ['b:read'], handler: noop('b_read') }),
  defineTool({ name: 'any_caller', handler: noop('any_caller') }),
  defineTool({ name: 'public_status', anonymous: true, handler: noop('public_status') }),
];
const ALL = ['a_read', 'a_write', 'a_delete', 'b_read', 'any_caller', 'public_status', 'confirm_destructive_action'];
const keys: Record<string, Principal> = {
  reader: principal('rita', 'acme', { scopes: ['a:read'] }),
  writer: principal('walt', 'acme', { scopes: ['a:read', 'a:write'] }),
  everything: principal('eve', 'acme', { scopes: ['b:read', 'a:write', 'a:read'] }),
};
const who = (key?: string) => (key ? { headers: { 'x-api-key': key } } : {});

async function listNames(app: Gangway, key?: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const r = await modernRequest(app, 'tools/list', cursor ? { cursor } : {}, who(key));
    assert.equal(r.status, 200, r.text);
    names.push(...r.json.result.tools.map((t: { name: string }) => t.name));
    cursor = r.json.result.nextCursor;
    if (!cursor) break;
  }
  return names;
}

describe("toolsList: 'permitted'", () => {
  let app: Gangway;
  before(() => {
    app = policyApp({ tools, authenticate: keyAuth(keys), policy: { toolsList: 'permitted' } });
  });
  after(() => app.close());

  it('a caller sees only the tools its scopes allow; anonymous sees only anonymous tools', async () => {
    // Asked in an order that would show a list cached for the wrong caller.
    assert.deepEqual(await listNames(app), ['public_status']);
    assert.deepEqual(await listNames(app, 'reader'), ['a_read', 'any_caller', 'public_status', 'confirm_destructive_action']);
    assert.deepEqual(await listNames(app, 'writer'), ['a_read', 'a_write', 'a_delete', 'any_caller', 'public_status', 'confirm_destructive_action']);
    assert.deepEqual(await listNames(app), ['public_status']);
    assert.deepEqual(await listNames(app, 'everything'), ALL);
    assert.deepEqual(await listNames(app, 'reader'), ['a_read', 'any_caller', 'public_status', 'confirm_destructive_action']);
  });

  it('the same in a 2025 session', async () => {
    const s = await legacySession(app, '2025-11-25', who('reader'));
    const r = await s.request('tools/list');
    assert.deepEqual(
      r.json.result.tools.map((t: { name: string }) => t.name),
      ['a_read', 'any_caller', 'public_status', 'confirm_destructive_action'],
    );
    const anon = await legacySession(app, '2025-06-18');
    const a = await anon.request('tools/list');
    assert.deepEqual(
      a.json.result.tools.map((t: { name: string }) => t.name),
      ['public_status'],
    );
  });

  it('what is listed is exactly what may be called', async () => {
    for (const key of [undefined, 'reader', 'writer']) {
      const listed = new Set(await listNames(app, key));
      for (const name of ALL) {
        const args = name === 'confirm_destructive_action' ? { token: 'x', resource_id_echo: 'y', reason: 'z' } : {};
        const r = await callTool(app, name, args, who(key));
        if (listed.has(name)) assert.equal(r.status, 200, `${key} may call listed ${name}: ${r.text}`);
        else assert.ok(r.status === 401 || r.status === 403, `${key} may not call unlisted ${name}: ${r.status}`);
      }
    }
  });

  it('pages of a filtered list hold the same tools, page by page', async () => {
    const paged = policyApp({ tools, authenticate: keyAuth(keys), policy: { toolsList: 'permitted' }, lists: { pageSize: 2 } });
    try {
      assert.deepEqual(await listNames(paged, 'reader'), ['a_read', 'any_caller', 'public_status', 'confirm_destructive_action']);
      assert.deepEqual(await listNames(paged), ['public_status']);
      assert.deepEqual(await listNames(paged, 'everything'), ALL);
    } finally {
      await paged.close();
    }
  });

  // Regression (found by this suite): a list that depends on the caller is sent with cacheScope "public",
  // which lets a shared cache (a gateway) serve one caller's list to another (SEP-2549).
  it('a filtered 2026-07-28 list is marked private to the caller', async () => {
    const r = await modernRequest(app, 'tools/list', {}, who('writer'));
    assert.equal(r.json.result.cacheScope, 'private', r.text.slice(0, 300));
  });
});

describe("toolsList: 'all' (default)", () => {
  it('lists every tool to every caller, anonymous included', async () => {
    const app = policyApp({ tools, authenticate: keyAuth(keys) });
    try {
      assert.deepEqual(await listNames(app), ALL);
      assert.deepEqual(await listNames(app, 'reader'), ALL);
      // listed is not callable: the scope check still holds
      assert.equal((await callTool(app, 'b_read', {}, who('reader'))).status, 403);
    } finally {
      await app.close();
    }
  });
});

describe('the audit log of ordinary calls', () => {
  const caller = principal('ann', 'acme', { client: 'key-123', scopes: ['notes:read'] });
  let app: Gangway;
  before(() => {
    app = policyApp(auditConfig({}));
  });
  after(() => app.close());

  function auditConfig(extra: Partial<GangwayConfig>): Partial<GangwayConfig> {
    return {
      authenticate: keyAuth({ ann: caller }),
      tools: [
        defineTool({
          name: 'search_notes',
          scopes: ['notes:read'],
          input: { type: 'object', properties: { q: { type: 'string' }, limit: { type: 'integer' } } },
          handler: ({ q }: { q: string }) => `found ${q}`,
        }),
        defineTool({
          name: 'refuse',
          handler: () => {
            throw new ToolError('no such note');
          },
        }),
        defineTool({
          name: 'crash',
          handler: () => {
            throw new Error('bug');
          },
        }),
      ],
      resources: [{ uri: 'notes://readme', name: 'readme', scopes: ['notes:read'], read: () => 'hello' }],
      resourceTemplates: [{ uriTemplate: 'notes://n/{id}', name: 'note', read: (_u, v) => (v.id === 'missing' ? null : `note ${String(v.id)}`) }],
      prompts: [{ name: 'summarize', arguments: [{ name: 'topic', required: true }], get: (a) => `Summarize ${a.topic}` }],
      ...extra,
    };
  }
  const ann = who('ann');
  const newRows = async (since: number): Promise<AuditRecord[]> => (await auditRows(app)).filter((r) => r.seq > since);
  const lastSeq = async () => (await auditRows(app)).at(-1)?.seq ?? 0;

  it('one tool.call row per call: who, tool, digest, arguments, outcome and latency', async () => {
    const since = await lastSeq();
    const r: Answer = await callTool(app, 'search_notes', { q: 'budget', limit: 5 }, { ...ann, id: 'req-77' });
    assert.equal(textOf(r), 'found budget');
    const rows = await newRows(since);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const row = rows[0]!;
    assert.equal(row.event, 'tool.call');
    assert.equal(row.outcome, 'ok');
    assert.equal(row.subject, 'ann');
    assert.equal(row.tenant, 'acme');
    assert.equal(row.client, 'key-123');
    assert.equal(row.via, 'custom');
    assert.equal(row.tool, 'search_notes');
    assert.deepEqual(row.args, { q: 'budget', limit: 5 });
    assert.equal(row.requestId, 'req-77');
    assert.equal(typeof row.latencyMs, 'number');
    assert.ok(row.latencyMs! >= 0);
    assert.match(row.argsDigest ?? '', /^[A-Za-z0-9_-]{43}$/);
    // the digest identifies the arguments: the same call digests the same, another does not
    await callTool(app, 'search_notes', { q: 'budget', limit: 5 }, ann);
    await callTool(app, 'search_notes', { q: 'budgets', limit: 5 }, ann);
    const [, same, other] = await newRows(since);
    assert.equal(same!.argsDigest, row.argsDigest);
    assert.notEqual(other!.argsDigest, row.argsDigest);
  });

  it('a tool error and a crashing handler are recorded with outcome error', async () => {
    const since = await lastSeq();
    await callTool(app, 'refuse', {}, ann);
    await callTool(app, 'crash', {}, ann);
    const rows = await newRows(since);
    assert.deepEqual(
      rows.map((r) => [r.event, r.tool, r.outcome]),
      [
        ['tool.call', 'refuse', 'error'],
        ['tool.call', 'crash', 'error'],
      ],
    );
  });

  it('refused by validation before running: no row claims it ran', async () => {
    const since = await lastSeq();
    const noScope = await callTool(app, 'search_notes', { q: 1 }, ann);
    assert.equal(noScope.json.result?.isError, true, 'a validation error');
    const rows = await newRows(since);
    assert.ok(rows.every((r) => r.outcome !== 'ok'), JSON.stringify(rows));
  });

  it('refused by validation: one invalid_arguments row per caller, tool and minute, however often retried', async () => {
    // The test above was refused already (same caller and tool); five more within the minute add nothing.
    for (let i = 0; i < 5; i++) await callTool(app, 'search_notes', { q: 2, limit: 'x' }, ann);
    // The row is written in the background (it answers nothing): give it its commit.
    await new Promise((r) => setTimeout(r, 50));
    const rows = (await auditRows(app)).filter((r) => r.outcome === 'invalid_arguments');
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]!.tool, 'search_notes');
    assert.equal(rows[0]!.event, 'tool.call');
  });

  it('a call to a tool that does not exist: one unknown_tool row per caller, name and minute, the name as the target', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await callTool(app, 'drop_all_tables', {}, ann);
      assert.match(JSON.stringify(r.json), /Unknown tool: drop_all_tables/);
    }
    await new Promise((r) => setTimeout(r, 50));
    const rows = (await auditRows(app)).filter((r) => r.outcome === 'unknown_tool');
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]!.event, 'tool.call');
    assert.equal(rows[0]!.tool, null);
    assert.equal(rows[0]!.resourceId, 'drop_all_tables');
  });

  it('an audit row that cannot be written turns the answer into an error, logged without the arguments', async () => {
    const store = new MemoryStore();
    (store as unknown as { audit: AuditLog }).audit = {
      ...store.audit,
      append: () => Promise.reject(new Error('disk full')),
    };
    const { logger, lines } = capturedLogger();
    const failing = policyApp(auditConfig({ store, logger }));
    try {
      const a = await callTool(failing, 'search_notes', { q: 'secret-plan' }, ann);
      assert.equal(a.json.result, undefined, 'no result is sent without its audit row');
      assert.equal(a.json.error.code, -32603);
      assert.match(a.json.error.message, /could not be recorded in the audit log/);
      const logged = lines.filter((l) => l.includes('audit record not written'));
      assert.equal(logged.length, 1);
      assert.match(logged[0]!, /"tool":"search_notes"/);
      assert.ok(!logged[0]!.includes('secret-plan'), 'the log line names the call, not its arguments');
    } finally {
      await failing.close();
    }
  });

  it('resources/read and prompts/get leave resource.read and prompt.get rows', async () => {
    const since = await lastSeq();
    const read = await modernRequest(app, 'resources/read', { uri: 'notes://readme' }, ann);
    assert.equal(read.json.result.contents[0].text, 'hello', read.text);
    await modernRequest(app, 'resources/read', { uri: 'notes://n/42' }, ann);
    await modernRequest(app, 'resources/read', { uri: 'notes://n/missing' }, ann);
    const prompt = await modernRequest(app, 'prompts/get', { name: 'summarize', arguments: { topic: 'Q3' } }, ann);
    assert.match(JSON.stringify(prompt.json.result.messages), /Summarize Q3/);
    const rows = await newRows(since);
    assert.deepEqual(
      rows.map((r) => [r.event, r.resourceId, r.outcome, r.subject, r.tenant]),
      [
        ['resource.read', 'notes://readme', 'ok', 'ann', 'acme'],
        ['resource.read', 'notes://n/42', 'ok', 'ann', 'acme'],
        ['resource.read', 'notes://n/missing', 'error', 'ann', 'acme'],
        ['prompt.get', 'summarize', 'ok', 'ann', 'acme'],
      ],
    );
  });

  it('calls in a 2025 session carry a short session reference', async () => {
    const s = await legacySession(app, '2025-11-25', ann);
    const since = await lastSeq();
    await s.call('search_notes', { q: 'x' });
    const [row] = await newRows(since);
    assert.deepEqual(row!.detail, { session: s.id.slice(0, 8) });
  });

  it('audit: false writes no rows', async () => {
    const quiet = policyApp(auditConfig({ policy: { audit: false } }));
    try {
      assert.equal(textOf(await callTool(quiet, 'search_notes', { q: 'a' }, ann)), 'found a');
      await callTool(quiet, 'refuse', {}, ann);
      await modernRequest(quiet, 'resources/read', { uri: 'notes://readme' }, ann);
      assert.deepEqual(await auditRows(quiet), []);
    } finally {
      await quiet.close();
    }
  });
});
