import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { newSecret } from '../auth/secrets.ts';
import type { GangwayConfig } from '../config.ts';
import { GangwayConfigError } from '../errors.ts';
import { credentialState } from '../store/credential-state.ts';
import { openStore } from '../store/index.ts';
import type { ApiKeyKind, ApiKeyRecord, Store } from '../store/types.ts';
import { applyOverrides, loadConfig, PROJECT_OPTIONS, projectStore } from './load-config.ts';

export const TOKENS_HELP = `Usage:
  gangway tokens create --tenant T [--kind api_key|management] [--name N] [--scopes a,b]
                        [--subject S] [--expires-days N] [--json]
  gangway tokens list [--tenant T] [--kind api_key|management] [--json]
  gangway tokens revoke ID [--tenant T]
Common: [--cwd DIR] [--config FILE] [--store SPEC]. The secret is printed once, on create.
`;

interface Io {
  cwd?: string;
  /** Where output goes (tests capture it). Default process.stdout / process.stderr. */
  stdout?: { write(s: string): unknown };
  stderr?: { write(s: string): unknown };
}

class UsageError extends Error {}

/**
 * `gangway tokens create|list|revoke`: API keys and management tokens in the project's store,
 * for operators (the signed-in user's own page is Settings -> API tokens). Exit codes: 0 done,
 * 1 no such key, 2 bad flags or config.
 */
export async function tokensCommand(argv: string[], opts: Io = {}): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const [sub, ...rest] = argv;
  let store: Store | undefined;
  try {
    if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
      (sub === undefined ? err : out).write(TOKENS_HELP);
      return sub === undefined ? 2 : 0;
    }
    if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(`unknown subcommand "${sub}"`);
    const { values: f, positionals } = parseArgs({
      args: rest,
      allowPositionals: sub === 'revoke',
      strict: true,
      options: {
        ...PROJECT_OPTIONS,
        kind: { type: 'string' },
        name: { type: 'string' },
        scopes: { type: 'string' },
        tenant: { type: 'string' },
        subject: { type: 'string' },
        'expires-days': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    const allowed: Record<string, string[]> = {
      create: ['kind', 'name', 'scopes', 'tenant', 'subject', 'expires-days', 'json'],
      list: ['kind', 'tenant', 'json'],
      revoke: ['tenant', 'json'],
    };
    for (const k of Object.keys(f)) {
      if (!['cwd', 'config', 'store', ...allowed[sub]!].includes(k)) throw new UsageError(`--${k} does not apply to "tokens ${sub}"`);
    }
    const kind = f.kind === undefined ? undefined : parseKind(f.kind);
    const tenant = f.tenant === undefined ? undefined : label(f.tenant, 'tenant');
    if (sub === 'revoke' && positionals.length !== 1) throw new UsageError('tokens revoke takes one key id');
    let days: number | null = null;
    if (f['expires-days'] !== undefined) {
      days = /^\d{1,4}$/.test(f['expires-days']) ? Number(f['expires-days']) : 0;
      if (days < 1 || days > 3650) throw new UsageError('--expires-days must be a whole number from 1 to 3650');
    }

    const cwd = resolve(f.cwd ?? opts.cwd ?? '.');
    const { config: loaded } = await loadConfig(cwd, f.config);
    const config = applyOverrides(loaded, { store: f.store }, process.env);
    store = await openStore(cliStore(config, cwd));

    if (sub === 'create') {
      if (!tenant) throw new UsageError('tokens create needs --tenant (the workspace the key acts for)');
      return await create(config, store, {
        kind: kind ?? 'api_key',
        tenant,
        subject: f.subject === undefined ? tenant : label(f.subject, 'subject'),
        name: f.name === undefined ? 'created with gangway tokens' : label(f.name, 'name'),
        scopes: parseScopes(f.scopes ?? ''),
        expiresAt: days === null ? null : Date.now() + days * 86_400_000,
        json: Boolean(f.json),
      }, out, err);
    }
    if (sub === 'list') {
      const keys = await store.apiKeys.list({ ...(tenant ? { tenant } : {}), ...(kind ? { kind } : {}) });
      out.write(f.json ? `${JSON.stringify(keys.map(view), null, 2)}\n` : table(keys));
      return 0;
    }
    return await revoke(config, store, positionals[0]!, tenant, Boolean(f.json), out, err);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (e instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      err.write(`gangway tokens: ${(e as Error).message}\n\n${TOKENS_HELP}`);
      return 2;
    }
    if (e instanceof GangwayConfigError) {
      err.write(`gangway tokens: ${e.message} [${e.code}]\n`);
      return 2;
    }
    throw e;
  } finally {
    await store?.close();
  }
}

interface CreateInput {
  kind: ApiKeyKind;
  tenant: string;
  subject: string;
  name: string;
  scopes: string[];
  expiresAt: number | null;
  json: boolean;
}

async function create(config: GangwayConfig, store: Store, c: CreateInput, out: NonNullable<Io['stdout']>, err: NonNullable<Io['stderr']>) {
  const header = headerFor(config, c.kind);
  if (!config.auth) err.write('gangway tokens: note: this config has no `auth` section, so the server does not check keys yet\n');
  const known = knownScopes(config);
  const undeclared = c.scopes.filter((s) => !known.has(s));
  if (undeclared.length) err.write(`gangway tokens: note: no tool or auth.scopes entry declares ${undeclared.join(', ')}\n`);
  const secret = newSecret(c.kind);
  const rec = await store.apiKeys.create({ ...c, keyHash: secret.hash, hint: secret.hint });
  await store.audit.append({ event: 'auth.key.create', outcome: 'ok', subject: rec.subject, tenant: rec.tenant, via: 'cli', resourceId: rec.id, detail: { kind: rec.kind, scopes: rec.scopes } });
  if (c.json) {
    out.write(`${JSON.stringify({ ...view(rec), secret: secret.secret, header }, null, 2)}\n`);
    return 0;
  }
  out.write(
    [
      `Created ${rec.kind === 'api_key' ? 'API key' : 'management token'} ${rec.id} "${rec.name}"`,
      `  tenant ${rec.tenant}, subject ${rec.subject}, scopes ${rec.scopes.join(' ') || '(none)'}, expires ${iso(rec.expiresAt) ?? 'never'}`,
      '',
      'Secret (shown once; only its hash is stored, copy it now):',
      secret.secret,
      '',
      `Send it as the ${header} header:  ${header}: ${secret.secret}`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function revoke(config: GangwayConfig, store: Store, ref: string, tenant: string | undefined, json: boolean, out: NonNullable<Io['stdout']>, err: NonNullable<Io['stderr']>) {
  // An id or a unique prefix of one (8+ characters), as `tokens list` shows it.
  const all = await store.apiKeys.list(tenant ? { tenant } : {});
  const matches = all.filter((k) => k.id === ref || (ref.length >= 8 && k.id.startsWith(ref)));
  const exact = matches.find((k) => k.id === ref);
  if (!exact && matches.length > 1) throw new UsageError(`"${ref}" matches ${matches.length} keys: give more of the id`);
  const key = exact ?? matches[0];
  if (!key) {
    err.write(`gangway tokens: no key with id ${ref}${tenant ? ` in tenant ${tenant}` : ''}\n`);
    return 1;
  }
  const now = await store.apiKeys.revoke(key.id, { tenant: key.tenant });
  if (now) await store.audit.append({ event: 'auth.key.revoke', outcome: 'ok', subject: key.subject, tenant: key.tenant, via: 'cli', resourceId: key.id, detail: { kind: key.kind } });
  const cacheMs = typeof config.auth?.cacheMs === 'number' ? config.auth.cacheMs : 10_000;
  if (json) out.write(`${JSON.stringify({ id: key.id, revoked: true, already: !now, cacheMs })}\n`);
  else out.write(now ? `Revoked ${key.id}. Running servers refuse it within ${cacheMs / 1000} s (auth.cacheMs).\n` : `${key.id} was already revoked.\n`);
  return 0;
}

function headerFor(config: GangwayConfig, kind: ApiKeyKind): string {
  const h = kind === 'api_key' ? config.auth?.apiKeyHeader : config.auth?.managementTokenHeader;
  if (h === false) {
    throw new UsageError(`${kind === 'api_key' ? 'API keys are' : 'management tokens are'} off in this config (auth.${kind === 'api_key' ? 'apiKeyHeader' : 'managementTokenHeader'}: false)`);
  }
  return (h ?? (kind === 'api_key' ? 'x-api-key' : 'x-management-token')).toLowerCase();
}

function knownScopes(config: GangwayConfig): Set<string> {
  const known = new Set(Object.keys(config.auth?.scopes ?? {}));
  for (const list of [config.tools, config.resources, config.resourceTemplates, config.prompts]) {
    for (const d of (list ?? []) as readonly { scopes?: string[] }[]) for (const s of d.scopes ?? []) known.add(s);
  }
  return known;
}

function parseKind(v: string): ApiKeyKind {
  if (v === 'api_key' || v === 'management') return v;
  throw new UsageError(`--kind must be api_key or management (got "${v}")`);
}

function parseScopes(v: string): string[] {
  const scopes = [...new Set(v.split(/[\s,]+/).filter(Boolean))];
  // RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
  const bad = scopes.find((s) => !/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(s));
  if (bad !== undefined) throw new UsageError(`--scopes: "${bad}" is not a valid scope name`);
  return scopes;
}

function label(v: string, what: string): string {
  const t = v.trim();
  if (!t || t.length > 200 || /[\x00-\x1f\x7f]/.test(t)) throw new UsageError(`--${what} must be 1 to 200 printable characters`);
  return t;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A key as shown: never the hash (not a secret, but nothing to do with it either). */
function view(k: ApiKeyRecord) {
  return {
    id: k.id,
    kind: k.kind,
    name: k.name,
    hint: k.hint,
    tenant: k.tenant,
    subject: k.subject,
    scopes: k.scopes,
    createdAt: iso(k.createdAt),
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    state: credentialState({ ...k, usedAt: null }, Date.now()),
  };
}

function table(keys: ApiKeyRecord[]): string {
  if (!keys.length) return 'No keys.\n';
  const day = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().slice(0, 16).replace('T', ' '));
  const rows = [
    ['ID', 'KIND', 'NAME', 'HINT', 'TENANT', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'],
    ...keys.map((k) => {
      const v = view(k);
      return [k.id, k.kind, k.name, k.hint, k.tenant, k.scopes.join(' ') || '-', day(k.createdAt), day(k.expiresAt), day(k.lastUsedAt), v.state];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function cliStore(config: GangwayConfig, cwd: string): string | Store {
  const spec = projectStore(config, cwd, false);
  if (typeof spec === 'object' && 'refused' in spec) throw new UsageError(spec.refused);
  return spec;
}
