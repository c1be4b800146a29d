import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Gangway } from '../../src/index.ts';
import type { AuditEntry, AuditRecord, Store } from '../../src/store/types.ts';
import { testApp } from '../helpers/http.ts';
import { Agent, type Page } from './web.ts';

const ADA = 'ada@example.com';
const BOB = 'bob@example.com';

const apps: Gangway[] = [];
after(() => Promise.all(apps.map((a) => a.close())));

/** An app, a browser signed in as Ada (tenant ada@example.com), and a way to write audit records. */
async function setup() {
  const app = testApp({ auth: { scopes: { 'items:read': 'Read items' } } });
  apps.push(app);
  const agent = new Agent(app);
  await agent.signIn(ADA);
  const { store } = await app.stores();
  return { app, agent, store, append: (entries: AuditEntry[]) => store.audit.appendMany(entries) };
}

/**
 * What the page should show: the store's own records of Ada's tenant, newest first. Other
 * parts of the app (the sign-in itself) may write records too: they belong to the tenant.
 */
async function expected(store: Store, keep: (r: AuditRecord) => boolean = () => true): Promise<number[]> {
  return (await store.audit.query({ tenant: ADA, order: 'desc', limit: 1000 })).filter(keep).map((r) => r.seq);
}

/** The seq of each row shown, in page order. */
const seqs = (p: Page) => [...p.text.matchAll(/<tr data-seq="(\d+)">/g)].map((m) => Number(m[1]));
/** The "Older" link, unescaped as a browser would. */
const older = (p: Page) => /<a href="([^"]+)" rel="next">Older<\/a>/.exec(p.text)?.[1]?.replaceAll('&amp;', '&');

describe('Settings -> Audit log', () => {
  it('sends a browser that is not signed in to sign in first, then back', async () => {
    const app = testApp({ auth: {} });
    apps.push(app);
    const agent = new Agent(app);
    const res = await agent.get('/settings/audit?tool=read_items');
    assert.equal(res.status, 303);
    assert.equal(res.location, `/signin?return_to=${encodeURIComponent('/settings/audit?tool=read_items')}`);
    assert.doesNotMatch(res.text, /audit/i);
    const signedIn = await agent.signIn(ADA, '/settings/audit?tool=read_items');
    assert.equal(signedIn.location, '/settings/audit?tool=read_items');
    assert.equal((await agent.get(signedIn.location!)).status, 200);
  });

  it("shows the user's own tenant only, newest first, with the page's security headers", async () => {
    const { agent, store, append } = await setup();
    const r = await append([
      { event: 'tool.call', outcome: 'ok', subject: ADA, tenant: ADA, via: 'api-key', client: 'key-1', tool: 'read_items', latencyMs: 12, args: { id: 'a1' }, resourceId: 'item-a1' },
      { event: 'tool.call', outcome: 'ok', subject: BOB, tenant: BOB, via: 'oauth', tool: 'read_items', resourceId: 'bob-private-item', reason: 'bob reason' },
      { event: 'auth.key.create', outcome: 'ok', subject: 'colleague', tenant: ADA, via: 'ui', resourceId: 'key-2' },
      { event: 'tool.call', outcome: 'denied', subject: BOB, tenant: BOB, tool: 'delete_items', resourceId: 'bob-other' },
      { event: 'tool.call', outcome: 'ok', tenant: null, tool: 'read_items', resourceId: 'anonymous-item' },
    ]);
    const page = await agent.get('/settings/audit');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.text, /tenant <code>ada@example\.com<\/code>/);
    const own = await expected(store);
    assert.deepEqual(seqs(page), own, 'the tenant\'s records, newest first');
    assert.deepEqual(own.slice(0, 2), [r[2]!.seq, r[0]!.seq], 'from every subject in the tenant');
    for (const i of [1, 3, 4]) assert.ok(!own.includes(r[i]!.seq));
    assert.match(page.text, /<td>api-key \/ key-1<\/td><td><code>read_items<\/code><\/td><td><code>item-a1<\/code><\/td><td class="muted">-<\/td><td>12 ms<\/td><td><code>\{&quot;id&quot;:&quot;a1&quot;\}<\/code><\/td>/);
    for (const other of ['bob-private-item', 'bob reason', 'bob-other', 'delete_items', 'anonymous-item', BOB]) {
      assert.ok(!page.text.includes(other), `nothing of another tenant: ${other}`);
    }
    // No query parameter reaches another tenant's records.
    const sneaky = await agent.get(`/settings/audit?tenant=${encodeURIComponent(BOB)}&subject=${encodeURIComponent(BOB)}`);
    assert.deepEqual(seqs(sneaky), own);
    // Linked from the tokens page, and back.
    assert.match((await agent.get('/settings/tokens')).text, /<a href="\/settings\/audit">Audit log<\/a>/);
    assert.match(page.text, /<a href="\/settings\/tokens">API tokens<\/a>/);
  });

  it('filters by tool, event and outcome, keeping the filters in the form', async () => {
    const { agent, store, append } = await setup();
    const [a, b, c, d] = (await append([
      { event: 'tool.call', outcome: 'ok', tenant: ADA, tool: 'read_items' },
      { event: 'tool.call', outcome: 'denied', tenant: ADA, tool: 'write_items' },
      { event: 'confirm.run', outcome: 'ok', tenant: ADA, tool: 'write_items' },
      { event: 'tool.call', outcome: 'rate_limited', tenant: ADA, tool: 'read_items' },
      { event: 'tool.call', outcome: 'denied', tenant: BOB, tool: 'write_items' },
    ])).map((x) => x.seq);
    assert.deepEqual(seqs(await agent.get('/settings/audit?tool=write_items')), [c, b]);
    assert.deepEqual(seqs(await agent.get('/settings/audit?event=tool.call')), [d, b, a]);
    assert.deepEqual(seqs(await agent.get('/settings/audit?outcome=denied')), [b], 'not the other tenant\'s denied call');
    const both = await agent.get('/settings/audit?tool=read_items&event=tool.call&outcome=rate_limited');
    assert.deepEqual(seqs(both), [d]);
    assert.match(both.text, /name="tool" maxlength="200" value="read_items"/);
    assert.match(both.text, /name="outcome" maxlength="200" value="rate_limited"/);
    assert.match(both.text, /<a href="\/settings\/audit">Clear<\/a>/);
    const none = await agent.get('/settings/audit?tool=nothing');
    assert.deepEqual(seqs(none), []);
    assert.match(none.text, /No records yet\./);
    // Empty fields (what a submitted form sends) mean "any".
    const all = await expected(store);
    assert.deepEqual(all.slice(0, 4), [d, c, b, a]);
    assert.deepEqual(seqs(await agent.get('/settings/audit?tool=&event=&outcome=')), all);
  });

  it('escapes everything a record holds, and cuts long arguments', async () => {
    const { agent, append } = await setup();
    const evil = '<script>alert(1)</script><img src=x onerror="alert(2)">';
    await append([
      {
        event: evil,
        outcome: evil,
        subject: evil,
        tenant: ADA,
        via: evil,
        client: evil,
        tool: evil,
        resourceId: evil,
        reason: evil,
        args: { note: evil, long: 'x'.repeat(500) },
      },
    ]);
    const page = await agent.get(`/settings/audit?tool=${encodeURIComponent(evil)}`);
    assert.equal(page.status, 200);
    assert.equal(seqs(page).length, 1);
    assert.ok(!page.text.includes('<script>alert') && !page.text.includes('<img src=x'), 'no live markup');
    assert.ok(page.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;'));
    assert.match(page.text, /value="&lt;script&gt;alert\(1\)/, 'the filter echoed into the form, escaped');
    const args = /<td><code>(\{[^<]*)<\/code><\/td><\/tr>/.exec(page.text)![1]!;
    assert.ok(args.endsWith('…'));
    assert.ok(!args.includes('x'.repeat(250)), 'cut to about 200 characters');
    assert.ok(args.startsWith('{&quot;note&quot;:&quot;&lt;script&gt;'));
  });

  it('pages through 120 records 50 at a time with an "Older" link, also when filtering by outcome', async () => {
    const { agent, store, append } = await setup();
    await append(
      Array.from({ length: 130 }, (_, i) => ({ event: 'tool.call', outcome: i % 2 ? 'ok' : 'denied', tenant: i % 13 === 12 ? BOB : ADA, tool: 'read_items' })),
    );
    const own = await expected(store);
    assert.ok(own.length >= 120 && own.length <= 150, `120 of Ada's records, and the sign-in's (${own.length})`);
    const first = await agent.get('/settings/audit');
    assert.deepEqual(seqs(first), own.slice(0, 50));
    assert.equal(older(first), `/settings/audit?before=${own[49]}`);
    assert.doesNotMatch(first.text, />Newest</);
    const second = await agent.get(older(first)!);
    assert.deepEqual(seqs(second), own.slice(50, 100));
    assert.match(second.text, /<a href="\/settings\/audit">Newest<\/a>/);
    const third = await agent.get(older(second)!);
    assert.deepEqual(seqs(third), own.slice(100));
    assert.equal(older(third), undefined, 'nothing older');

    // Outcome is filtered by the page, not the store: the pages still hold 50 and link on.
    const denied = await expected(store, (r) => r.outcome === 'denied');
    assert.ok(denied.length > 50 && denied.length < 100, String(denied.length));
    const d1 = await agent.get('/settings/audit?outcome=denied');
    assert.deepEqual(seqs(d1), denied.slice(0, 50));
    assert.equal(older(d1), `/settings/audit?outcome=denied&before=${denied[49]}`);
    const d2 = await agent.get(older(d1)!);
    assert.deepEqual(seqs(d2), denied.slice(50));
    assert.equal(older(d2), undefined);
    assert.deepEqual(seqs(await agent.get(`/settings/audit?before=${Math.min(...own)}`)), []);
  });

  it('bounds the work of one page: a rare outcome is searched 10,000 records at a time', async () => {
    const { agent, append } = await setup();
    const [rare] = await append([{ event: 'tool.call', outcome: 'error', tenant: ADA, reason: 'the rare one' }]);
    const bulk = await append(Array.from({ length: 10_500 }, () => ({ event: 'tool.call', outcome: 'ok', tenant: ADA })));
    const first = await agent.get('/settings/audit?outcome=error');
    assert.deepEqual(seqs(first), []);
    assert.match(first.text, /Searched 10,000 records without filling the page/);
    assert.equal(older(first), `/settings/audit?outcome=error&before=${bulk.at(-10_000)!.seq}`);
    const next = await agent.get(older(first)!);
    assert.deepEqual(seqs(next), [rare!.seq]);
    assert.match(next.text, /the rare one/);
    assert.equal(older(next), undefined);
  });

  it('refuses a bad cursor or filter with 400 and a writing method with 405', async () => {
    const { agent, append } = await setup();
    await append([{ event: 'tool.call', outcome: 'ok', tenant: ADA }]);
    for (const q of ['before=abc', 'before=-1', 'before=0', 'before=99999999999999999', `tool=${'t'.repeat(201)}`, 'event=a%00b']) {
      const p = await agent.get(`/settings/audit?${q}`);
      assert.equal(p.status, 400, q);
      assert.match(p.text, /class="error"/, q);
      assert.deepEqual(seqs(p), [], q);
    }
    const post = await agent.post('/settings/audit', { tool: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  });
});
