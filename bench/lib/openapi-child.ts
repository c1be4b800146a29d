// Child of bench/openapi-start.ts: start from a manifest, answer one tools/list, report once as
// a JSON line with the time of each phase (ms since this process started).

const [manifest, mode] = process.argv.slice(2);
const since = () => performance.now(); // ms since process start (performance.timeOrigin)
const t0 = since();
const { createGangway } = await import('../../src/index.ts');
const tLibrary = since();
const app = createGangway({
  name: 'bench-openapi',
  version: '1',
  store: 'memory',
  logger: { level: 'silent' },
  http: { stateless: true },
  openapi: { manifest: manifest!, mode: mode as 'all' | 'meta', upstream: { baseUrl: 'http://127.0.0.1:9' } },
});
const tRegistry = since();
const { url } = await app.listen({ port: 0 });
const tReady = since();
const rssReady = process.memoryUsage().rss;
const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
});
const listBytes = (await res.arrayBuffer()).byteLength;
const phases = { boot: t0, library: tLibrary - t0, manifest: tRegistry - tLibrary, listen: tReady - tRegistry };
process.stdout.write(`${JSON.stringify({ readyAt: Date.now(), phases, rssReady, rssServing: process.memoryUsage().rss, tools: app.registry.toolList.length, listBytes })}\n`);
await new Promise(() => {});
