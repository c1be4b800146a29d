import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

/**
 * The package as npm publishes it, used as a project that installed it would: `npm pack` (which
 * builds dist/ through the prepare script), the tarball unpacked into a project's node_modules,
 * then plain Node with no tsx and no source condition, TypeScript against the shipped .d.ts, and
 * the installed `gangway` command. The project sits under the repository so that the package's
 * own dependencies resolve from its node_modules, as they would from the project's.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const packs = mkdtempSync(join(tmpdir(), 'gangway-pack-'));
mkdirSync(join(ROOT, '.cache'), { recursive: true });
const project = mkdtempSync(join(ROOT, '.cache', 'consumer-'));
after(() => {
  rmSync(packs, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
});

/** The environment of a project that knows nothing of this checkout: no --conditions=gangway-source. */
const plain = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
};

const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: project, env: plain(), encoding: 'utf8', timeout: 60_000 });

describe('the published package', { timeout: 240_000 }, () => {
  let files: string[] = [];

  before(() => {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', packs], { cwd: ROOT, env: plain(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
    const [packed] = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed!.files.map((f) => f.path);
    const installed = join(project, 'node_modules', 'gangway');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(packs, packed!.filename), '-C', installed, '--strip-components=1']);
    // Its own package.json, so 'gangway' resolves to node_modules and not to this checkout.
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  });

  it('ships compiled JavaScript and declarations, not the sources or the tests', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/gangway.js', 'package.json', 'README.md']) assert.ok(files.includes(f), `${f} is in the tarball`);
    assert.deepEqual(files.filter((f) => /^(src|test|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('examples/'))), []);
  });

  it('serves from plain Node: import { createGangway } from "gangway", a ToolError reaches the client', () => {
    writeFileSync(
      join(project, 'app.mjs'),
      `import { createGangway, ToolError } from 'gangway';
const app = createGangway({ name: 'consumer', version: '1.0.0', store: 'memory', tools: [
  { name: 'find_order', description: 'Finds an order', input: { type: 'object' }, handler: () => { throw new ToolError('Order not found'); } },
] });
const post = (body, session) => app.fetch(new Request('http://localhost/mcp', {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(session ? { 'mcp-session-id': session } : {}) },
  body: JSON.stringify(body),
}));
const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } });
const call = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'find_order', arguments: {} } }, init.headers.get('mcp-session-id'));
console.log(JSON.stringify({ from: import.meta.resolve('gangway'), answer: await call.json() }));
await app.close();
`,
    );
    const printed = JSON.parse(node(['app.mjs'])) as { from: string; answer: { result: unknown } };
    assert.match(printed.from, /\/node_modules\/gangway\/dist\/index\.js$/);
    assert.deepEqual(printed.answer.result, { content: [{ type: 'text', text: 'Order not found' }], isError: true });
  });

  it('loads with require() in a CommonJS file (require of ES modules, Node 20.19+)', () => {
    writeFileSync(
      join(project, 'app.cjs'),
      `const { createGangway, ToolError } = require('gangway');
const app = createGangway({ name: 'consumer', version: '1.0.0', store: 'memory' });
console.log(JSON.stringify({ from: require.resolve('gangway'), fetch: typeof app.fetch, toolError: new ToolError('x') instanceof ToolError }));
void app.close();
`,
    );
    const printed = JSON.parse(node(['app.cjs'])) as { from: string; fetch: string; toolError: boolean };
    assert.match(printed.from, /\/node_modules\/gangway\/dist\/index\.js$/);
    assert.equal(printed.fetch, 'function');
    assert.equal(printed.toolError, true);
  });

  it('type-checks a TypeScript project against the shipped declarations', () => {
    writeFileSync(
      join(project, 'server.ts'),
      `import { createGangway, defineTool, type GangwayConfig } from 'gangway';
const echo = defineTool<{ n: string }>({ name: 'echo', description: 'Echoes n', input: { type: 'object' }, handler: ({ n }) => n });
const config: GangwayConfig = { name: 'consumer', version: '1.0.0', tools: [echo] };
export const app = createGangway(config);
// @ts-expect-error: a config needs its version (the declarations are read, not taken as any)
createGangway({ name: 'consumer' });
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['server.ts'] }),
    );
    node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']); // throws with tsc's errors on exit code 2
  });

  it('runs the installed gangway command on a gangway.config.ts', async () => {
    writeFileSync(
      join(project, 'gangway.config.ts'),
      `import { defineConfig, ToolError } from 'gangway';
export default defineConfig({ name: 'consumer', version: '1.0.0', store: 'memory', tools: [
  { name: 'find_order', description: 'Finds an order', input: { type: 'object' }, handler: (): string => { throw new ToolError('Order not found'); } },
] });
`,
    );
    const child = spawn(process.execPath, [join(project, 'node_modules', 'gangway', 'bin', 'gangway.js'), 'serve', '--port', '0'], { cwd: project, env: { ...plain(), CI: 'true' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner:\n${out}`)), 30_000);
        child.stdout.on('data', () => {
          const m = /MCP endpoint\s+(\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        void exited.then((code) => reject(new Error(`exited ${code}:\n${out}`)));
      });
      const post = (body: unknown, session?: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(session ? { 'mcp-session-id': session } : {}) }, body: JSON.stringify(body) });
      const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } });
      const call = (await (await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'find_order', arguments: {} } }, init.headers.get('mcp-session-id')!)).json()) as { result: unknown };
      assert.deepEqual(call.result, { content: [{ type: 'text', text: 'Order not found' }], isError: true });
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, out);
  });
});
