import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { defineTool, type Gangway, type Principal } from '../../src/index.ts';
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
  textOf,
} from './helpers.ts';

/**
 * Destructive tools, token mode (seed 000, SECURITY 34): the first call parks the action and
 * answers a message for the human operator with the Resource id and a single-use token;
 * confirm_destructive_action(token, resource_id_echo, reason) runs it once. Every refusal is
 * checked to have run nothing, and no audit row or log line may hold a token.
 */

interface Ran {
  tool: string;
  args: Record<string, unknown>;
  who: Principal;
}
const ran: Ran[] = [];
const record = (tool: string) => (args: Record<string, unknown>, ctx: { principal: Principal }) => {
  ran.push({ tool, args, who: ctx.principal });
  return `${tool} done`;
};

const tools = [
  defineTool({
    name: 'delete_product',
    destructive: true,
    input: { type: 'object', properties: { product_id: { type: 'string' }, note: { type: 'string' } }, required: ['product_id'] },
    handler: record('delete_product'),
  }),
  defineTool({
    name: 'delete_customer',
    destructive: true,
    resourceId: 'customer',
    input: { type: 'object', properties: { customer: { type: 'string' }, gdpr: { type: 'boolean' } }, required: ['customer'] },
    handler: record('delete_customer'),
  }),
  defineTool({
    name: 'detach_experiment_user',
    destructive: true,
    resourceId: (a: { experiment: string; user: string }) => `${a.experiment}:${a.user}`,
    input: { type: 'object', properties: { experiment: { type: 'string' }, user: { type: 'string' } }, required: ['experiment', 'user'] },
    handler: record('detach_experiment_user'),
  }),
  defineTool({
    name: 'delete_segment',
    destructive: true,
    input: { type: 'object', properties: { id: { type: 'string' }, segment_id: { type: 'string' } }, required: ['id'] },
    handler: record('delete_segment'),
  }),
  defineTool({
    name: 'revoke_user_entitlement',
    destructive: true,
    input: {
      type: 'object',
      properties: { userId: { type: 'string' }, label: { type: 'string' }, entitlement_id: { type: 'string' } },
      required: ['userId', 'entitlement_id'],
    },
    handler: record('revoke_user_entitlement'),
  }),
  defineTool({
    name: 'delete_broken',
    destructive: true,
    input: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    handler: () => {
      throw new Error('upstream exploded');
    },
  }),
  defineTool({ name: 'regenerate_project_secret', destructive: true, handler: record('regenerate_project_secret') }),
  defineTool({
    name: 'delete_scoped',
    destructive: true,
    scopes: ['products:write'],
    input: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    handler: record('delete_scoped'),
  }),
];

const ALICE = principal('alice', 'acme', { scopes: ['products:write'] });
const keys: Record<string, Principal> = {
  alice: ALICE,
  // Same subject and tenant, another client (key): another principal.
  'alice-2': principal('alice', 'acme', { client: 'key-alice-laptop', scopes: ['products:write'] }),
  // Same subject and key id, but another tenant, or resolved another way.
  'alice-globex': principal('alice', 'globex', { scopes: ['products:write'] }),
  'alice-via-key': principal('alice', 'acme', { via: 'api-key', scopes: ['products:write'] }),
  bob: principal('bob', 'acme', { scopes: ['products:write'] }),
  carol: principal('carol', 'globex', { scopes: ['products:write'] }),
  // Alice's own identity with a narrowed grant: the same principal key, fewer scopes.
  'alice-narrowed': principal('alice', 'acme', { scopes: [] }),
};
const as = (key: string) => ({ headers: { 'x-api-key': key } });

const { logger, lines } = capturedLogger();
let app: Gangway;
/** Every token handed out, to search the audit log and the logs for them at the end. */
const tokens: string[] = [];

before(() => {
  // The default 60 calls a minute per credential would cut this file short: limits are tested elsewhere.
  app = policyApp({ tools, authenticate: keyAuth(keys), logger, policy: { limits: { perCredential: false } } });
});
after(() => app.close());

async function park(tool: string, args: Record<string, unknown>, key = 'alice'): Promise<{ answer: Answer; token: string; resourceId: string }> {
  const answer = await callTool(app, tool, args, as(key));
  assert.equal(answer.status, 200, answer.text);
  const sc = answer.json.result?.structuredContent;
  assert.equal(sc?.status, 'confirmation_required', answer.text);
  tokens.push(sc.token);
  return { answer, token: sc.token, resourceId: sc.resourceId };
}

const confirm = (token: string, echo: string, reason = 'customer asked for it', key = 'alice', extra: Record<string, unknown> = {}) =>
  callTool(app, 'confirm_destructive_action', { token, resource_id_echo: echo, reason, ...extra }, as(key));

describe('the first call of a destructive tool', () => {
  it('does not run: it answers the pending action, addressed to the human operator, with a token', async () => {
    ran.length = 0;
    const before = Date.now();
    const { answer, token } = await park('delete_product', { product_id: 'prem_monthly' });
    assert.equal(ran.length, 0, 'the handler did not run');
    const result = answer.json.result;
    assert.equal(result.isError, undefined, 'a pending action is not an error');
    const text = textOf(answer);
    assert.match(text, /human operator/);
    assert.match(text, /Pending action: delete_product/);
    assert.match(text, /^Resource id: prem_monthly$/m);
    assert.ok(text.includes(token), 'the token is in the message the operator reads');
    assert.match(text, /confirm_destructive_action/);
    assert.deepEqual(Object.keys(result.structuredContent).sort(), ['action', 'confirmWith', 'expiresAt', 'resourceId', 'status', 'token']);
    assert.equal(result.structuredContent.action, 'delete_product');
    assert.equal(result.structuredContent.resourceId, 'prem_monthly');
    assert.equal(result.structuredContent.confirmWith, 'confirm_destructive_action');
    // 5 minutes by default (seed 000)
    const expires = Date.parse(result.structuredContent.expiresAt);
    assert.ok(expires >= before + 300_000 - 1000 && expires <= Date.now() + 300_000 + 1000, result.structuredContent.expiresAt);
    assert.ok(token.length >= 32, 'a token of at least 128 bits');
  });

  it('names the Resource id from the resourceId option, `id`, the arguments ending in id, else the tool', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['delete_customer', { customer: 'cus_42', gdpr: true }, 'cus_42'],
      ['detach_experiment_user', { experiment: 'exp7', user: 'u9' }, 'exp7:u9'],
      // `id` wins over other *_id arguments
      ['delete_segment', { id: 'seg_1', segment_id: 'other' }, 'seg_1'],
      // several arguments ending in id, in schema order, joined by '/'
      ['revoke_user_entitlement', { entitlement_id: 'ent_3', label: 'x', userId: 'user_5' }, 'user_5/ent_3'],
      ['regenerate_project_secret', {}, 'regenerate_project_secret'],
    ];
    for (const [tool, args, want] of cases) {
      const { answer, resourceId } = await park(tool, args);
      assert.equal(resourceId, want, tool);
      assert.match(textOf(answer), new RegExp(`^Resource id: ${want}$`, 'm'), tool);
    }
  });

  it('is shaped for the era: structuredContent from 2025-06-18, text only in 2025-03-26', async () => {
    ran.length = 0;
    for (const version of ['2025-06-18', '2025-11-25']) {
      const s = await legacySession(app, version, as('alice'));
      const r = await s.call('delete_product', { product_id: `p-${version}` });
      assert.equal(r.json.result.structuredContent.status, 'confirmation_required', version);
      assert.equal(r.json.result.resultType, undefined, version);
      tokens.push(r.json.result.structuredContent.token);
    }
    const old = await legacySession(app, '2025-03-26', as('alice'));
    const r = await old.call('delete_product', { product_id: 'p-old' });
    assert.equal(r.json.result.structuredContent, undefined);
    assert.equal(r.json.result.isError, undefined);
    const token = /token: (\S+)/.exec(textOf(r))?.[1];
    assert.ok(token, 'the token is in the text');
    tokens.push(token);
    // ...and it works from the same session
    const ok = await old.call('confirm_destructive_action', { token, resource_id_echo: 'p-old', reason: 'old client' });
    assert.equal(textOf(ok), 'delete_product done', ok.text);
    assert.deepEqual(ran.map((x) => x.args), [{ product_id: 'p-old' }]);
  });
});

describe('confirm_destructive_action', () => {
  it('runs the parked action once, with exactly the arguments of the first call', async () => {
    ran.length = 0;
    const args = { product_id: 'prem_monthly', note: 'from the first call' };
    const { token } = await park('delete_product', args);
    const ok = await confirm(token, 'prem_monthly');
    assert.equal(ok.json.result.isError, undefined, ok.text);
    assert.equal(textOf(ok), 'delete_product done');
    assert.equal(ran.length, 1);
    assert.deepEqual(ran[0]!.args, args);
    assert.deepEqual({ ...ran[0]!.who }, { ...ALICE });

    const again = await confirm(token, 'prem_monthly');
    assertRefused(again, 'GW_CONFIRM_NOT_FOUND');
    assert.equal(ran.length, 1, 'single use');
  });

  it('takes no arguments for the action: the confirm cannot change what runs', async () => {
    ran.length = 0;
    const { token } = await park('delete_product', { product_id: 'keep_me_safe' });
    // The schema is closed: smuggled arguments are a validation error (2026: a tool error) and burn nothing.
    const smuggled = await confirm(token, 'keep_me_safe', 'r', 'alice', { product_id: 'something_else' });
    assert.equal(smuggled.json.result.isError, true);
    assert.match(textOf(smuggled), /Invalid arguments/);
    assert.equal(ran.length, 0);
    const ok = await confirm(token, 'keep_me_safe');
    assert.equal(textOf(ok), 'delete_product done', ok.text);
    assert.deepEqual(ran.map((r) => r.args), [{ product_id: 'keep_me_safe' }]);
  });

  it('refuses an unknown token with GW_CONFIRM_NOT_FOUND', async () => {
    ran.length = 0;
    const r = await confirm('gwd_not-a-real-token-at-all-0000000000000000', 'prem_monthly');
    assertRefused(r, 'GW_CONFIRM_NOT_FOUND');
    assert.equal(ran.length, 0);
  });

  it("refuses another caller's token without consuming it: the owner can still confirm", async () => {
    ran.length = 0;
    const { token } = await park('delete_product', { product_id: 'p_owned' });
    for (const other of ['bob', 'carol', 'alice-2', 'alice-globex', 'alice-via-key']) {
      const r = await confirm(token, 'p_owned', 'not mine', other);
      assertRefused(r, 'GW_CONFIRM_NOT_FOUND');
      // Nothing tells the other caller that the token exists.
      assert.doesNotMatch(textOf(r), /p_owned|delete_product/);
    }
    assert.equal(ran.length, 0);
    const ok = await confirm(token, 'p_owned');
    assert.equal(textOf(ok), 'delete_product done', ok.text);
    assert.equal(ran.length, 1);
  });

  it('a resource_id_echo that differs (even in case) cancels the action: the right echo then finds nothing', async () => {
    ran.length = 0;
    const { token } = await park('delete_product', { product_id: 'prem_monthly' });
    const wrong = await confirm(token, 'PREM_MONTHLY');
    assertRefused(wrong, 'GW_CONFIRM_ECHO_MISMATCH');
    const late = await confirm(token, 'prem_monthly');
    assertRefused(late, 'GW_CONFIRM_NOT_FOUND');
    assert.equal(ran.length, 0);
    const cancels = (await auditRows(app, { event: 'confirm.cancel' })).filter((r) => r.outcome === 'GW_CONFIRM_ECHO_MISMATCH');
    const row = cancels.at(-1)!;
    assert.equal(row.tool, 'delete_product');
    assert.equal(row.resourceId, 'prem_monthly');
    assert.equal(row.subject, 'alice');
  });

  it('refuses a reason of 0 or 257 characters by schema validation, without consuming the token', async () => {
    ran.length = 0;
    const { token } = await park('delete_product', { product_id: 'p_reason' });
    for (const reason of ['', 'x'.repeat(257)]) {
      const r = await confirm(token, 'p_reason', reason);
      // 2026-07-28 (like 2025-11-25): input validation failures are tool errors
      assert.equal(r.json.result?.isError, true, r.text);
      assert.match(textOf(r), /Invalid arguments for tool confirm_destructive_action/);
      assert.equal(r.json.result.structuredContent, undefined, 'not a confirmation refusal: nothing was consumed');
    }
    assert.equal(ran.length, 0);
    const ok = await confirm(token, 'p_reason', 'y'.repeat(256));
    assert.equal(textOf(ok), 'delete_product done', ok.text);
    const run = (await auditRows(app, { event: 'confirm.run' })).at(-1)!;
    assert.equal(run.reason, 'y'.repeat(256));
  });

  it('reports a bad reason as the era spells validation errors: -32602 in 2025-06-18, a tool error in 2025-11-25', async () => {
    ran.length = 0;
    for (const version of ['2025-06-18', '2025-11-25']) {
      const s = await legacySession(app, version, as('alice'));
      const parked = await s.call('delete_product', { product_id: `r-${version}` });
      const token = parked.json.result.structuredContent.token as string;
      tokens.push(token);
      const bad = await s.call('confirm_destructive_action', { token, resource_id_echo: `r-${version}`, reason: '' });
      if (version === '2025-06-18') assert.equal(bad.json.error?.code, -32602, bad.text);
      else assert.equal(bad.json.result?.isError, true, bad.text);
      const ok = await s.call('confirm_destructive_action', { token, resource_id_echo: `r-${version}`, reason: 'fine' });
      assert.equal(textOf(ok), 'delete_product done', `${version}: ${ok.text}`);
    }
    assert.equal(ran.length, 2);
  });

  it('two concurrent confirms of one token run the handler exactly once', async () => {
    ran.length = 0;
    const { token } = await park('delete_product', { product_id: 'p_race' });
    const answers = await Promise.all(Array.from({ length: 8 }, () => confirm(token, 'p_race')));
    const ok = answers.filter((a) => a.json.result?.isError !== true);
    assert.equal(ok.length, 1, answers.map((a) => a.text).join('\n'));
    for (const a of answers) if (a !== ok[0]) assertRefused(a, 'GW_CONFIRM_NOT_FOUND');
    assert.equal(ran.length, 1);
  });

  it('re-checks scopes at confirmation: a grant narrowed since the first call runs nothing', async () => {
    ran.length = 0;
    const { token } = await park('delete_scoped', { id: 'x1' });
    const r = await confirm(token, 'x1', 'r', 'alice-narrowed');
    assertRefused(r, 'GW_CONFIRM_SCOPE');
    assert.equal(ran.length, 0);
  });
});

describe('tokens are bound to the 2025 session that asked', () => {
  it('another session of the same caller cannot use it (nor a sessionless request); the owning session can', async () => {
    ran.length = 0;
    const a = await legacySession(app, '2025-11-25', as('alice'));
    const b = await legacySession(app, '2025-11-25', as('alice'));
    const parked = await a.call('delete_product', { product_id: 'p_session' });
    const token = parked.json.result.structuredContent.token as string;
    tokens.push(token);
    const args = { token, resource_id_echo: 'p_session', reason: 'other session' };
    assertRefused(await b.call('confirm_destructive_action', args), 'GW_CONFIRM_NOT_FOUND');
    assertRefused(await callTool(app, 'confirm_destructive_action', args, as('alice')), 'GW_CONFIRM_NOT_FOUND');
    assert.equal(ran.length, 0);
    const ok = await a.call('confirm_destructive_action', args);
    assert.equal(textOf(ok), 'delete_product done', ok.text);
    assert.equal(ran.length, 1);
  });
});

describe('expiry', () => {
  it('after the TTL the token is refused as expired (and consumed), and nothing runs', async () => {
    // The policy and the stores read the time through Date (captured when the app is built):
    // a server built under a mocked Date, moved past the 5 minutes.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const runs: unknown[] = [];
    const late = policyApp({
      authenticate: keyAuth(keys),
      tools: [defineTool({ name: 'delete_product', destructive: true, input: { type: 'object', properties: { product_id: { type: 'string' } } }, handler: (a) => void runs.push(a) })],
    });
    const call = (name: string, args: Record<string, unknown>) => callTool(late, name, args, as('alice'));
    try {
      const first = await call('delete_product', { product_id: 'p_late' });
      mock.timers.tick(299_000);
      // Just inside the TTL the token is alive: proven by a mismatch (it would be "expired" otherwise).
      const inside = await call('confirm_destructive_action', { token: first.json.result.structuredContent.token, resource_id_echo: 'nope', reason: 'r' });
      assertRefused(inside, 'GW_CONFIRM_ECHO_MISMATCH');

      const second = await call('delete_product', { product_id: 'p_late' });
      const token = second.json.result.structuredContent.token as string;
      mock.timers.tick(300_001);
      const args = { token, resource_id_echo: 'p_late', reason: 'too late' };
      assertRefused(await call('confirm_destructive_action', args), 'GW_CONFIRM_EXPIRED');
      assertRefused(await call('confirm_destructive_action', args), 'GW_CONFIRM_NOT_FOUND');
      assert.equal(runs.length, 0);
      const expired = (await auditRows(late, { event: 'confirm.cancel' })).filter((r) => r.outcome === 'GW_CONFIRM_EXPIRED');
      assert.equal(expired.length, 1);
      assert.equal(expired[0]!.resourceId, 'p_late');
      assert.equal(expired[0]!.reason, 'too late');
    } finally {
      await late.close();
      mock.timers.reset();
    }
  });
  it('a lifetime is 1 s to 5 minutes (SECURITY 34): longer or shorter is refused at start-up', async () => {
    const start = (ttlMs: number) => () => policyApp({ policy: { confirmation: { ttlMs } } });
    for (const ttlMs of [5 * 60_000 + 1, 10 * 60_000, 999, 1.5e3 + 0.5]) {
      assert.throws(start(ttlMs), (e: Error & { code?: string }) => e.code === 'GW_CONFIG_POLICY' && /confirmation\.ttlMs must be 1 s to 5 minutes/.test(e.message), String(ttlMs));
    }
    await Promise.all([1000, 5 * 60_000].map((ttlMs) => start(ttlMs)().close()));
  });
});

describe('the audit trail of confirmations', () => {
  it('records the pending call, the run with resource id and reason, and each refusal', async () => {
    ran.length = 0;
    const { token } = await park('delete_customer', { customer: 'cus_audit', gdpr: true });
    await confirm(token, 'cus_audit', 'GDPR request #881');
    const rows = await auditRows(app);
    const pending = rows.filter((r) => r.event === 'tool.call' && r.outcome === 'pending_confirmation' && r.resourceId === 'cus_audit');
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.tool, 'delete_customer');
    assert.equal(pending[0]!.subject, 'alice');
    assert.equal(pending[0]!.tenant, 'acme');
    const runs = rows.filter((r) => r.event === 'confirm.run' && r.resourceId === 'cus_audit');
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.tool, 'delete_customer');
    assert.equal(runs[0]!.outcome, 'ok');
    assert.equal(runs[0]!.reason, 'GDPR request #881');
    assert.deepEqual(runs[0]!.args, { customer: 'cus_audit', gdpr: true });
    const outcomes = new Set(rows.filter((r) => r.event === 'confirm.cancel').map((r) => r.outcome));
    for (const code of ['GW_CONFIRM_NOT_FOUND', 'GW_CONFIRM_ECHO_MISMATCH', 'GW_CONFIRM_SCOPE']) {
      assert.ok(outcomes.has(code), `a confirm.cancel row with outcome ${code}`);
    }
  });

  it('holds no token: not in any audit row, not in any log line', async () => {
    // A confirmed action that fails is logged (so the logs are not empty when searched).
    const { token } = await park('delete_broken', { id: 'b1' });
    const failed = await confirm(token, 'b1');
    assert.equal(failed.json.result.isError, true);
    assert.ok(lines.some((l) => l.includes('upstream exploded')), 'the failure was logged');
    assert.equal((await auditRows(app, { event: 'confirm.run' })).at(-1)!.outcome, 'error');
    assert.ok(tokens.length >= 15, `tokens collected: ${tokens.length}`);
    const rows = JSON.stringify(await auditRows(app));
    const logs = lines.join('');
    for (const token of tokens) {
      assert.ok(!rows.includes(token), 'a token is in the audit log');
      assert.ok(!logs.includes(token), 'a token is in the logs');
    }
    // The secret part alone either (a prefix-stripped copy would still be a token).
    for (const token of tokens) {
      const body = token.replace(/^[a-z]+_/, '');
      assert.ok(!rows.includes(body) && !logs.includes(body));
    }
  });
});
