// Gangway itself, configured like the other targets: the same 501 tools, in-memory stores, the
// default logger (GANGWAY_LOG_LEVEL to change it). The environment picks the policy stages, so
// the runner can measure what each one costs (bench/README.md, "Policy stages"):
//   BENCH_GANGWAY_STATELESS=1 -> http.stateless: 2025-era requests without Mcp-Session-Id,
//                                the like-for-like opponent of sdk-stateless; otherwise the
//                                default (2025 eras need initialize + Mcp-Session-Id; the runner
//                                opens one session for the row's style). 2026-07-28 is stateless.
//   BENCH_API_KEY=gwk_...     -> auth on (`auth: { oauth: false }`): the key is stored as a hash
//                                before listen, every request carries it (a cached verdict after
//                                the first); without it callers are anonymous and no limit applies.
//   BENCH_SCOPES=1            -> every tool needs scope `bench:call`, and the key holds it.
//   BENCH_LIMITS=on|off       -> the per-credential rate window (1e9 a minute: counted on every
//                                request, never refusing) and the default concurrency cap (16
//                                per caller), or neither (default: off).
//   BENCH_AUDIT=off|memory|sqlite|sqlite-normal|postgres
//                             -> the audit row per tools/call: off (default), into the in-memory
//                                store, or into a fresh SQLite file (WAL) with synchronous=FULL
//                                (the Store's default: durable before the answer) or NORMAL. The
//                                SQLite store also takes the usage counters and the API key.
//                                `postgres`: the store on Postgres (BENCH_POSTGRES_URL, default
//                                the local `test` database, in a fresh schema dropped at the end)
//                                and the Ephemeral on Redis (BENCH_REDIS_URL, default local): the
//                                multi-process mode, run as one process.
//   BENCH_CHECKPOINT=inline   -> SQLite's own WAL checkpoint inside the commit, instead of the
//                                store's background worker (to measure what the worker buys).
//
// The module is loaded dynamically, so a missing or broken src/ makes this target print
// BENCH_SKIP with the reason instead of failing the whole run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GangwayConfig, Store, ToolDefinition } from '../../src/index.ts';
import { benchTools } from '../fixtures/tools500.ts';
import { BENCH_HOST, benchPort, reportReady, reportSkip } from '../lib/target-child.ts';

type GangwayModule = typeof import('../../src/index.ts');
type StoreModule = typeof import('../../src/store/index.ts');
type SecretsModule = typeof import('../../src/auth/secrets.ts');

let lib: GangwayModule;
let stores: StoreModule;
let secrets: SecretsModule;
try {
  [lib, stores, secrets] = await Promise.all([
    import('../../src/index.ts'),
    import('../../src/store/index.ts'),
    import('../../src/auth/secrets.ts'),
  ]);
} catch (err) {
  reportSkip(`cannot import src/: ${err instanceof Error ? err.message : String(err)}`);
}

const env = process.env;
const apiKey = env.BENCH_API_KEY;
const scoped = env.BENCH_SCOPES === '1';
const limits = env.BENCH_LIMITS ?? 'off';
const audit = env.BENCH_AUDIT ?? 'off';
if (limits !== 'on' && limits !== 'off') reportSkip(`BENCH_LIMITS must be on or off, not ${limits}`);
if (!['off', 'memory', 'sqlite', 'sqlite-normal', 'postgres'].includes(audit)) {
  reportSkip(`BENCH_AUDIT must be off, memory, sqlite, sqlite-normal or postgres, not ${audit}`);
}
if (scoped && !apiKey) reportSkip('BENCH_SCOPES=1 needs BENCH_API_KEY (anonymous callers hold no scope)');

const SCOPE = 'bench:call';
const tools: ToolDefinition[] = benchTools().map((t) =>
  lib.defineTool<{ text?: string }>({
    name: t.name,
    description: t.description,
    input: t.inputSchema,
    ...(t.annotations ? { annotations: t.annotations } : {}),
    ...(scoped ? { scopes: [SCOPE] } : {}),
    handler:
      t.name === 'echo'
        ? (args) => ({ content: [{ type: 'text', text: String(args.text) }] })
        : () => ({ content: [{ type: 'text', text: 'ok' }] }),
  }),
);

// A fresh file per run: the audit table starts empty, and the file goes when the target stops.
let dir: string | undefined;
let sqlite: InstanceType<StoreModule['SqliteStore']> | undefined;
let store: Store | string = 'memory';
let ephemeral = 'memory';
let dropSchema: (() => Promise<void>) | undefined;
if (audit === 'postgres') {
  const pgUrl = env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `gw_bench_${process.pid}_${Date.now()}`;
  store = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`;
  ephemeral = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  dropSchema = async () => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  };
}
if (audit === 'sqlite' || audit === 'sqlite-normal') {
  dir = mkdtempSync(join(tmpdir(), 'gangway-bench-'));
  sqlite = new stores.SqliteStore(join(dir, 'audit.db'), {
    synchronous: audit === 'sqlite' ? 'full' : 'normal',
    backgroundCheckpoint: env.BENCH_CHECKPOINT !== 'inline',
  });
  store = sqlite;
}

const config: GangwayConfig = {
  name: 'bench',
  version: '1.0.0',
  tools,
  store,
  ephemeral,
  http: { path: '/mcp', stateless: env.BENCH_GANGWAY_STATELESS === '1' },
  ...(apiKey ? { auth: { oauth: false } } : {}),
  policy: {
    audit: audit !== 'off',
    // Auth on turns the default limits on (60 a minute would refuse the bench): either a window
    // that counts every request and never refuses, or none at all.
    limits:
      limits === 'on'
        ? { perCredential: { max: 1_000_000_000, windowMs: 60_000 } }
        : { perCredential: false, concurrent: false },
  },
};
// Anonymous and no limits asked for: leave `limits` unset, as a server without auth has it.
if (!apiKey && limits === 'off') delete config.policy!.limits;

let app: ReturnType<GangwayModule['createGangway']>;
try {
  app = lib.createGangway(config);
} catch (err) {
  reportSkip(`createGangway rejected the bench config: ${err instanceof Error ? err.message : String(err)}`);
}

/** The open store's group-commit counter, when it has one (SQLite, Postgres). */
let commits: (() => number) | undefined = sqlite ? () => sqlite.groupCommits : undefined;
if (apiKey) {
  let opened: Store;
  try {
    ({ store: opened } = await app.stores());
  } catch (err) {
    await dropSchema?.().catch(() => undefined);
    reportSkip(`cannot open the stores (${audit}): ${err instanceof Error ? err.message : String(err)}`);
  }
  await opened.apiKeys.create({
    kind: 'api_key',
    keyHash: secrets.hashSecret(apiKey),
    tenant: 'bench',
    subject: 'bench',
    scopes: scoped ? [SCOPE] : [],
  });
  const counted = opened as Store & { groupCommits?: number };
  if (!commits && typeof counted.groupCommits === 'number') commits = () => counted.groupCommits!;
}

const port = benchPort();
await app.listen({ port, host: BENCH_HOST });
reportReady(
  port,
  async () => {
    await app.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await dropSchema?.();
  },
  // The runner turns these into group commits per second and calls per commit.
  commits ? () => ({ groupCommits: commits() }) : undefined,
);
