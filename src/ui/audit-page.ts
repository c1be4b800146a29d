import { PATHS, type WebContext, type WebHandler } from '../auth/web-context.ts';
import type { AuditQuery, AuditRecord, Store } from '../store/types.ts';
import { errorPage, esc, htmlPage, seeOther } from './html.ts';
import { withCookies } from './signin-page.ts';

/**
 * "Settings -> Audit log": the signed-in user reads their own tenant's audit records, newest
 * first, filtered by tool, event and outcome. Read-only (a GET form, no CSRF token needed), no
 * JavaScript; the tenant comes from the sign-in, never from the query string; every value shown
 * is escaped (records hold what callers sent). Records never hold secrets (args are redacted
 * before they are written).
 */
export const auditRoute: WebHandler = async (request, ctx) => {
  const browser = ctx.browsers.of(request);
  const url = new URL(request.url);
  const who = await ctx.user(request, browser, `${PATHS.audit}${url.search}`);
  if ('redirect' in who) return seeOther(who.redirect, browser.cookies);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return withCookies(errorPage(405, 'Method not allowed', 'The audit log is read-only.'), browser.cookies, { allow: 'GET' });
  }
  const user = { tenant: who.tenant ?? who.subject, name: who.name ?? who.subject };
  const parsed = parseFilters(url.searchParams);
  const view = { ctx, user, filters: 'error' in parsed ? {} : parsed };
  if ('error' in parsed) return withCookies(render(view, { error: parsed.error }), browser.cookies);

  const { store } = await ctx.stores();
  const query: AuditQuery = { tenant: user.tenant, order: 'desc' };
  if (parsed.tool) query.tool = parsed.tool;
  if (parsed.event) query.event = parsed.event;
  // The store's `after` with order desc means "seq smaller than": the page's `before`.
  if (parsed.before !== undefined) query.after = parsed.before;
  return withCookies(render(view, await newestFirst(store, query, parsed.outcome)), browser.cookies);
};

const PER_PAGE = 50;
/** The store's largest page: `outcome` is filtered here, so a filtered page may need several. */
const SCAN_PAGE = 1000;
/** A page request reads at most this many records; "Older" goes on from where it stopped. */
const MAX_SCAN = 10_000;
const ARGS_CHARS = 200;
const OUTCOMES = ['ok', 'error', 'denied', 'rate_limited', 'pending_confirmation'];

interface Filters {
  tool?: string;
  event?: string;
  outcome?: string;
  before?: number;
}
interface View {
  ctx: WebContext;
  user: { tenant: string; name: string };
  filters: Filters;
}
interface Result {
  rows?: AuditRecord[];
  /** Cursor for the "Older" link, when more may exist. */
  older?: number;
  /** The scan stopped at MAX_SCAN before filling the page. */
  partial?: boolean;
  error?: string;
}

function parseFilters(params: URLSearchParams): Filters | { error: string } {
  const f: Filters = {};
  for (const k of ['tool', 'event', 'outcome'] as const) {
    const v = (params.get(k) ?? '').trim();
    if (!v) continue;
    if (v.length > 200 || /[\x00-\x1f\x7f]/.test(v)) return { error: `The ${k} filter must be 1 to 200 printable characters.` };
    f[k] = v;
  }
  const before = params.get('before');
  if (before !== null && before !== '') {
    const n = /^\d{1,16}$/.test(before) ? Number(before) : 0;
    if (!Number.isSafeInteger(n) || n < 1) return { error: 'That page link is not valid: start again from the newest records.' };
    f.before = n;
  }
  return f;
}

/** Up to PER_PAGE records passing the outcome filter, newest first, scanning at most MAX_SCAN. */
async function newestFirst(store: Store, query: AuditQuery, outcome: string | undefined): Promise<Result> {
  const rows: AuditRecord[] = [];
  const size = outcome === undefined ? PER_PAGE + 1 : SCAN_PAGE;
  let cursor = query.after;
  let scanned = 0;
  for (;;) {
    const batch = await store.audit.query({ ...query, ...(cursor === undefined ? {} : { after: cursor }), limit: size });
    for (const r of batch) {
      if (outcome !== undefined && r.outcome !== outcome) continue;
      if (rows.length === PER_PAGE) return { rows, older: rows.at(-1)!.seq };
      rows.push(r);
    }
    if (batch.length < size) return { rows };
    cursor = batch.at(-1)!.seq;
    scanned += batch.length;
    // Everything between the last row shown and `cursor` failed the filter: resume after it.
    if (scanned >= MAX_SCAN) return { rows, older: cursor, partial: true };
  }
}

const STYLE = '<style>body{max-width:80rem}td,th{vertical-align:top}td code{word-break:break-all}form.filters{display:flex;gap:.5rem;align-items:end;flex-wrap:wrap}form.filters label{flex:1;min-width:10rem}nav a{margin-right:1rem}</style>';

function link(f: Filters, before?: number): string {
  const p = new URLSearchParams();
  for (const k of ['tool', 'event', 'outcome'] as const) if (f[k]) p.set(k, f[k]);
  if (before !== undefined) p.set('before', String(before));
  const qs = p.toString();
  return qs ? `${PATHS.audit}?${qs}` : PATHS.audit;
}

function time(at: number): string {
  return Number.isFinite(at) && Math.abs(at) <= 8.64e15 ? `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}` : String(at);
}

/** The redacted arguments as JSON, cut to ARGS_CHARS code points (never half a character). */
function argsText(args: unknown): string {
  if (args === null || args === undefined) return '';
  const text = JSON.stringify(args) ?? '';
  const chars = Array.from(text);
  return chars.length > ARGS_CHARS ? `${chars.slice(0, ARGS_CHARS).join('')}…` : text;
}

const cell = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? '<td class="muted">-</td>' : `<td>${esc(v)}</td>`);
const codeCell = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? '<td class="muted">-</td>' : `<td><code>${esc(v)}</code></td>`);

function row(r: AuditRecord): string {
  const via = [r.via, r.client].filter((x) => x !== null && x !== '').join(' / ');
  return `<tr data-seq="${esc(r.seq)}"><td>${esc(time(r.at))}</td><td>${esc(r.seq)}</td>${cell(r.event)}${cell(r.outcome)}${cell(r.subject)}${cell(via)}${codeCell(r.tool)}${codeCell(r.resourceId)}${cell(r.reason)}${cell(r.latencyMs === null ? null : `${r.latencyMs} ms`)}${codeCell(argsText(r.args))}</tr>`;
}

function render(v: View, result: Result): Response {
  const { ctx, user, filters: f } = v;
  const input = (k: 'tool' | 'event' | 'outcome', label: string, list?: string) =>
    `<label for="${k}">${label}<input type="text" id="${k}" name="${k}" maxlength="200" value="${esc(f[k] ?? '')}"${list ? ` list="${list}"` : ''}></label>`;
  const form = `<form class="filters" method="get" action="${PATHS.audit}">
${input('tool', 'Tool')}${input('event', 'Event')}${input('outcome', 'Outcome', 'outcomes')}
<datalist id="outcomes">${OUTCOMES.map((o) => `<option value="${o}">`).join('')}</datalist>
<button type="submit">Filter</button>${f.tool || f.event || f.outcome ? ` <a href="${PATHS.audit}">Clear</a>` : ''}
</form>`;
  const tokens = ctx.auth.apiKeyHeader || ctx.auth.managementTokenHeader || ctx.oauth;
  const rows = result.rows ?? [];
  const table = rows.length
    ? `<table id="audit"><thead><tr><th>Time (UTC)</th><th>Seq</th><th>Event</th><th>Outcome</th><th>Subject</th><th>Via / client</th><th>Tool</th><th>Resource</th><th>Reason</th><th>Latency</th><th>Arguments (redacted)</th></tr></thead>
<tbody>${rows.map(row).join('')}</tbody></table>`
    : `<p class="muted" id="empty">${result.error ? '' : f.before !== undefined ? 'No older records.' : 'No records yet.'}</p>`;
  const nav = [
    f.before !== undefined ? `<a href="${esc(link(f))}">Newest</a>` : '',
    result.older !== undefined ? `<a href="${esc(link(f, result.older))}" rel="next">Older</a>` : '',
  ].join('');
  const body = `${STYLE}<h1>Audit log</h1>
<p class="muted">Signed in as <strong>${esc(user.name)}</strong> (tenant <code>${esc(user.tenant)}</code>).${tokens ? ` <a href="${PATHS.tokens}">API tokens</a> ·` : ''} <a href="${PATHS.signOut}">Sign out</a></p>
<p class="muted">What happened in your tenant, newest first, ${PER_PAGE} to a page. Arguments are shown as recorded: secrets are never kept.</p>
${form}
${result.error ? `<p class="error" role="alert">${esc(result.error)}</p>` : ''}${result.partial ? `<p class="warn" role="status">Searched ${MAX_SCAN.toLocaleString('en')} records without filling the page: "Older" searches on.</p>` : ''}
${table}
${nav ? `<nav>${nav}</nav>` : ''}`;
  return htmlPage('Audit log', body, { status: result.error ? 400 : 200 });
}
