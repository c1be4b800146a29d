// What one 2025-era session costs: heap growth per live session, measured by opening N
// sessions in-process (initialize + notifications/initialized, as a client does) after a GC.
// Run with --expose-gc (npm run bench does). Prints one JSON line.
import { createGangway } from '../src/index.ts';
import { benchTools } from './fixtures/tools500.ts';

const N = Number(process.env.BENCH_SESSIONS ?? 5000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const app = createGangway({
  name: 'bench',
  version: '1.0.0',
  store: 'memory',
  logger: { level: 'silent' },
  http: { sessions: { max: N + 10 } },
  tools: benchTools().map((t) => ({ name: t.name, description: t.description, input: t.inputSchema, handler: () => 'ok' })),
});

async function open(i: number): Promise<string> {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.fetch(
      new Request('http://localhost/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    );
  const init = await post({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: { elicitation: {}, sampling: {}, roots: { listChanged: true } },
      clientInfo: { name: `client-${i}`, version: '1.0.0' },
    },
  });
  const id = init.headers.get('mcp-session-id')!;
  await init.text();
  await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': id })).text();
  return id;
}

await open(-1); // warm every code path first
for (let i = 0; i < 3; i++) gc();
const before = process.memoryUsage().heapUsed;
const ids: string[] = [];
for (let i = 0; i < N; i++) ids.push(await open(i));
for (let i = 0; i < 3; i++) gc();
const after = process.memoryUsage().heapUsed;
const idBytes = ids.reduce((n, id) => n + id.length, 0) / N; // our own array of ids, not the server's
const perSession = (after - before) / N - idBytes - 8;
console.log(JSON.stringify({ sessions: N, bytesPerSession: Math.round(perSession) }));
await app.close();
