// Baseline for bench/openapi-start.ts: node with a bare node:http server, reporting like the child.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((_req, res) => res.end('{}'));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const rssReady = process.memoryUsage().rss;
await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, { method: 'POST', body: '{}' })).arrayBuffer();
const phases = { boot: performance.now(), library: 0, manifest: 0, listen: 0 };
process.stdout.write(`${JSON.stringify({ readyAt: Date.now(), phases, rssReady, rssServing: process.memoryUsage().rss, tools: 0, listBytes: 0 })}\n`);
await new Promise(() => {});
