// Gangway itself, configured like the other targets: the same 501 tools, no auth (anonymous),
// in-memory stores, the default logger (GANGWAY_LOG_LEVEL to change it).
//   BENCH_GANGWAY_STATELESS=1 -> http.stateless: 2025-era requests without Mcp-Session-Id,
//                                the like-for-like opponent of sdk-stateless;
//   otherwise                  -> the default: 2025 eras need initialize + Mcp-Session-Id
//                                (the runner opens one session for the row's style).
// 2026-07-28 requests are stateless either way.
//
// NOTE: written against src/index.ts as it stood while src/ was still being built; if the
// config shape changes, tsc flags this file (the types come from src/). The module is still
// loaded dynamically, so a missing or broken src/ makes this target print BENCH_SKIP with the
// reason instead of failing the whole run.
import { createHash } from 'node:crypto';
import type { GangwayConfig, ToolDefinition } from '../../src/index.ts';
import { benchTools } from '../fixtures/tools500.ts';
import { BENCH_HOST, benchPort, reportReady, reportSkip } from '../lib/target-child.ts';

type GangwayModule = typeof import('../../src/index.ts');

let lib: GangwayModule;
try {
  lib = await import('../../src/index.ts');
} catch (err) {
  reportSkip(`cannot import src/index.ts: ${err instanceof Error ? err.message : String(err)}`);
}

const tools: ToolDefinition[] = benchTools().map((t) =>
  lib.defineTool<{ text?: string }>({
    name: t.name,
    description: t.description,
    input: t.inputSchema,
    ...(t.annotations ? { annotations: t.annotations } : {}),
    handler:
      t.name === 'echo'
        ? (args) => ({ content: [{ type: 'text', text: String(args.text) }] })
        : () => ({ content: [{ type: 'text', text: 'ok' }] }),
  }),
);

const config: GangwayConfig = {
  name: 'bench',
  version: '1.0.0',
  tools,
  store: 'memory',
  ephemeral: 'memory',
  http: { path: '/mcp', stateless: process.env.BENCH_GANGWAY_STATELESS === '1' },
  // BENCH_API_KEY -> auth on: every request resolves its key (a cached verdict after the first).
  ...(process.env.BENCH_API_KEY ? { auth: { oauth: false } } : {}),
};

let app: ReturnType<GangwayModule['createGangway']>;
try {
  app = lib.createGangway(config);
} catch (err) {
  reportSkip(`createGangway rejected the bench config: ${err instanceof Error ? err.message : String(err)}`);
}

if (process.env.BENCH_API_KEY) {
  const { store } = await app.stores();
  const keyHash = createHash('sha256').update(process.env.BENCH_API_KEY).digest('base64url');
  await store.apiKeys.create({ kind: 'api_key', keyHash, tenant: 'bench', subject: 'bench', scopes: [] });
}

const port = benchPort();
await app.listen({ port, host: BENCH_HOST });
reportReady(port, () => app.close());
