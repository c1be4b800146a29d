import type { Principal } from '../auth/principal.ts';
import { newSecret } from '../auth/secrets.ts';
import { hostOf, PATHS, type WebContext, type WebHandler } from '../auth/web-context.ts';
import { ERA_2026_07_28 } from '../protocol/eras.ts';
import { credentialState } from '../store/credential-state.ts';
import type { ApiKeyKind, ApiKeyRecord, Store } from '../store/types.ts';
import type { Browser } from './browser.ts';
import { esc, htmlPage, readForm, seeOther } from './html.ts';
import { withCookies } from './signin-page.ts';

/**
 * "Settings -> API tokens": the signed-in user mints API keys and management tokens for their own
 * tenant (secret shown once, SECURITY 32), lists them with last use, and revokes them and their
 * OAuth grants. Every form carries the page's single-use CSRF token bound to the browser
 * (SECURITY 22); works without JavaScript; everything shown is escaped.
 */
export const tokensRoute: WebHandler = async (request, ctx) => {
  const browser = ctx.browsers.of(request);
  const who = await ctx.user(request, browser, PATHS.tokens);
  if ('redirect' in who) return seeOther(who.redirect, browser.cookies);
  const user: User = { subject: who.subject, tenant: who.tenant ?? who.subject, name: who.name ?? who.subject };
  const v: View = { ctx, browser, user, request };

  if (request.method === 'GET' || request.method === 'HEAD') {
    const n = new URL(request.url).searchParams.get('done');
    return render(v, { notice: n && Object.hasOwn(NOTICES, n) ? NOTICES[n as keyof typeof NOTICES](ctx) : '' });
  }
  if (request.method !== 'POST') return withCookies(await render(v, { status: 405 }), [], { allow: 'GET, POST' });
  const form = await readForm(request);
  if (!form || !(await ctx.browsers.checkCsrf(browser, 'tokens', form.get('csrf')))) {
    return render(v, { error: 'The form expired or was already used: nothing was changed. Try again.', status: 403 });
  }
  const { store } = await ctx.stores();
  switch (form.get('action')) {
    case 'create':
      return create(v, store, form);
    case 'revoke-key':
      return revokeKey(v, store, form.get('id') ?? '');
    case 'revoke-grant':
      return revokeGrant(v, store, form.get('id') ?? '');
    default:
      return render(v, { error: 'Unknown action: nothing was changed.', status: 400 });
  }
};

interface User {
  subject: string;
  tenant: string;
  name: string;
}
interface View {
  ctx: WebContext;
  browser: Browser;
  user: User;
  request: Request;
}
interface Draft {
  name: string;
  kind: string;
  scopes: string[];
  expires: string;
}

const NOTICES = {
  revoked: (ctx: WebContext) =>
    `Revoked. This server refuses it at once; other processes serving this URL stop accepting it within ${seconds(ctx.auth.cacheMs)}.`,
  gone: () => 'Already revoked: nothing to do.',
};

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);
const LABEL: Record<ApiKeyKind, string> = { api_key: 'API key', management: 'Management token' };

function kinds(ctx: WebContext): { kind: ApiKeyKind; header: string }[] {
  const out: { kind: ApiKeyKind; header: string }[] = [];
  if (ctx.auth.apiKeyHeader) out.push({ kind: 'api_key', header: ctx.auth.apiKeyHeader });
  if (ctx.auth.managementTokenHeader) out.push({ kind: 'management', header: ctx.auth.managementTokenHeader });
  return out;
}

async function create(v: View, store: Store, form: URLSearchParams): Promise<Response> {
  const draft: Draft = {
    name: (form.get('name') ?? '').trim(),
    kind: form.get('kind') ?? '',
    scopes: [...new Set(form.getAll('scope'))],
    expires: (form.get('expires_days') ?? '').trim(),
  };
  const kind = kinds(v.ctx).find((k) => k.kind === draft.kind);
  const fail = (error: string) => render(v, { error: `${error} Nothing was created.`, status: 400, draft });
  if (!kind) return fail('Choose what to create.');
  if (!draft.name || draft.name.length > 100 || /[\x00-\x1f\x7f]/.test(draft.name)) return fail('Give it a name of 1 to 100 characters.');
  const unknown = draft.scopes.filter((s) => !Object.hasOwn(v.ctx.scopes, s));
  if (unknown.length) return fail(`Unknown scope ${unknown.join(', ')}.`);
  let expiresAt: number | null = null;
  if (draft.expires) {
    const days = /^\d{1,4}$/.test(draft.expires) ? Number(draft.expires) : 0;
    if (days < 1 || days > 3650) return fail('Expiry must be a whole number of days from 1 to 3650, or empty for none.');
    expiresAt = v.ctx.now() + days * 86_400_000;
  }
  const secret = newSecret(kind.kind);
  const rec = await store.apiKeys.create({
    kind: kind.kind,
    keyHash: secret.hash,
    hint: secret.hint,
    name: draft.name,
    tenant: v.user.tenant,
    subject: v.user.subject,
    scopes: draft.scopes,
    expiresAt,
  });
  await audit(v, store, 'auth.key.create', rec.id, { kind: rec.kind, scopes: rec.scopes });
  // The answer to the POST itself shows the secret (no 303 to a page that could show it again):
  // it never sits in any store, and a resubmission is refused by the spent CSRF token.
  const resource = v.ctx.urls.resource(hostOf(v.request));
  const version = ERA_2026_07_28.version;
  const meta = JSON.stringify({ 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': {} });
  const curl = [
    `curl -sS '${resource}'`,
    `  -H 'content-type: application/json' -H 'accept: application/json, text/event-stream'`,
    `  -H 'mcp-protocol-version: ${version}' -H 'mcp-method: tools/list'`,
    `  -H '${kind.header}: ${secret.secret}'`,
    `  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":${meta}}}'`,
  ].join(' \\\n');
  const body = `${WIDE}<h1>${esc(LABEL[rec.kind])} created</h1>
<p class="warn" role="alert"><strong>Copy it now: it is shown only once.</strong> ${esc(v.ctx.serverName)} keeps only a hash and cannot show it again.</p>
<p>${esc(rec.name)} · scopes ${rec.scopes.length ? rec.scopes.map((s) => `<code>${esc(s)}</code>`).join(' ') : 'none'} · expires ${esc(when(rec.expiresAt, 'never'))}</p>
<label for="secret">Secret</label>
<p><code id="secret">${esc(secret.secret)}</code></p>
<p>Send it in the <code id="header">${esc(kind.header)}</code> header of each request to <code>${esc(resource)}</code>, for example:</p>
<pre><code id="curl">${esc(curl)}</code></pre>
<p><a href="${PATHS.tokens}">Back to API tokens</a></p>`;
  return withCookies(htmlPage(`${LABEL[rec.kind]} created`, body), v.browser.cookies);
}

async function revokeKey(v: View, store: Store, id: string): Promise<Response> {
  // Only this user's own keys: another user's (or tenant's) id reads as unknown (SECURITY 35).
  const own = (await store.apiKeys.list({ subject: v.user.subject, tenant: v.user.tenant })).find((k) => k.id === id);
  if (!own) return render(v, { error: 'No such token: nothing was revoked.', status: 404 });
  const now = await store.apiKeys.revoke(id, { tenant: v.user.tenant });
  const isKey = (p: Principal) => p.client === id && (p.via === 'api-key' || p.via === 'management-token');
  v.ctx.authenticator.forgetWhere(isKey);
  if (!now) return seeOther(`${PATHS.tokens}?done=gone`, v.browser.cookies);
  await audit(v, store, 'auth.key.revoke', id, { kind: own.kind });
  return seeOther(`${PATHS.tokens}?done=revoked`, v.browser.cookies);
}

async function revokeGrant(v: View, store: Store, id: string): Promise<Response> {
  const grant = id ? await store.grants.get(id) : undefined;
  if (!grant || grant.subject !== v.user.subject || grant.tenant !== v.user.tenant) {
    return render(v, { error: 'No such grant: nothing was revoked.', status: 404 });
  }
  const now = await store.grants.revoke(id, { subject: v.user.subject, tenant: v.user.tenant });
  // Cached access tokens carry the client id, not the grant id: forget all of this user's with that client.
  v.ctx.authenticator.forgetWhere(
    (p) => p.via === 'oauth' && p.subject === grant.subject && p.tenant === grant.tenant && p.client === grant.clientId,
  );
  if (!now) return seeOther(`${PATHS.tokens}?done=gone`, v.browser.cookies);
  await audit(v, store, 'auth.grant.revoke', id, { client: grant.clientId });
  return seeOther(`${PATHS.tokens}?done=revoked`, v.browser.cookies);
}

async function audit(v: View, store: Store, event: string, resourceId: string, detail: Record<string, unknown>): Promise<void> {
  await store.audit
    .append({ event, outcome: 'ok', subject: v.user.subject, tenant: v.user.tenant, via: 'ui', resourceId, detail })
    .catch((err: unknown) => v.ctx.logger.warn({ err, event }, 'could not write audit record'));
}

/** Wider than the sign-in shell: the table has ten columns. CSP allows inline styles, nothing else. */
const WIDE = '<style>body{max-width:64rem}pre{overflow-x:auto;background:#f3f3f3;padding:.5rem}pre code{padding:0;word-break:normal}td code{white-space:nowrap;word-break:normal}</style>';

const when = (ms: number | null, none = '-') => (ms === null ? none : new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC');

async function render(v: View, o: { notice?: string; error?: string; status?: number; draft?: Draft }): Promise<Response> {
  const { ctx, user } = v;
  const { store } = await ctx.stores();
  const [keys, grants] = await Promise.all([
    store.apiKeys.list({ subject: user.subject, tenant: user.tenant }),
    store.grants.listBySubject(user.subject, { tenant: user.tenant }),
  ]);
  const clients = await Promise.all(grants.map((g) => store.oauthClients.get(g.clientId).catch(() => undefined)));
  const csrf = esc(await ctx.browsers.csrf(v.browser, 'tokens'));
  const hidden = `<input type="hidden" name="csrf" value="${csrf}">`;
  const revokeButton = (action: string, id: string, label: string) =>
    `<form method="post" action="${PATHS.tokens}">${hidden}<input type="hidden" name="action" value="${action}"><input type="hidden" name="id" value="${esc(id)}"><button type="submit" aria-label="Revoke ${esc(label)}">Revoke</button></form>`;
  const now = ctx.now();
  const keyRow = (k: ApiKeyRecord) => {
    const state = credentialState({ ...k, usedAt: null }, now);
    return `<tr data-id="${esc(k.id)}"><td>${esc(k.name)}</td><td>${esc(LABEL[k.kind] ?? k.kind)}</td><td><code>${esc(k.hint)}</code></td><td>${esc(k.scopes.join(' ') || '-')}</td><td>${esc(k.tenant)}</td><td>${esc(when(k.createdAt))}</td><td>${esc(when(k.expiresAt, 'never'))}</td><td>${esc(when(k.lastUsedAt, 'never'))}</td><td>${esc(state)}${k.revokedAt !== null ? ` ${esc(when(k.revokedAt))}` : ''}</td><td>${state === 'active' ? revokeButton('revoke-key', k.id, k.name) : ''}</td></tr>`;
  };
  const grantRows = grants.map((g, i) => {
    const name = clients[i]?.name;
    return `<tr data-id="${esc(g.id)}"><td>${name ? `${esc(name)}<br>` : ''}<code>${esc(g.clientId)}</code></td><td>${esc(g.scopes.join(' ') || '-')}</td><td>${esc(when(g.createdAt))}</td><td>${esc(when(g.expiresAt, 'never'))}</td><td>${revokeButton('revoke-grant', g.id, name ?? g.clientId)}</td></tr>`;
  });
  const available = kinds(ctx);
  const d = o.draft ?? { name: '', kind: available[0]?.kind ?? '', scopes: [], expires: '' };
  const scopeBoxes = Object.entries(ctx.scopes)
    .map(
      ([s, desc]) =>
        `<label><input type="checkbox" name="scope" value="${esc(s)}"${d.scopes.includes(s) ? ' checked' : ''}> <code>${esc(s)}</code>${desc ? ` ${esc(desc)}` : ''}</label>`,
    )
    .join('\n');
  const createForm = available.length
    ? `<h2>Create a token</h2>
<form method="post" action="${PATHS.tokens}">${hidden}<input type="hidden" name="action" value="create">
<label for="name">Name</label><input type="text" id="name" name="name" required maxlength="100" value="${esc(d.name)}">
<label for="kind">Kind</label><select id="kind" name="kind">${available.map((k) => `<option value="${k.kind}"${d.kind === k.kind ? ' selected' : ''}>${esc(LABEL[k.kind])} (header ${esc(k.header)})</option>`).join('')}</select>
<fieldset><legend>Scopes</legend>${scopeBoxes || '<p class="muted">This server declares no scopes.</p>'}</fieldset>
<label for="expires_days">Expires after (days, empty for never)</label><input type="number" id="expires_days" name="expires_days" min="1" max="3650" value="${esc(d.expires)}">
<p class="muted">Tenant: <code>${esc(user.tenant)}</code></p>
<button type="submit">Create</button>
</form>`
    : '';
  const body = `${WIDE}<h1>API tokens</h1>
<p class="muted">Signed in as <strong>${esc(user.name)}</strong> (tenant <code>${esc(user.tenant)}</code>). <a href="${PATHS.audit}">Audit log</a> · <a href="${PATHS.signOut}">Sign out</a></p>
${o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : ''}${o.notice ? `<p class="warn" role="status">${esc(o.notice)}</p>` : ''}
<p class="muted">Revoking takes effect at once on this server and within ${esc(seconds(ctx.auth.cacheMs))} on every other process serving it.</p>
${available.length ? `<h2>Keys and tokens</h2>
${keys.length ? `<table id="keys"><thead><tr><th>Name</th><th>Kind</th><th>Key</th><th>Scopes</th><th>Tenant</th><th>Created</th><th>Expires</th><th>Last used</th><th>State</th><th></th></tr></thead><tbody>${keys.map(keyRow).join('')}</tbody></table>` : '<p class="muted">None yet.</p>'}
${createForm}` : ''}
<h2>Apps with access (OAuth)</h2>
${grantRows.length ? `<table id="grants"><thead><tr><th>Client</th><th>Scopes</th><th>Approved</th><th>Expires</th><th></th></tr></thead><tbody>${grantRows.join('')}</tbody></table>` : '<p class="muted">No app has access.</p>'}`;
  return withCookies(htmlPage('API tokens', body, { status: o.status ?? 200 }), v.browser.cookies);
}
