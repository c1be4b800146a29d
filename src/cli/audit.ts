import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { GangwayConfig } from '../config.ts';
import { GangwayConfigError } from '../errors.ts';
import { openStore, StoreConfigError, StoreError } from '../store/index.ts';
import type { AuditQuery, AuditRecord, Store } from '../store/types.ts';
import { applyOverrides, loadConfig, PROJECT_OPTIONS, projectStore } from './load-config.ts';

export const AUDIT_HELP = `  gangway audit tail [-n N] [--follow] [FILTERS] [--json]
      The last N (default 20) audit records, oldest first; --follow keeps printing new ones
      until Ctrl-C.
  gangway audit query [FILTERS] [--limit N] [--after SEQ] [--order asc|desc] [--json]
      Audit records in seq order, N (default 100) at a time; "next: --after SEQ" (on stderr)
      gives the next page. FILTERS: --from T --to T (ISO 8601 or epoch ms), --subject S,
      --tenant T, --tool NAME, --event E, --outcome O. --json prints the records as NDJSON.
      Also --cwd DIR, --config FILE, --store SPEC.
`;

interface Io {
  cwd?: string;
  /** Where output goes (tests capture it). Default process.stdout / process.stderr. */
  stdout?: { write(s: string): unknown };
  stderr?: { write(s: string): unknown };
}

class UsageError extends Error {}
/** The store cannot be read (exit 1, unlike bad flags). */
class StoreUnavailable extends Error {}

/** The store's own maximum page; `--outcome` is filtered here, so scans go page by page. */
const PAGE = 1000;
const POLL_MS = 1000;

const OPTIONS = {
  ...PROJECT_OPTIONS,
  json: { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  subject: { type: 'string' },
  tenant: { type: 'string' },
  tool: { type: 'string' },
  event: { type: 'string' },
  outcome: { type: 'string' },
  lines: { type: 'string', short: 'n' },
  follow: { type: 'boolean', short: 'f' },
  limit: { type: 'string' },
  after: { type: 'string' },
  order: { type: 'string' },
} as const;
const ONLY: Record<string, readonly string[]> = { tail: ['lines', 'follow'], query: ['limit', 'after', 'order'] };

/**
 * `gangway audit tail|query`: reads the project's audit log, for operators (a signed-in user
 * sees their own tenant's on /settings/audit). Read-only: it never creates a database.
 * Exit codes: 0 done (also after --follow ends on SIGINT/SIGTERM), 1 the store cannot be
 * read, 2 bad flags or config.
 */
export async function auditCommand(argv: string[], opts: Io = {}): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const [sub, ...rest] = argv;
  let store: Store | undefined;
  try {
    if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
      (sub === undefined ? err : out).write(`Usage:\n${AUDIT_HELP}`);
      return sub === undefined ? 2 : 0;
    }
    if (sub !== 'tail' && sub !== 'query') throw new UsageError(`unknown subcommand "${sub}"`);
    const { values: f } = parseArgs({ args: rest, options: OPTIONS, strict: true });
    const other = sub === 'tail' ? ONLY.query! : ONLY.tail!;
    const wrong = Object.keys(f).find((k) => other.includes(k));
    if (wrong) throw new UsageError(`${wrong === 'lines' ? '-n' : `--${wrong}`} does not apply to "audit ${sub}"`);

    const { query, outcome } = filters(f);
    const emit = (r: AuditRecord) => out.write(`${f.json ? JSON.stringify(r) : formatRecord(r)}\n`);
    const lines = f.lines === undefined ? 20 : int(f.lines, '-n', 1, PAGE);
    const limit = f.limit === undefined ? 100 : int(f.limit, '--limit', 1, PAGE);
    const after = f.after === undefined ? undefined : int(f.after, '--after', 0, Number.MAX_SAFE_INTEGER);
    if (f.order !== undefined && f.order !== 'asc' && f.order !== 'desc') throw new UsageError(`--order must be asc or desc (got ${JSON.stringify(f.order)})`);

    const cwd = resolve(f.cwd ?? opts.cwd ?? '.');
    const { config: loaded } = await loadConfig(cwd, f.config);
    store = await openStore(cliStore(applyOverrides(loaded, { store: f.store }, process.env), cwd));

    if (sub === 'query') {
      const order = f.order === 'desc' ? 'desc' : 'asc';
      const page = await collect(store, { ...query, order, ...(after === undefined ? {} : { after }) }, outcome, limit);
      page.records.forEach(emit);
      if (!page.records.length && !f.json) err.write('No records.\n');
      if (page.more) err.write(`next: --after ${page.records.at(-1)!.seq}\n`);
      return 0;
    }
    // Measured before the tail so that --follow neither repeats nor skips a record.
    const top = (await store.audit.query({ order: 'desc', limit: 1 }))[0]?.seq ?? 0;
    const { records } = await collect(store, { ...query, order: 'desc' }, outcome, lines);
    records.reverse().forEach(emit);
    if (!f.follow) return 0;
    await follow(store, query, outcome, Math.max(top, records.at(-1)?.seq ?? 0), emit);
    return 0;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      err.write(`gangway audit: ${(e as Error).message}\n\nUsage:\n${AUDIT_HELP}`);
      return 2;
    }
    if (e instanceof StoreConfigError || e instanceof StoreError || e instanceof StoreUnavailable || (typeof code === 'string' && code.startsWith('SQLITE_'))) {
      err.write(`gangway audit: ${(e as Error).message}${typeof code === 'string' ? ` [${code}]` : ''}\n`);
      return 1;
    }
    if (e instanceof GangwayConfigError) {
      err.write(`gangway audit: ${e.message} [${e.code}]\n`);
      return 2;
    }
    throw e;
  } finally {
    await store?.close();
  }
}

type Flags = Partial<Record<'from' | 'to' | 'subject' | 'tenant' | 'tool' | 'event' | 'outcome', string>>;

/** The store's filters, and `outcome`, which the store does not filter on. */
function filters(f: Flags): { query: AuditQuery; outcome?: string } {
  const query: AuditQuery = {};
  if (f.from !== undefined) query.from = time(f.from, 'from');
  if (f.to !== undefined) query.to = time(f.to, 'to');
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to) throw new UsageError('--from must be before --to');
  for (const k of ['subject', 'tenant', 'tool', 'event'] as const) if (f[k] !== undefined) query[k] = label(f[k], k);
  return { query, ...(f.outcome === undefined ? {} : { outcome: label(f.outcome, 'outcome') }) };
}

/**
 * Up to `want` records passing the outcome filter, paging through the store. `more` is exact:
 * true only when a further matching record was seen (so `--limit` counts records printed).
 */
async function collect(store: Store, q: AuditQuery, outcome: string | undefined, want: number): Promise<{ records: AuditRecord[]; more: boolean }> {
  const records: AuditRecord[] = [];
  const size = outcome === undefined ? Math.min(PAGE, want + 1) : PAGE;
  let after = q.after;
  for (;;) {
    const page = await store.audit.query({ ...q, ...(after === undefined ? {} : { after }), limit: size });
    for (const r of page) {
      if (outcome !== undefined && r.outcome !== outcome) continue;
      if (records.length === want) return { records, more: true };
      records.push(r);
    }
    if (page.length < size) return { records, more: false };
    after = page.at(-1)!.seq;
  }
}

/** Polls for records after `cursor` until SIGINT or SIGTERM; the caller then exits 0. */
async function follow(store: Store, q: AuditQuery, outcome: string | undefined, cursor: number, emit: (r: AuditRecord) => void): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop.signal.aborted) {
      try {
        await sleep(POLL_MS, undefined, { signal: stop.signal });
      } catch {
        return;
      }
      for (;;) {
        const page = await store.audit.query({ ...q, order: 'asc', after: cursor, limit: PAGE });
        for (const r of page) if (outcome === undefined || r.outcome === outcome) emit(r);
        if (page.length) cursor = page.at(-1)!.seq;
        if (page.length < PAGE) break;
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function time(v: string, flag: string): number {
  // Epoch ms, or an ISO 8601 date or date-time (Date.parse alone accepts too much).
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : /^\d{4}-\d{2}-\d{2}([T ]|$)/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isSafeInteger(ms)) throw new UsageError(`--${flag} must be an ISO 8601 time like 2026-01-31T12:00:00Z or epoch milliseconds (got ${JSON.stringify(v)})`);
  return ms;
}

/** A whole number in [min, max]; `flag` as the user typed it (`-n`, `--limit`). */
function int(v: string, flag: string, min: number, max: number): number {
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new UsageError(`${flag} must be a whole number ${range} (got ${JSON.stringify(v)})`);
  }
  return n;
}

function label(v: string, flag: string): string {
  if (!v || v.length > 200 || /[\x00-\x1f\x7f]/.test(v)) throw new UsageError(`--${flag} must be 1 to 200 printable characters`);
  return v;
}

// Records hold what callers sent (a subject, a reason): never let it drive the terminal.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
const clean = (v: string) => v.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const field = (v: string | null) => (v === null || v === '' ? '-' : clean(v));
const pair = (a: string | null, b: string | null, sep: string) => (a === null && b === null ? '-' : `${field(a)}${sep}${field(b)}`);

/** One line: time, seq, event, outcome, subject@tenant, via/client, tool, resource, "reason", latency. */
export function formatRecord(r: AuditRecord): string {
  const at = Number.isFinite(r.at) && Math.abs(r.at) <= 8.64e15 ? new Date(r.at).toISOString() : String(r.at);
  return [
    at,
    `#${r.seq}`,
    field(r.event),
    field(r.outcome),
    pair(r.subject, r.tenant, '@'),
    pair(r.via, r.client, '/'),
    field(r.tool),
    field(r.resourceId),
    r.reason === null ? '-' : clean(JSON.stringify(r.reason)),
    r.latencyMs === null ? '-' : `${r.latencyMs}ms`,
  ].join('  ');
}

function cliStore(config: GangwayConfig, cwd: string): string | Store {
  const spec = projectStore(config, cwd, true);
  if (typeof spec === 'object' && 'refused' in spec) throw new StoreUnavailable(spec.refused);
  return spec;
}
